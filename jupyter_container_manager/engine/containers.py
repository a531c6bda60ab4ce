"""Container lifecycle: create, find by label, start, stop, restart, remove.

Docker is the source of truth. A managed container is found again by its labels (public
id and owner), so a restarted server adopts its containers and a container without our
labels does not exist for this API. Listings, the per-request check of a container
(``require_running``) and the quota's count answer from the index of the owner's
containers (engine/index.py), which follows the engine's events and is rebuilt from the
labels after any gap; while it is not fresh they ask the engine, as :meth:`get` with
``fresh`` always does. What this class changes it writes through to the index.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from typing import TYPE_CHECKING

from ..core.errors import (
    BadRequest,
    Conflict,
    ContainerNotFound,
    ContainerNotRunning,
    EngineUnavailable,
    ImageNotAllowed,
    QuotaExceeded,
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
    pool_name,
)
from ..core.snapshots import SnapshotInfo, snapshot_tag
from .backend import (
    BackendConflict,
    BackendNotFound,
    BackendRefused,
    ContainerSpec,
    EngineBackend,
)
from .disk import disk_used
from .idle import IDLE_STOP_EXIT_CODE, IDLE_STOP_SIGNAL, parse_docker_time
from .index import ContainerIndex
from .network_setup import NetworkSetup

if TYPE_CHECKING:
    from ..manager import ContainerManager

STOP_TIMEOUT = 5  # seconds between SIGTERM and SIGKILL on stop and restart
# Keeps the container alive; the init process forwards SIGTERM, so a stop is immediate.
KEEP_ALIVE = ["sleep", "2147483647"]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")



def describe(attrs: dict) -> ContainerInfo:
    """ContainerInfo of an inspect answer, with its disk use where it is cheap to know
    (a statvfs of a "loop" disk; see engine/disk.py)."""
    info = ContainerInfo.from_attrs(attrs)
    if info.disk_path:
        info.disk_used = disk_used(info.disk_path)
    return info


class QuotaSlot:
    """One place of the quota held by a create in flight; ``container_id`` once known."""

    container_id: str | None = None

class ContainerLifecycle:
    """Lifecycle of the containers of one owner."""

    def __init__(
        self, backend: EngineBackend, settings: ContainerManager,
        network: NetworkSetup | None = None,
        index: ContainerIndex | None = None,
    ):
        self.backend = backend
        self.settings = settings
        # The owner's containers as the engine's events tell them (engine/index.py).
        self.index = index or ContainerIndex(backend, settings.owner)
        # Proxy variables and CA bundle of every new container (engine/network_setup.py).
        self.network = network or NetworkSetup(settings)
        # Quota places held by creates in flight (quota_slot).
        self._quota_lock = asyncio.Lock()
        self._quota_slots: list[QuotaSlot] = []

    @property
    def owner(self) -> str:
        return self.settings.owner

    @property
    def _owned(self) -> dict[str, str | None]:
        """The labels of the owner's containers (pooled ones included)."""
        return {LABEL_OWNER: self.owner, LABEL_ID: None}

    # --- reading -------------------------------------------------------------------

    async def list(self) -> list[ContainerInfo]:
        if self.index.fresh:  # no engine call
            infos = [describe(attrs) for attrs in self.index.all() if not is_pooled(attrs)]
            return sorted(infos, key=lambda info: (info.created, info.id))

        async def info_of(summary: dict) -> ContainerInfo | None:
            if summary.get("State") == "created":
                # Being started: the engine holds its lock until the start is done and
                # an inspect would wait for it; the summary says enough.
                return describe(attrs_from_summary(summary))
            try:
                attrs = await self.backend.inspect(summary["Id"])
            except BackendConflict:
                return None  # being removed
            return None if attrs is None else describe(attrs)

        found = [s for s in await self.backend.list(self._owned) if not is_pooled(s)]
        infos = [i for i in await asyncio.gather(*(info_of(s) for s in found)) if i]
        return sorted(infos, key=lambda info: (info.created, info.id))

    async def get(self, container_id: str, *, fresh: bool = False) -> ContainerInfo:
        """The container of this owner with that public id, else ContainerNotFound. From
        the index when it is fresh, unless ``fresh`` asks the engine now (the index
        learns the answer too). A read: not activity (ContainerManager.touch is)."""
        attrs = None if fresh else self._indexed(container_id)
        if attrs is None:  # not in the index (or not asked): the engine decides
            attrs = await self._inspect(container_id)
        if attrs is None:
            raise ContainerNotFound(container_id)
        return describe(attrs)

    def _indexed(self, container_id: str) -> dict | None:
        """The inspect of the owner's container with that public id, from the index when
        it is fresh; None otherwise."""
        if not self.index.fresh or not is_container_id(container_id):
            return None
        attrs = self.index.by_name(docker_name(container_id))
        return attrs if attrs is not None and self._is(attrs, container_id) else None

    async def _inspect(self, container_id: str) -> dict | None:
        """The inspect of the owner's container with that public id, from the engine
        now, or None."""
        if not is_container_id(container_id):
            return None
        try:
            attrs = await self.index.refresh(docker_name(container_id))
        except BackendConflict:
            return None  # being removed
        return attrs if attrs is not None and self._is(attrs, container_id) else None

    def _is(self, attrs: dict, container_id: str) -> bool:
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return labels.get(LABEL_ID) == container_id and labels.get(LABEL_OWNER) == self.owner

    async def require_running(self, container_id: str, *, fresh: bool = False) -> ContainerInfo:
        """As :meth:`get`; ContainerNotRunning unless it runs. An index that says it does
        not run is checked with the engine before answering so."""
        info = await self.get(container_id, fresh=fresh)
        if info.status != "running" and not fresh:
            info = await self.get(container_id, fresh=True)
        if info.status == "lost":  # its node does not answer: 503, naming the node
            raise EngineUnavailable(f"Container {container_id!r} is lost for now: {info.reason}")
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
        async with self.quota_slot() as slot:
            return await self._create(slot=slot, **options)

    async def _create(
        self,
        *,
        name: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        ports: list[int] | None = None,
        workdir: str | None = None,
        pooled: bool = False,
        slot: QuotaSlot | None = None,
        snapshot: SnapshotInfo | None = None,
    ) -> ContainerInfo:
        self.network.check()  # an unusable ca_certificates: nothing is created
        for key in env or {}:
            if not _ENV_NAME.match(key):
                raise BadRequest(f"env: {key!r} is not a valid variable name")
        image = image or self.settings.image
        if snapshot is not None:  # judged by the image its chain was made from
            image, workdir = snapshot.origin or snapshot_tag(snapshot.id), snapshot.workdir
        if not image_allowed(image, self.settings.allowed_images):
            raise ImageNotAllowed(image, list(self.settings.allowed_images))
        if snapshot is not None:
            image = snapshot_tag(snapshot.id)
        container_id = new_container_id()
        if slot is not None:
            slot.container_id = container_id  # counted once, even once it is listed
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
        settings = self.settings
        spec = ContainerSpec(
            image=image,
            name=pool_name(container_id) if pooled else docker_name(container_id),
            labels=labels,
            workdir=workdir,
            command=KEEP_ALIVE,
            hostname=f"jcm-{container_id[:8]}",
            env=self.network.environment(env),
            memory=settings.memory_bytes,
            cpu_shares=settings.cpu_shares,
            cpu_limit=settings.cpu_limit,
            pids_limit=settings.pids_limit,
            nofile_limit=settings.nofile_limit,
            log_max_size=settings.log_max_size,
            log_max_files=settings.log_max_files,
            publish_ports=ports if settings.publish_ports else [],
            from_snapshot=snapshot.files if snapshot is not None else "",
        )
        stamp = self.index.stamp()
        attrs = await self.backend.create(spec)
        self.index.store(attrs.get("Id", ""), attrs, stamp)
        return describe(attrs)

    async def create_in(self, slot: QuotaSlot, **options) -> ContainerInfo:
        """Create and start a container in a place of the quota already held
        (:meth:`quota_slots`)."""
        return await self._create(slot=slot, **options)

    async def delete(self, container_id: str) -> None:
        info = await self.get(container_id)
        # Of concurrent deletes of one id only the one whose removal the engine performs
        # succeeds; the others find it gone or being removed: not found. A kill racing a
        # stop or restart of the same container can fail ("could not kill", "did not
        # receive an exit event"): the removal is tried again, as `docker rm -f` would be.
        attempts = 3
        for attempt in range(attempts):
            try:
                await self.backend.remove(info.docker_id)
                self.index.store(info.docker_id, None, self.index.stamp())
                return
            except BackendNotFound:
                self.index.store(info.docker_id, None, self.index.stamp())
                raise ContainerNotFound(container_id) from None
            except BackendConflict:
                raise ContainerNotFound(container_id) from None
            except BackendRefused:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.2)

    async def start(self, container_id: str) -> ContainerInfo:
        return await self._act(container_id, "start", self.backend.start)

    async def stop(self, container_id: str) -> ContainerInfo:
        return await self._act(
            container_id, "stop", lambda ref: self.backend.stop(ref, STOP_TIMEOUT)
        )

    async def restart(self, container_id: str) -> ContainerInfo:
        return await self._act(
            container_id, "restart", lambda ref: self.backend.restart(ref, STOP_TIMEOUT)
        )

    async def _act(self, container_id: str, verb: str, action) -> ContainerInfo:
        """``await action(docker_id)``; a container removed meanwhile (gone, or "marked
        for removal") is not found, another conflict a 409."""
        info = await self.get(container_id)
        try:
            await action(info.docker_id)
        except BackendNotFound:
            raise ContainerNotFound(container_id) from None
        except BackendConflict as err:
            if "removal" in str(err).lower():
                raise ContainerNotFound(container_id) from None
            raise Conflict(
                f"Cannot {verb} container {container_id!r} now: it is changing state",
                code="ECONFLICT",
            ) from None
        return await self.get(container_id, fresh=True)

    # --- the idle reaper (engine/idle.py) -------------------------------------------

    async def idle_stop(self, info: ContainerInfo) -> None:
        """Stop a running container for idleness: SIGUSR1 to its keep-alive process, so
        the engine records exit code 138, the reaper's mark (see engine/idle.py); a plain
        stop if it has not ended within STOP_TIMEOUT. Not activity."""
        try:
            await self.backend.kill(info.docker_id, IDLE_STOP_SIGNAL)
        except (BackendNotFound, BackendConflict):  # gone, or not running any more
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT
        while loop.time() < deadline:
            try:
                attrs = await self.backend.inspect(info.docker_id)
            except BackendConflict:
                return
            if attrs is None or not (attrs.get("State") or {}).get("Running"):
                return
            await asyncio.sleep(0.1)
        with contextlib.suppress(BackendNotFound, BackendConflict, BackendRefused):
            await self.backend.stop(info.docker_id, STOP_TIMEOUT)

    async def idle_stopped_at(self, container_id: str) -> float | None:
        """When the idle reaper stopped this container of ours (seconds since the epoch),
        or None: not ours, running, or its last stop was not the reaper's. Not activity."""
        # From the engine now, never the index: a removal follows from the answer.
        state = ((await self._inspect(container_id)) or {}).get("State") or {}
        if state.get("Status") != "exited" or state.get("ExitCode") != IDLE_STOP_EXIT_CODE:
            return None
        return parse_docker_time(state.get("FinishedAt") or "")

    @contextlib.asynccontextmanager
    async def quota_slot(self):
        """Hold one of the owner's ``max_containers_per_user`` places while a container is
        made or taken from the pool (QuotaExceeded when none is left). Looks and
        reservations take turns, so parallel creates cannot all pass one look at the
        engine (security case 21). The slot learns the id of its container as soon as it
        has one, so a container already listed while its create finishes counts once.
        One server's creates only: two servers of one owner can race."""
        async with self.quota_slots(1) as slots:
            yield slots[0]

    @contextlib.asynccontextmanager
    async def quota_slots(self, count: int):
        """As :meth:`quota_slot`, ``count`` places at once, or none (QuotaExceeded)."""
        slots = [QuotaSlot() for _ in range(count)]
        async with self._quota_lock:
            await self.check_quota(self._quota_slots, more=count)
            self._quota_slots.extend(slots)
        try:
            yield slots
        finally:
            for slot in slots:
                self._quota_slots.remove(slot)

    async def check_quota(self, slots: list[QuotaSlot] | None = None, more: int = 1) -> None:
        """QuotaExceeded when the owner has ``max_containers_per_user`` containers, with
        ``slots`` of containers being made (the warm pool's are not theirs yet and do not
        count)."""
        limit = self.settings.max_containers_per_user
        if not limit:
            return
        ids = set(await self._owned_ids())
        ids.update(slot.container_id for slot in slots or () if slot.container_id)
        unnamed = sum(1 for slot in slots or () if not slot.container_id)
        if len(ids) + unnamed + more > limit:
            if more > 1:
                raise QuotaExceeded(
                    f"Owner {self.owner!r} has {len(ids) + unnamed} containers; {more} more "
                    f"would pass {limit}, the most allowed "
                    "(c.ContainerManager.max_containers_per_user). Nothing was created."
                )
            raise QuotaExceeded(
                f"Owner {self.owner!r} already has {limit} containers, the most allowed "
                "(c.ContainerManager.max_containers_per_user); delete one first."
            )

    async def _owned_ids(self) -> list[str]:
        """The public ids of the owner's containers (pooled ones left out)."""
        if self.index.fresh:
            found = self.index.all()
        else:
            found = [attrs_from_summary(s) for s in await self.backend.list(self._owned)]
        return [((attrs.get("Config") or {}).get("Labels") or {}).get(LABEL_ID, attrs["Id"])
                for attrs in found if not is_pooled(attrs)]

    # --- the warm pool (engine/pool.py) ---------------------------------------------

    async def pooled(self) -> list[dict]:
        """The owner's containers waiting in the pool: ``{docker_id, id, image, running,
        setup}`` (``setup``: the digest of the network setup it was made with)."""
        found = await self.backend.list(self._owned)
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

    async def hand_out(self, docker_id: str, container_id: str,
                       slot: QuotaSlot | None = None) -> ContainerInfo | None:
        """Make a pooled container the owner's: renamed so the routes find it. None when
        it is gone or no longer runs (it is removed then). With a fresh index, what it
        knows of the container (a die would be in it) stands for an inspect after the
        rename: one engine call."""
        if slot is not None:
            slot.container_id = container_id
        known = self.index.by_id(docker_id) if self.index.fresh else None
        if known is not None and not (known.get("State") or {}).get("Running"):
            await self.discard(docker_id)
            return None
        stamp = self.index.stamp()
        try:
            await self.backend.rename(docker_id, docker_name(container_id))
            known = self.index.by_id(docker_id) if self.index.fresh else None
            if known is not None:
                attrs = {**known, "Name": "/" + docker_name(container_id)}
                self.index.store(docker_id, attrs, stamp)
            else:
                attrs = await self.index.refresh(docker_id)
        except (BackendNotFound, BackendConflict, BackendRefused):  # gone, or taken
            return None  # by another server
        if attrs is None:
            return None
        if not (attrs.get("State") or {}).get("Running"):
            await self.discard(docker_id)
            return None
        return describe(attrs)

    async def discard(self, docker_id: str) -> None:
        with contextlib.suppress(BackendNotFound, BackendConflict):
            await self.backend.remove(docker_id)

    async def sweep_disks(self) -> int:
        """Remove the disks (engine/disk.py) of this owner's containers that are gone,
        where the backend makes disks of its own; how many."""
        sweep = getattr(self.backend, "sweep_disks", None)
        return await sweep(self.owner) if sweep is not None else 0
