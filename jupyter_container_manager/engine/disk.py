"""The disk quota of each container (``c.ContainerManager.disk_limit``).

Two ways, chosen once per engine, the first that works:

- ``storage``: the engine bounds the container's whole writable layer itself
  (``--storage-opt size=``), as overlay2 does on xfs mounted with ``pquota``. Probed once
  with a container that is created and never started.
- ``loop``: elsewhere (overlay2 on ext4). The workdir and ``/tmp`` are two directories of
  one ext4 file system of ``disk_limit`` bytes: a sparse image file (it takes on disk what
  is written, plus the file system's metadata) in a Docker volume of the container's own
  (``jcm-disk-<id>``, labelled like the container), loop-mounted by this server on the
  engine's host. The container reaches the two directories through anonymous ``local``
  volumes that bind them (not host binds), which the engine removes with the container.
  This server must run as root beside the engine (it calls ``mkfs.ext4`` and ``mount``);
  the rest of the root file system (``/home``, ``npm install -g``) is not bounded.

Either way ``/dev/shm`` is a tmpfs of at most ``SHM_MAX`` (Docker's default), less when the
quota is less. Runs in the engine's worker threads (blocking calls, ``client`` passed in).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time

import docker.errors
import docker.types

from ..core.errors import Unprocessable
from ..core.models import (
    LABEL_DISK,
    LABEL_DISK_LIMIT,
    LABEL_ID,
    LABEL_OWNER,
)
from .idle import parse_docker_time
from .users import LABEL_PROBE

SHM_MAX = 64 * 1024**2  # Docker's default /dev/shm
IMAGE_FILE = "disk.img"  # in the disk volume, beside the mount point
MOUNT_DIR = "fs"
WORK_DIR, TMP_DIR = "work", "tmp"  # directories of the file system: workdir and /tmp
ORPHAN_AGE = 120.0  # seconds a disk volume without its container is left alone (a create)
# No blocks reserved for root; a sparse file reads zeros where nothing was written, so the
# journal and inode tables need no zeroing, neither by mkfs nor later by the kernel: the
# file takes ~4 MiB on disk at any size until written to.
_MKFS = ["mkfs.ext4", "-q", "-F", "-m", "0", "-E",
         "nodiscard,lazy_itable_init=1,lazy_journal_init=1"]
_MOUNT_OPTIONS = "loop,nodev,nosuid,noinit_itable"

log = logging.getLogger("jupyter_container_manager")


def disk_volume_name(container_id: str) -> str:
    return f"jcm-disk-{container_id}"


def shm_bytes(limit: int) -> int:
    """Size of /dev/shm under a quota of ``limit`` bytes."""
    return min(limit, SHM_MAX)


def bind_volume(target: str, device: str, labels: dict[str, str],
                copy: bool = False) -> docker.types.Mount:
    """An anonymous ``local`` volume at ``target`` that binds ``device``, a directory on the
    engine's host; removed with the container (``docker rm -v``). ``copy``: the engine
    fills it with what the image has at ``target`` (a snapshot's workdir)."""
    return docker.types.Mount(
        target,
        None,
        type="volume",
        no_copy=not copy,
        labels=labels,
        driver_config=docker.types.DriverConfig(
            "local", {"type": "none", "o": "bind", "device": device}
        ),
    )


def disk_used(path: str) -> int | None:
    """Bytes used on the file system mounted at ``path`` (its metadata included), None when
    it is not mounted here."""
    if not path or not os.path.ismount(path):
        return None
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise OSError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()}")


def _mount(root: str) -> None:
    _run("mount", "-o", _MOUNT_OPTIONS, os.path.join(root, IMAGE_FILE),
         os.path.join(root, MOUNT_DIR))


def _unmount(root: str) -> None:
    path = os.path.join(root, MOUNT_DIR)
    if not os.path.ismount(path):
        return
    try:
        _run("umount", path)
    except OSError:  # still busy (a container being removed): detach it now, free later
        _run("umount", "--lazy", path)


class DiskQuota:
    """The quota of every container one server creates (``limit`` bytes; 0: none)."""

    def __init__(self, limit: int, labels: dict[str, str] | None = None):
        self.limit = limit
        self.labels = dict(labels or {})
        self._storage_opt: bool | None = None  # does the engine take --storage-opt size?
        self._lock = threading.Lock()

    # --- at create ----------------------------------------------------------------

    def prepare(self, client, container_id: str, image: str, options: dict,
                ids: tuple[int, int] | None, *, copy_workdir: bool = False) -> None:
        """Add the quota to a container's create ``options`` (its labels included); in
        ``loop`` mode, make and mount its disk first. Unprocessable when neither way
        works here. ``release`` undoes it."""
        if not self.limit:
            return
        labels = options["labels"]
        labels[LABEL_DISK_LIMIT] = str(self.limit)
        options["shm_size"] = shm_bytes(self.limit)
        if self.engine_takes_storage_opt(client, image):
            labels[LABEL_DISK] = "storage"
            options["storage_opt"] = {"size": str(self.limit)}
            return
        labels[LABEL_DISK] = "loop"
        fs = self._make_disk(client, container_id, labels[LABEL_OWNER], ids)
        mount_labels = {LABEL_ID: container_id, LABEL_OWNER: labels[LABEL_OWNER],
                        **self.labels}
        options["mounts"] = [
            bind_volume(options["working_dir"], os.path.join(fs, WORK_DIR), mount_labels,
                        copy=copy_workdir),
            bind_volume("/tmp", os.path.join(fs, TMP_DIR), mount_labels),
        ]

    def engine_takes_storage_opt(self, client, image: str) -> bool:
        with self._lock:
            if self._storage_opt is None:
                self._storage_opt = self._probe(client, image)
            return self._storage_opt

    def _probe(self, client, image: str) -> bool:
        try:
            probe = client.api.create_container(
                image, command=["true"], labels={**self.labels, LABEL_PROBE: "1"},
                host_config=client.api.create_host_config(storage_opt={"size": "1g"}),
            )["Id"]
        except docker.errors.APIError as err:
            log.info("disk_limit: the engine takes no --storage-opt size (%s); the workdir "
                     "and /tmp get a loop-mounted file system instead", err.explanation)
            return False
        client.api.remove_container(probe, force=True)
        return True

    def _make_disk(self, client, container_id: str, owner: str,
                   ids: tuple[int, int] | None) -> str:
        """Make the disk volume, its image file and file system, mount it; its mount
        point (on the engine's host)."""
        why = self._loop_unavailable()
        if why:
            raise Unprocessable(
                "c.ContainerManager.disk_limit: the Docker engine takes no --storage-opt "
                "size (overlay2 does on xfs mounted with pquota), and this server cannot "
                f"make a loop-mounted disk for the workdir: {why}"
            )
        volume = client.api.create_volume(
            disk_volume_name(container_id), driver="local",
            labels={**self.labels, LABEL_ID: container_id, LABEL_OWNER: owner,
                    LABEL_DISK: "loop"},
        )
        root = volume.get("Mountpoint") or ""
        try:
            if not os.path.isdir(root):
                raise OSError("the engine's volumes are not on this machine (a remote "
                              "engine?)")
            image_file = os.path.join(root, IMAGE_FILE)
            with open(image_file, "wb") as sparse:
                sparse.truncate(self.limit)
            _run(*_MKFS, image_file)
            fs = os.path.join(root, MOUNT_DIR)
            os.makedirs(fs, exist_ok=True)
            _mount(root)
            work, tmp = os.path.join(fs, WORK_DIR), os.path.join(fs, TMP_DIR)
            os.mkdir(work, 0o755)
            os.mkdir(tmp)
            os.chmod(tmp, 0o1777)
            if ids:
                os.chown(work, *ids)
            return fs
        except OSError as err:
            # The details name host paths: the log has them, the answer does not.
            log.warning("disk_limit: the disk of %s could not be made: %s", container_id, err)
            self.release(client, container_id)
            raise Unprocessable(
                "c.ContainerManager.disk_limit: the container's disk could not be made on "
                "the engine's host (the server's log says why)"
            ) from None

    @staticmethod
    def _loop_unavailable() -> str:
        if os.geteuid() != 0:
            return "it does not run as root"
        missing = [tool for tool in ("mkfs.ext4", "mount", "umount") if not shutil.which(tool)]
        if missing:
            return f"{', '.join(missing)} not found"
        return ""

    # --- later in the container's life -------------------------------------------

    @staticmethod
    def ensure_mounted(client, container_id: str) -> None:
        """Mount a container's ``loop`` disk again if it is not (after the engine's host
        restarted); before a start. Without it the start would fail: the directories the
        container's volumes bind are inside that file system. Nothing for a container
        without one."""
        try:
            volume = client.api.inspect_volume(disk_volume_name(container_id))
        except docker.errors.NotFound:
            return
        root = volume.get("Mountpoint") or ""
        if os.path.isfile(os.path.join(root, IMAGE_FILE)) and not os.path.ismount(
            os.path.join(root, MOUNT_DIR)
        ):
            try:
                _mount(root)
            except OSError as err:
                log.warning("disk_limit: the disk of %s could not be mounted: %s",
                            container_id, err)
                raise Unprocessable(
                    "The container's disk could not be mounted (the server's log says why)"
                ) from None

    @staticmethod
    def release(client, container_id: str) -> None:
        """Unmount and remove the disk of a container that is gone (or never was made);
        nothing when it has none."""
        try:
            volume = client.api.inspect_volume(disk_volume_name(container_id))
        except docker.errors.NotFound:
            return
        remove_disk_volume(client, volume)

    def sweep(self, client, owner: str) -> int:
        """Release the disks of this owner's containers that are gone (a server killed
        between removing a container and its disk); how many."""
        return remove_disks(client, {"label": [f"{LABEL_OWNER}={owner}", LABEL_DISK]},
                            only_orphans=True)


def remove_disk_volume(client, volume: dict) -> None:
    """Unmount and remove a disk volume. Never raises: its container is gone already, and
    what is left is removed by the next server start's sweep."""
    root = volume.get("Mountpoint") or ""
    try:
        if root and os.path.isdir(root):
            _unmount(root)
        client.api.remove_volume(volume["Name"], force=True)
    except docker.errors.NotFound:
        pass
    except (OSError, docker.errors.APIError) as err:
        log.warning("disk %s not removed (the next server start tries again): %s",
                    volume.get("Name"), err)


def remove_disks(client, filters: dict, *, only_orphans: bool = False) -> int:
    """Remove the disk volumes ``filters`` finds; with ``only_orphans``, only those whose
    container is gone and that are older than ORPHAN_AGE (not a create in flight)."""
    found = client.api.volumes(filters=filters).get("Volumes") or []
    removed = 0
    now = time.time()
    for volume in found:
        labels = volume.get("Labels") or {}
        if LABEL_DISK not in labels:
            continue
        if only_orphans:
            container_id = labels.get(LABEL_ID, "")
            if client.api.containers(all=True, filters={"label": f"{LABEL_ID}={container_id}"}):
                continue
            created = parse_docker_time(volume.get("CreatedAt") or "")
            if created is None or now - created < ORPHAN_AGE:
                continue
        remove_disk_volume(client, volume)
        removed += 1
    return removed
