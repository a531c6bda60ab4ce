"""Container lifecycle: create, find by label, start, stop, restart, remove.

Docker is the source of truth. A managed container is found again by its labels (public
id and owner), never through an in-memory map, so a restarted server adopts its
containers and a container without our labels does not exist for this API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncio
import contextlib
import datetime as dt
import re
import time

import docker.errors
import docker.types
from docker.models.containers import RUN_HOST_CONFIG_KWARGS

from ..core.container_user import UnknownUser, user_spec
from ..core.errors import (
    BadRequest,
    Conflict,
    ContainerNotFound,
    ContainerNotRunning,
    ImageNotAllowed,
    ImageNotFound,
    QuotaExceeded,
    Unprocessable,
)
from ..core.image_policy import image_allowed
from ..core.models import (
    LABEL_ID,
    LABEL_OWNER,
    LABEL_SETUP,
    ContainerInfo,
    attrs_from_summary,
    docker_name,
    is_container_id,
    is_pooled,
    make_labels,
    new_container_id,
    owner_filter,
    pool_name,
)
from .docker_backend import DockerBackend
from .idle import IDLE_STOP_EXIT_CODE, IDLE_STOP_SIGNAL, parse_docker_time
from .network import create_published
from .network_setup import NetworkSetup
from .users import ImageUsers, own_workdir

if TYPE_CHECKING:
    from ..manager import ContainerManager

STOP_TIMEOUT = 5  # seconds between SIGTERM and SIGKILL on stop and restart
# Keeps the container alive; the init process forwards SIGTERM, so a stop is immediate.
KEEP_ALIVE = ["sleep", "2147483647"]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ContainerLifecycle:
    """Lifecycle of the containers of one owner."""

    def __init__(
        self, engine: DockerBackend, settings: ContainerManager, network: NetworkSetup | None = None
    ):
        self.engine = engine
        self.settings = settings
        # Proxy variables and CA bundle of every new container (engine/network_setup.py).
        self.network = network or NetworkSetup(settings)
        self.users = ImageUsers(settings.user, settings.extra_labels)
        unknown = sorted(set(settings.extra_host_config) - {*RUN_HOST_CONFIG_KWARGS, "volumes"})
        if unknown:
            raise ValueError(
                f"c.ContainerManager.extra_host_config: {', '.join(map(repr, unknown))} "
                "are not host-config options of docker-py (e.g. shm_size, runtime, "
                "device_requests)"
            )
        # Quota places held by creates in flight (quota_slot).
        self._quota_lock = asyncio.Lock()
        self._quota_pending = 0

    @property
    def owner(self) -> str:
        return self.settings.owner

    # --- reading -------------------------------------------------------------------

    async def list(self) -> list[ContainerInfo]:
        def list_owned(client):
            found = client.api.containers(all=True, filters=owner_filter(self.owner))
            infos = []
            for summary in found:
                if is_pooled(summary):
                    continue
                if summary.get("State") == "created":
                    # Being started: the engine holds its lock until the start is done
                    # and an inspect would wait for it; the summary says enough.
                    infos.append(ContainerInfo.from_attrs(attrs_from_summary(summary)))
                    continue
                try:
                    attrs = client.api.inspect_container(summary["Id"])
                except docker.errors.NotFound:
                    continue  # removed between list and inspect
                infos.append(ContainerInfo.from_attrs(attrs))
            return infos

        infos = await self.engine.read(list_owned)
        return sorted(infos, key=lambda info: (info.created, info.id))

    async def get(self, container_id: str) -> ContainerInfo:
        """The container of this owner with that public id, else ContainerNotFound. A
        read: not activity (ContainerManager.touch is)."""
        if not is_container_id(container_id):
            raise ContainerNotFound(container_id)

        def inspect(client):
            try:
                return client.api.inspect_container(docker_name(container_id))
            except docker.errors.NotFound:
                return None

        attrs = await self.engine.read(inspect)
        labels = ((attrs or {}).get("Config") or {}).get("Labels") or {}
        if labels.get(LABEL_ID) != container_id or labels.get(LABEL_OWNER) != self.owner:
            raise ContainerNotFound(container_id)
        return ContainerInfo.from_attrs(attrs)

    async def require_running(self, container_id: str) -> ContainerInfo:
        info = await self.get(container_id)
        if info.status != "running":
            raise ContainerNotRunning(container_id, info.status)
        return info

    # --- changing ------------------------------------------------------------------

    async def create(self, *, pooled: bool = False, **options) -> ContainerInfo:
        """Create and start a container; answers once it runs. A ``pooled`` one waits in
        the warm pool (see engine/pool.py) under a name no route finds, and does not
        count against the owner's quota."""
        if pooled:
            return await self._create(pooled=True, **options)
        async with self.quota_slot():
            return await self._create(**options)

    async def _create(
        self,
        *,
        name: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        ports: list[int] | None = None,
        workdir: str | None = None,
        pooled: bool = False,
    ) -> ContainerInfo:
        self.network.check()  # an unusable ca_certificates: nothing is created
        for key in env or {}:
            if not _ENV_NAME.match(key):
                raise BadRequest(f"env: {key!r} is not a valid variable name")
        image = image or self.settings.image
        if not image_allowed(image, self.settings.allowed_images):
            raise ImageNotAllowed(image, list(self.settings.allowed_images))
        container_id = new_container_id()
        workdir = workdir or self.settings.workdir
        ports = sorted(set(ports or []))
        labels = make_labels(
            container_id=container_id,
            owner=self.owner,
            name=name or f"container-{container_id[:8]}",
            workdir=workdir,
            created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            ports=ports,
            extra=self.settings.extra_labels,
        )
        if pooled and self.network.digest:
            labels[LABEL_SETUP] = self.network.digest
        memory = self.settings.memory_bytes
        options = dict(
            image=image,
            command=KEEP_ALIVE,
            name=pool_name(container_id) if pooled else docker_name(container_id),
            labels=labels,
            working_dir=workdir,
            environment=self.network.environment(env) or None,
            detach=True,
            init=True,
            mem_limit=memory,
            memswap_limit=memory,
            cpu_shares=self.settings.cpu_shares,
            pids_limit=self.settings.pids_limit,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            hostname=f"jcm-{container_id[:8]}",
            **self._baseline(),
        )
        # The administrator's extra host config (it may open up the host: see its help).
        options.update(self.settings.extra_host_config)
        def create_and_start(client):
            try:
                try:
                    ids = self.users.user_for(client, image)
                except docker.errors.ImageNotFound:
                    self._pull(client, image)
                    ids = self.users.user_for(client, image)
            except UnknownUser as err:
                raise Unprocessable(f"{err} (c.ContainerManager.user)") from None
            options["user"] = user_spec(ids)
            try:
                container = client.containers.create(**options)
            except docker.errors.APIError as err:
                raise Unprocessable(
                    f"The Docker engine refused the container: {err.explanation}"
                ) from err
            try:
                self.network.install(client, container.id, container.attrs["Image"])
            except docker.errors.APIError as err:
                container.remove(force=True)
                raise Unprocessable(
                    "The container was created but its CA bundle could not be put in "
                    f"(c.ContainerManager.ca_certificates): {err.explanation}"
                ) from err
            try:
                if ids:
                    own_workdir(client, container.id, workdir, ids)
                container.start()
            except docker.errors.APIError as err:
                container.remove(force=True)
                raise Unprocessable(
                    f"The container was created but could not start: {err.explanation}"
                ) from err
            container.reload()
            return container.attrs

        if self.settings.publish_ports and ports:  # on 127.0.0.1:8000 and up
            attrs = await self.engine.run(create_published, create_and_start, options, ports)
        else:
            attrs = await self.engine.run(create_and_start)
        return ContainerInfo.from_attrs(attrs)

    def _baseline(self) -> dict:
        """Host config every container gets from the settings, never from the caller:
        a hard CPU cap, the nofile ulimit, log rotation; not privileged, no devices and
        no binds (so never the Docker socket). The engine's default seccomp profile
        stays: no security option unconfines it."""
        settings = self.settings
        options: dict = dict(
            privileged=False,
            devices=[],
            volumes={},
            log_config=docker.types.LogConfig(
                type=docker.types.LogConfig.types.JSON,
                config={"max-size": settings.log_max_size, "max-file": str(settings.log_max_files)},
            ),
        )
        if settings.cpu_limit:
            options["nano_cpus"] = int(round(settings.cpu_limit * 1e9))
        if settings.nofile_limit:
            limit = settings.nofile_limit
            options["ulimits"] = [docker.types.Ulimit(name="nofile", soft=limit, hard=limit)]
        return options

    def _pull(self, client, image: str) -> None:
        how = (
            f"Image {image!r} is not on the Docker engine. Pull or build it "
            f"(`docker pull {image}`, or `bash .ci/image.sh {image}` for the offline "
            "default), or choose another image (c.ContainerManager.image)."
        )
        if not self.settings.pull_missing_images:
            raise ImageNotFound(how)
        try:
            client.images.pull(image)
        except (docker.errors.APIError, docker.errors.DockerException) as err:
            raise ImageNotFound(f"{how} Pulling it failed: {err}") from err

    async def delete(self, container_id: str) -> None:
        info = await self.get(container_id)

        def remove(client, attempts: int = 3):
            # Of concurrent deletes of one id only the one whose removal Docker performs
            # succeeds; the others find it gone (404) or being removed (409): not found.
            # A kill racing a stop or restart of the same container can fail with a 500
            # ("could not kill", "did not receive an exit event"): the removal is tried
            # again, as `docker rm -f` would be by hand.
            for attempt in range(attempts):
                try:
                    client.api.remove_container(info.docker_id, force=True, v=True)
                    return
                except docker.errors.NotFound:
                    raise ContainerNotFound(container_id) from None
                except docker.errors.APIError as err:
                    explanation = str(err.explanation or "").lower()
                    if err.status_code == 409 or "removal" in explanation:
                        raise ContainerNotFound(container_id) from None
                    if attempt == attempts - 1:
                        raise
                    time.sleep(0.2)

        await self.engine.run(remove)

    async def start(self, container_id: str) -> ContainerInfo:
        return await self._act(container_id, "start", lambda c, d: c.api.start(d))

    async def stop(self, container_id: str) -> ContainerInfo:
        return await self._act(
            container_id, "stop", lambda c, d: c.api.stop(d, timeout=STOP_TIMEOUT)
        )

    async def restart(self, container_id: str) -> ContainerInfo:
        return await self._act(
            container_id, "restart", lambda c, d: c.api.restart(d, timeout=STOP_TIMEOUT)
        )

    async def _act(self, container_id: str, verb: str, action) -> ContainerInfo:
        """``action(client, docker_id)``; a container removed meanwhile (Docker's 404, or
        its 409 or 500 "marked for removal") is not found, another 409 a conflict."""
        info = await self.get(container_id)

        def act(client):
            try:
                action(client, info.docker_id)
            except docker.errors.NotFound:
                raise ContainerNotFound(container_id) from None
            except docker.errors.APIError as err:
                if "removal" in str(err.explanation or "").lower():  # 409 or 500
                    raise ContainerNotFound(container_id) from None
                if err.status_code != 409:
                    raise
                raise Conflict(
                    f"Cannot {verb} container {container_id!r} now: it is changing state",
                    code="ECONFLICT",
                ) from None

        await self.engine.run(act)
        return await self.get(container_id)

    # --- the idle reaper (engine/idle.py) -------------------------------------------

    async def idle_stop(self, info: ContainerInfo) -> None:
        """Stop a running container for idleness: SIGUSR1 to its keep-alive process, so
        Docker records exit code 138, the reaper's mark (see engine/idle.py); a plain
        stop if it has not ended within STOP_TIMEOUT. Not activity."""

        def stop(client):
            try:
                client.api.kill(info.docker_id, signal=IDLE_STOP_SIGNAL)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as err:
                if err.status_code == 409:  # not running any more
                    return
                raise
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                try:
                    state = client.api.inspect_container(info.docker_id).get("State") or {}
                except docker.errors.NotFound:
                    return
                if not state.get("Running"):
                    return
                time.sleep(0.1)
            with contextlib.suppress(docker.errors.APIError):
                client.api.stop(info.docker_id, timeout=STOP_TIMEOUT)

        await self.engine.run(stop)

    async def idle_stopped_at(self, container_id: str) -> float | None:
        """When the idle reaper stopped this container of ours (seconds since the epoch),
        or None: not ours, running, or its last stop was not the reaper's. Not activity."""

        def inspect(client):
            try:
                return client.api.inspect_container(docker_name(container_id))
            except docker.errors.NotFound:
                return None

        attrs = await self.engine.run(inspect) or {}
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        state = attrs.get("State") or {}
        if labels.get(LABEL_ID) != container_id or labels.get(LABEL_OWNER) != self.owner:
            return None
        if state.get("Status") != "exited" or state.get("ExitCode") != IDLE_STOP_EXIT_CODE:
            return None
        return parse_docker_time(state.get("FinishedAt") or "")

    @contextlib.asynccontextmanager
    async def quota_slot(self):
        """Hold one of the owner's ``max_containers_per_user`` places while a container is
        made or taken from the pool (QuotaExceeded when none is left). Looks and
        reservations take turns, so parallel creates cannot all pass one look at the
        engine (security case 21). A container being made counts from its reservation
        until its create answers, which may count it twice meanwhile: the quota errs
        toward refusing. One server's creates only: two servers of one owner can race."""
        async with self._quota_lock:
            await self.check_quota(pending=self._quota_pending)
            self._quota_pending += 1
        try:
            yield
        finally:
            self._quota_pending -= 1

    async def check_quota(self, pending: int = 0) -> None:
        """QuotaExceeded when the owner has ``max_containers_per_user`` containers, with
        ``pending`` ones being made (the warm pool's are not theirs yet and do not count)."""
        limit = self.settings.max_containers_per_user
        if limit and len(await self._owned_docker_ids()) + pending >= limit:
            raise QuotaExceeded(
                f"Owner {self.owner!r} already has {limit} containers, the most allowed "
                "(c.ContainerManager.max_containers_per_user); delete one first."
            )

    async def _owned_docker_ids(self) -> list[str]:
        found = await self.engine.read(
            lambda c: c.api.containers(all=True, filters=owner_filter(self.owner))
        )
        return [summary["Id"] for summary in found if not is_pooled(summary)]

    # --- the warm pool (engine/pool.py) ---------------------------------------------

    async def pooled(self) -> list[dict]:
        """The owner's containers waiting in the pool: ``{docker_id, id, image, running,
        setup}`` (``setup``: the digest of the network setup it was made with)."""
        found = await self.engine.run(
            lambda c: c.api.containers(all=True, filters=owner_filter(self.owner))
        )
        return [
            {
                "docker_id": summary["Id"],
                "id": (summary.get("Labels") or {}).get(LABEL_ID, ""),
                "image": summary.get("Image", ""),
                "running": summary.get("State") == "running",
                "setup": (summary.get("Labels") or {}).get(LABEL_SETUP, ""),
            }
            for summary in found
            if is_pooled(summary)
        ]

    async def hand_out(self, docker_id: str, container_id: str) -> ContainerInfo | None:
        """Make a pooled container the owner's: renamed so the routes find it. None when
        it is gone or no longer runs (it is removed then)."""

        def rename(client):
            try:
                client.api.rename(docker_id, docker_name(container_id))
                attrs = client.api.inspect_container(docker_id)
            except docker.errors.APIError:  # gone, or taken by another server
                return None
            if not (attrs.get("State") or {}).get("Running"):
                client.api.remove_container(docker_id, force=True, v=True)
                return None
            return attrs

        attrs = await self.engine.run(rename)
        return ContainerInfo.from_attrs(attrs) if attrs else None

    async def discard(self, docker_id: str) -> None:
        def remove(client):
            try:
                client.api.remove_container(docker_id, force=True, v=True)
            except docker.errors.NotFound:
                pass

        await self.engine.run(remove)
