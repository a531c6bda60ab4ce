"""Snapshots: a container's file system saved as an image, and containers started from one.

How: an engine commit (``docker commit``) of the container, paused for the moment it
takes, tagged ``jupyter-container-manager-snapshot:<id>`` and labelled with its owner,
the container it was taken of, its name, time, size and workdir (core/snapshots.py). A
commit holds the container's whole file system (installed packages, /home, /tmp) except
its volumes. Where the workdir is one (a disk_limit "loop" disk, engine/disk.py), its
files stream as a tar into WORKDIR_COPY of a container made from the first commit and
never started, which is committed in turn; a container started from it gets them copied
into its workdir, as its user, before it is handed out. Nothing of the container's live
processes is kept: a container from a snapshot runs only what a new one runs.

Labels are the only state: the images are listed by label, so a restarted server finds
the same snapshots. A snapshot exists while its image has its tag. Deleting untags it;
the engine removes the image at once, unless containers made from it still use it: then
it lingers untagged until they are gone (:meth:`SnapshotStore.sweep`, at server start).

Runs on the Docker backend only (blocking docker-py calls on its worker threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import posixpath
import tarfile
from typing import TYPE_CHECKING

import docker.errors

from ..core.container_user import parse_spec
from ..core.errors import (
    BadRequest,
    ContainerNotFound,
    QuotaExceeded,
    SnapshotGone,
    SnapshotNotFound,
    TooLarge,
    Unprocessable,
)
from ..core.models import LABEL_DISK, ContainerInfo
from ..core.snapshots import (
    LABEL_SNAPSHOT,
    LABEL_SNAPSHOT_ORIGIN,
    MAX_NAME,
    SNAPSHOT_REPOSITORY,
    WORKDIR_COPY,
    SnapshotInfo,
    new_snapshot_id,
    own_size,
    owned_filter,
    snapshot_labels,
    snapshot_tag,
)
from .users import LABEL_PROBE

if TYPE_CHECKING:
    from ..manager import ContainerManager
    from .docker_backend import DockerBackend

COPY_IN = (  # run in a new container as its user: the workdir's files out of the image
    'cp -a "$0/$2"/. "$1"/ && { find "$0" -mindepth 1 -delete 2>/dev/null; true; }'
)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class SnapshotStore:
    """The snapshots of one owner on one Docker engine."""

    def __init__(self, backend: DockerBackend, settings: ContainerManager, log=None):
        self.backend = backend
        self.settings = settings
        self.log = log
        self._lock = asyncio.Lock()
        self._in_flight = 0  # snapshots being taken (they count against the quota)

    @property
    def owner(self) -> str:
        return self.settings.owner

    def _check_backend(self) -> None:
        if not hasattr(self.backend, "run"):
            raise Unprocessable("Snapshots need the backend 'docker' (c.ContainerManager.backend)")

    # --- reading -------------------------------------------------------------------

    async def list(self) -> list[SnapshotInfo]:
        """The owner's snapshots, oldest first (fork snapshots and untagged images left out)."""
        self._check_backend()
        found = await self.backend.read(
            lambda c: c.api.images(filters=owned_filter(self.owner)))
        infos = [SnapshotInfo.from_image(summary) for summary in found]
        infos = [i for i in infos if i.id and i.tagged and i.kind != "fork"]
        return sorted(infos, key=lambda info: (info.created, info.id))

    async def get(self, snapshot_id: str) -> SnapshotInfo:
        """The owner's snapshot with that id: SnapshotNotFound (404) when there is none,
        SnapshotGone (410) when its image lost its tag behind our back."""
        self._check_backend()
        if not isinstance(snapshot_id, str) or not snapshot_id or len(snapshot_id) > 64:
            raise SnapshotNotFound(f"No snapshot with id {snapshot_id!r}")
        found = await self.backend.read(
            lambda c: c.api.images(filters=owned_filter(self.owner, snapshot_id)))
        infos = [SnapshotInfo.from_image(s) for s in found]
        infos = [i for i in infos if i.id == snapshot_id]
        if not infos:
            raise SnapshotNotFound(f"No snapshot with id {snapshot_id!r}")
        tagged = [i for i in infos if i.tagged]
        if not tagged:
            raise SnapshotGone(f"Snapshot {snapshot_id!r} is gone: its image was removed")
        return tagged[0]

    # --- changing ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _quota_place(self):
        limit = self.settings.max_snapshots_per_user
        async with self._lock:
            if limit and len(await self.list()) + self._in_flight >= limit:
                raise QuotaExceeded(
                    f"Owner {self.owner!r} already has {limit} snapshots, the most allowed "
                    "(c.ContainerManager.max_snapshots_per_user); delete one first."
                )
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    async def take(self, info: ContainerInfo, name: str | None = None, *,
                   kind: str = "") -> SnapshotInfo:
        """Save the container's file system (a running or a stopped one) as a snapshot.
        A fork's (``kind="fork"``) counts against no quota and is never listed."""
        self._check_backend()
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise BadRequest(f"'name' must be a string of at most {MAX_NAME} characters",
                             code="EINVAL")
        snapshot_id = new_snapshot_id()
        name = name or f"{info.name} {now()[:19].replace('T', ' ')}"
        place = self._quota_place() if kind != "fork" else contextlib.nullcontext()
        async with place:
            await self.backend.run(self._commit, info, snapshot_id, name, kind)
        try:
            return await self.get(snapshot_id)
        except SnapshotNotFound:  # removed behind our back the moment it was made
            raise SnapshotGone(f"Snapshot {snapshot_id!r} is gone: its image was removed"
                               ) from None

    def _commit(self, client, info: ContainerInfo, snapshot_id: str, name: str,
                kind: str) -> str:
        """The blocking part of :meth:`take`: commit, copy a volume workdir in, tag,
        check the size; the image's id."""
        try:
            attrs = client.api.inspect_container(info.docker_id)
        except docker.errors.NotFound:
            raise ContainerNotFound(info.id) from None
        base_size = _image_size(client, attrs.get("Image", ""))
        container_labels = (attrs.get("Config") or {}).get("Labels") or {}
        volume_workdir = container_labels.get(LABEL_DISK) == "loop" or any(
            mount.get("Destination") == info.workdir for mount in attrs.get("Mounts") or [])
        labels = snapshot_labels(
            snapshot_id=snapshot_id, owner=self.owner, container_id=info.id, name=name,
            created=now(), workdir=info.workdir, files="copy" if volume_workdir else "image",
            base_size=base_size, kind=kind,
            origin=container_labels.get(LABEL_SNAPSHOT_ORIGIN)
            or (attrs.get("Config") or {}).get("Image", ""),
        )
        # With a second commit to come, the first is no snapshot yet.
        first_labels = {**labels, LABEL_SNAPSHOT: ""} if volume_workdir else labels
        try:
            image_id = client.api.commit(
                info.docker_id, conf={"Labels": first_labels}, pause=True,
                message=f"jupyter-container-manager snapshot {snapshot_id}",
            )["Id"]
        except docker.errors.NotFound:
            raise ContainerNotFound(info.id) from None
        except docker.errors.APIError as err:
            raise Unprocessable("The engine could not commit the container: "
                                f"{err.explanation}") from None
        if volume_workdir:
            user = (attrs.get("Config") or {}).get("User") or ""
            image_id = self._with_workdir_copy(client, info, image_id, labels, user)
        client.api.tag(image_id, SNAPSHOT_REPOSITORY, snapshot_id)
        size = own_size(_image_size(client, image_id), base_size)
        limit = self.settings.max_snapshot_size
        if limit and size > limit:
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_image(snapshot_tag(snapshot_id))
            raise TooLarge(
                f"The snapshot would take {size} bytes, more than {limit} "
                "(c.ContainerManager.max_snapshot_size); nothing was kept."
            )
        return image_id

    def _with_workdir_copy(self, client, info: ContainerInfo, image_id: str,
                           labels: dict, user: str) -> str:
        """An image of ``image_id`` with the container's workdir (a volume) in
        WORKDIR_COPY: a commit of a container made from it, never started. The archive
        streams from one container to the other (the server holds a chunk at a time)."""
        holder = client.api.create_container(
            image_id, command=["true"],
            labels={**self.settings.extra_labels, LABEL_PROBE: "1"})["Id"]
        try:
            # The folder is the user's, so a container started from it can empty it.
            client.api.put_archive(holder, "/", _folder_archive(WORKDIR_COPY.lstrip("/"),
                                                                parse_spec(user)))
            stream, _ = client.api.get_archive(info.docker_id, info.workdir)
            client.api.put_archive(holder, WORKDIR_COPY, stream)
            return client.api.commit(holder, conf={"Labels": labels}, pause=False)["Id"]
        finally:
            client.api.remove_container(holder, force=True)

    async def delete(self, snapshot_id: str) -> None:
        """Delete the owner's snapshot: its tag goes; its image with it, unless
        containers made from it still use it (it goes with them, see :meth:`sweep`)."""
        snapshot = await self.get(snapshot_id)
        await self.backend.run(self._untag, snapshot)

    @staticmethod
    def _untag(client, snapshot: SnapshotInfo) -> None:
        try:
            client.api.remove_image(snapshot_tag(snapshot.id), force=True)
        except docker.errors.NotFound:
            raise SnapshotNotFound(f"No snapshot with id {snapshot.id!r}") from None
        with contextlib.suppress(docker.errors.APIError):  # still used: swept later
            client.api.remove_image(snapshot.image_id)

    async def sweep(self) -> int:
        """Remove the owner's untagged snapshot images that no container uses any more
        (deleted snapshots, forks' snapshots); how many."""
        if not hasattr(self.backend, "run"):
            return 0

        def sweep(client) -> int:
            removed = 0
            for summary in client.api.images(filters=owned_filter(self.owner)):
                info = SnapshotInfo.from_image(summary)
                if info.tagged:
                    continue
                try:
                    client.api.remove_image(info.image_id)
                    removed += 1
                except docker.errors.APIError:
                    pass  # used by a container: next time
            return removed

        return await self.backend.run(sweep)

    # --- starting from one -----------------------------------------------------------

    async def copy_workdir_in(self, info: ContainerInfo) -> None:
        """In a container just started from a "copy" snapshot: its workdir's files out
        of WORKDIR_COPY into the workdir, as the container's user."""
        result = await self.backend.exec_run(
            info.docker_id, ["sh", "-c", COPY_IN, WORKDIR_COPY, info.workdir,
                             posixpath.basename(info.workdir.rstrip("/"))])
        if result.exit_code != 0:
            raise Unprocessable(
                "The snapshot's workdir could not be copied into the new container: "
                + result.stderr.decode(errors="replace")[:500]
            )


def _image_size(client, image_id: str) -> int:
    if not image_id:
        return 0
    try:
        return int(client.api.inspect_image(image_id).get("Size") or 0)
    except docker.errors.NotFound:
        return 0


def _folder_archive(name: str, ids: tuple[int, int] | None) -> bytes:
    """A tar of one empty folder ``name`` owned by ``ids`` (root when None)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo(name)
        entry.type = tarfile.DIRTYPE
        entry.mode = 0o755
        entry.uid, entry.gid = ids or (0, 0)
        tar.addfile(entry)
    return buffer.getvalue()
