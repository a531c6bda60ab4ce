"""AsyncContainers: the Direct API (``/containers``), async."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from . import protocol_generated as events
from .discovery import ServerInfo
from .errors import ImageNotFound
from .gateway import Gateway
from .models import ContainerInfo, Metrics, PullProgress
from .snapshots import AsyncSnapshots, Checkpoint, ContainerSaves, Snapshot
from .transport import Transport
from .tree import tree_to_wire
from .webcontainer import AsyncWebContainer, attach_on, boot_on, connect


class AsyncContainers:
    """The containers of this server's user: list, create, get, delete, start, stop,
    restart; ``boot()`` and ``attach()`` give WebContainers on the same connection."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        server: ServerInfo | None = None,
        timeout: float = 120.0,
    ):
        self.transport: Transport = connect(url, token, server, timeout)
        self.snapshots = AsyncSnapshots(self.transport)

    @property
    def server(self) -> ServerInfo:
        return self.transport.server

    async def list(self) -> list[ContainerInfo]:
        answer = await self.transport.request("GET", "containers")
        return [ContainerInfo.from_json(item) for item in answer.json()]

    async def create(
        self,
        name: str | None = None,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        files: Mapping | None = None,
        ports: list[int] | None = None,
        snapshot: str | Snapshot | None = None,
        on_pull: Callable[[PullProgress], object] | None = None,
    ) -> ContainerInfo:
        """Create and start a container (from one of the user's snapshots when
        ``snapshot`` names one); ``files`` (a FileSystemTree) are written into its workdir
        and ``ports`` announced before this returns. ``on_pull(progress)`` is called as
        the server pulls an image for it (layers, bytes; "done" or "failed" at the end);
        a failed pull raises ImageNotFound saying why."""
        body: dict = {}
        if snapshot is not None:
            body["snapshot"] = snapshot.id if isinstance(snapshot, Snapshot) else snapshot
        if name is not None:
            body["name"] = name
        if image is not None:
            body["image"] = image
        if env is not None:
            body["env"] = dict(env)
        if files is not None:
            body["files"] = tree_to_wire(files)
        if ports is not None:
            body["ports"] = list(ports)
        if on_pull is None:
            answer = await self.transport.request("POST", "containers", json_body=body)
            return ContainerInfo.from_json(answer.json())

        pulling, ended = False, asyncio.Event()

        def push(event: str, data: dict) -> None:
            nonlocal pulling
            if event == events.IMAGE_PULL and (image is None or data.get("image") == image):
                pulling = True
                if data.get("status") != "pulling":
                    ended.set()
                on_pull(PullProgress.from_json(data))

        # A socket joined to nothing hears the server's pulls; open before the request.
        socket = Gateway(self.transport, None, push)
        await socket.connect()
        try:
            failed_pull = False
            try:
                answer = await self.transport.request("POST", "containers", json_body=body)
            except ImageNotFound:
                failed_pull = True
                raise
            finally:
                if pulling or failed_pull:  # its last push went before the answer
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(ended.wait(), 1.0)
        finally:
            await socket.close()
        return ContainerInfo.from_json(answer.json())

    async def get(self, container_id: str) -> ContainerInfo:
        answer = await self.transport.request("GET", f"containers/{container_id}")
        return ContainerInfo.from_json(answer.json())

    async def metrics(self, container_id: str) -> Metrics:
        """CPU, memory, processes, disk and network use of a running container now (the
        engine takes about a second)."""
        answer = await self.transport.request("GET", f"containers/{container_id}/metrics")
        return Metrics.from_json(answer.json())

    async def delete(self, container_id: str) -> None:
        await self.transport.request("DELETE", f"containers/{container_id}")

    async def start(self, container_id: str) -> ContainerInfo:
        return await self._action(container_id, "start")

    async def snapshot(self, container_id: str, name: str | None = None) -> Snapshot:
        """Save the container's file system (workdir, installed packages)."""
        return await ContainerSaves(self.transport, container_id).snapshot(name)

    async def fork(self, container_id: str, count: int = 1) -> list[ContainerInfo]:
        """``count`` new running copies of the container's file system."""
        return await ContainerSaves(self.transport, container_id).fork(count)

    async def checkpoint(self, container_id: str) -> Checkpoint:
        """Record the workdir's files changed since the last checkpoint."""
        return await ContainerSaves(self.transport, container_id).checkpoint()

    async def checkpoints(self, container_id: str) -> list[Checkpoint]:
        return await ContainerSaves(self.transport, container_id).checkpoints()

    async def restore_checkpoint(self, container_id: str, checkpoint: str | Checkpoint,
                                 paths: list[str] | None = None) -> dict[str, str]:
        """The workdir (or ``paths``) as at ``checkpoint``; what changed."""
        return await ContainerSaves(self.transport, container_id).restore(checkpoint, paths)

    async def stop(self, container_id: str) -> ContainerInfo:
        return await self._action(container_id, "stop")

    async def restart(self, container_id: str) -> ContainerInfo:
        return await self._action(container_id, "restart")

    async def _action(self, container_id: str, action: str) -> ContainerInfo:
        answer = await self.transport.request("POST", f"containers/{container_id}/{action}")
        return ContainerInfo.from_json(answer.json())

    async def boot(
        self, files: Mapping | None = None, workdir_name: str | None = None
    ) -> AsyncWebContainer:
        """``WebContainer.boot`` on this connection."""
        return await boot_on(self.transport, files, workdir_name, owns_transport=False)

    async def attach(self, container_id: str) -> AsyncWebContainer:
        """An existing container as a WebContainer, on this connection."""
        return await attach_on(self.transport, container_id, owns_transport=False)

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> AsyncContainers:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
