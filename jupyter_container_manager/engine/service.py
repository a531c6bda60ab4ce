"""DockerService: the one object handlers talk to; it owns the engine and its parts."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable

from ..config import ContainerManager
from ..core.errors import ContainerManagerError, ContainerNotFound
from ..core.fstree import Tree, tree_to_tar
from ..core.image_policy import image_allowed
from ..core.models import ContainerInfo
from .agent import Agents
from .containers import ContainerLifecycle
from .engine import DockerEngine
from .files import ContainerFiles
from .idle import IdleReaper
from .network_setup import NetworkSetup
from .pool import WarmPool
from .port_tunnel import PortTunnels
from .processes import ContainerProcesses

RemovalHook = Callable[[str], object]
SHUTDOWN_TIMEOUT = 20.0  # seconds a stopping server gives on_shutdown


class DockerService:
    """Containers, their files and their processes, on one Docker engine."""

    def __init__(self, settings: ContainerManager, log: logging.Logger | None = None):
        self.settings = settings
        self.log = log or logging.getLogger("jupyter_container_manager")
        self.engine = DockerEngine(
            settings.docker_url,
            workers=settings.docker_workers,
            timeout=settings.docker_timeout,
        )
        # ca_certificates is read and checked here, once, at server start.
        self.network = NetworkSetup(settings, self.log)
        self.containers = ContainerLifecycle(self.engine, settings, self.network)
        self.agents = Agents(self.engine, enabled=settings.agent)
        self.files = ContainerFiles(self.engine, settings, self.agents)
        self.processes = ContainerProcesses(self.engine, self.agents)
        self.tunnels = PortTunnels(self.agents)
        self._removal_hooks: list[RemovalHook] = [self.processes.forget_container]
        self.pool = WarmPool(self.containers, settings.warm_pool_size, settings.image, self.log)
        self.idle = IdleReaper(
            self.containers,
            settings.idle_timeout,
            self.log,
            remove_timeout=settings.idle_remove_timeout,
            remove=self._remove_idle,
        )
        self.containers.activity_listeners.append(self.idle.touch)

    def start_background_tasks(self) -> None:
        """Start what runs for the server's whole life (needs the running event loop)."""
        self.idle.start()
        self._sweep_task = asyncio.ensure_future(self._sweep_temporaries())
        if self.network.problem is None and image_allowed(
            self.settings.image, self.settings.allowed_images
        ):
            self.pool.start()

    async def _sweep_temporaries(self) -> None:
        """At server start: remove from the running containers the temporaries of writes
        an earlier server left unfinished (killed mid-upload). Containers started later
        are swept on their first use (ContainerFiles.sweep_soon). Then the disks
        (engine/disk.py) of containers that are gone."""
        try:
            infos = await self.containers.list()
        except Exception as err:  # noqa: BLE001 - engine down: first uses sweep later
            self.log.debug("no sweep of temporaries at start: %r", err)
            return
        for info in infos:
            if info.status == "running":
                self.files.sweep_soon(info)
        try:
            await self.containers.sweep_disks()
        except Exception as err:  # noqa: BLE001 - the next server start tries again
            self.log.warning("disks of removed containers not swept: %r", err)

    def on_container_removed(self, hook: RemovalHook) -> None:
        """Call ``hook(container_id)`` (a function or coroutine function) after a removal,
        so sessions, processes, watchers and proxies of that container can end."""
        self._removal_hooks.append(hook)

    async def create_container(
        self,
        *,
        name: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        files: Tree | None = None,
        ports: list[int] | None = None,
        workdir: str | None = None,
    ) -> ContainerInfo:
        """Create and start a container and write ``files`` into its workdir before
        answering; a container whose files cannot be written is removed again."""
        self.network.check()  # an unusable ca_certificates: not even a pooled one
        if files:
            tree_to_tar(files)  # refuse a bad tree before creating anything
        info = None
        if self._poolable(name=name, image=image, env=env, ports=ports, workdir=workdir):
            async with self.containers.quota_slot():
                info = await self.pool.take()
        if info is None:
            info = await self.containers.create(
                name=name, image=image, env=env, ports=ports, workdir=workdir
            )
        if files:
            try:
                # In place: nobody sees this container before its files are written,
                # and it is removed if they cannot be (no temporaries needed).
                await self.files.mount(info, files, atomic=False)
            except ContainerManagerError:
                await self.containers.delete(info.id)
                raise
        return info

    def _poolable(self, *, name, image, env, ports, workdir) -> bool:
        """Whether a warm-pool container is what this create asks for (the defaults)."""
        settings = self.settings
        return (
            not name
            and not env
            and not ports
            and workdir in (None, settings.workdir)
            and image in (None, settings.image)
            and image_allowed(settings.image, settings.allowed_images)
        )

    async def delete_container(self, container_id: str) -> None:
        await self.containers.delete(container_id)
        await self.container_removed(container_id)

    async def _remove_idle(self, container_id: str) -> None:
        """The idle reaper's removal: a delete, hooks included (sockets, terminals,
        watchers end); one removed meanwhile by someone else is no error."""
        try:
            await self.containers.delete(container_id)
        except ContainerNotFound:
            pass
        await self.container_removed(container_id)

    async def container_removed(self, container_id: str) -> None:
        for hook in list(self._removal_hooks):
            try:
                result = hook(container_id)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one failing hook must not keep the others from running
                self.log.exception("removal hook %r failed for %s", hook, container_id)

    async def apply_shutdown_policy(self, timeout: float = SHUTDOWN_TIMEOUT) -> list[str]:
        """``on_shutdown``: stop or remove the owner's containers (their ids), at most
        ``timeout`` seconds in all; "keep" does nothing."""
        policy = self.settings.on_shutdown
        if policy == "keep":
            return []

        async def apply(info: ContainerInfo) -> str | None:
            try:
                if policy == "remove":
                    await self.delete_container(info.id)
                elif info.status == "running":
                    await self.containers.stop(info.id)
                else:
                    return None
            except Exception as err:  # noqa: BLE001 - one failure must not stop the rest
                self.log.warning("on_shutdown %s of %s failed: %s", policy, info.id, err)
                return None
            return info.id

        async def apply_all() -> list[str]:
            infos = await self.containers.list()
            done = await asyncio.gather(*(apply(info) for info in infos))
            return [container_id for container_id in done if container_id]

        try:
            done = await asyncio.wait_for(apply_all(), timeout)
        except Exception as err:  # noqa: BLE001 - engine down or too slow: leave them
            self.log.warning("on_shutdown %s did not finish: %r", policy, err)
            return []
        self.log.info("on_shutdown %s: %d container(s)", policy, len(done))
        return done

    async def open_port(self, info: ContainerInfo, port: int, timeout: float):
        """A stream (Tornado IOStream) to ``port`` in a running container, whether its
        server listens on all addresses or on the container's loopback only."""
        return await self.tunnels.open(info.docker_id, info.address, port, timeout)

    async def port_reachable(self, info: ContainerInfo, port: int) -> bool:
        """Whether a preview of ``port`` reaches a server in the container now."""
        return await self.tunnels.reachable(info.docker_id, info.address, port)

    async def close(self) -> None:
        task = getattr(self, "_sweep_task", None)
        if task is not None:
            task.cancel()
        await self.files.close()
        self.tunnels.close()
        self.agents.close()
        await self.pool.close()
        await self.idle.close()
        await self.engine.close()
