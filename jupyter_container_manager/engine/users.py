"""The user a container runs as, found in its image, and the workdir made theirs.

Runs in the engine's worker threads (blocking docker-py calls, ``client`` passed in).
Docker's own ``copyUIDGID`` would look the user up on the host, not in the container,
so archives carry the numeric uid and gid instead.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import threading
import time

import docker.errors

from ..core.container_user import AUTO, choose_user, needs_passwd, parse_spec
from ..core.fstree import tar_to_tree
from ..core.models import LABEL_PREFIX

LABEL_PROBE = f"{LABEL_PREFIX}.probe"

# /etc/passwd per image id: an image's content never changes under its id.
_PASSWD: dict[str, str] = {}
# (image id, workdir) -> (uid, gid) of that folder in the image, or None: not a folder there.
_WORKDIRS: dict[tuple[str, str], tuple[int, int] | None] = {}
_LOCK = threading.Lock()


class ImageUsers:
    """``user_for(client, image)``: ``(uid, gid)`` a container of that image runs as,
    per the ``user`` setting, or None for root. Raises UnknownUser."""

    def __init__(self, setting: str, labels: dict[str, str] | None = None):
        self.setting = setting
        self.labels = dict(labels or {})

    def user_for(self, client, image: str) -> tuple[int, int] | None:
        if not needs_passwd(self.setting):
            return choose_user(self.setting, "", None)
        attrs = client.api.inspect_image(image)
        image_user = (attrs.get("Config") or {}).get("User") or ""
        if self.setting.strip() == AUTO and parse_spec(image_user) is not None \
                and ":" in image_user and image_user.replace(":", "").isdigit():
            # "uid:gid" as a container of ours runs (a snapshot's image): no passwd read.
            return parse_spec(image_user)
        return choose_user(self.setting, image_user, self._passwd(client, attrs["Id"]))

    def _passwd(self, client, image_id: str) -> str:
        with _LOCK:
            if image_id in _PASSWD:
                return _PASSWD[image_id]
        text = self._read_passwd(client, image_id)
        with _LOCK:
            _PASSWD[image_id] = text
        return text

    def workdir_is_theirs(self, client, image_id: str, workdir: str,
                          ids: tuple[int, int]) -> bool:
        """Whether the image has ``workdir`` as a folder owned by ``ids`` already (an
        image made for it): then Docker leaves it as it is, and nothing need be put in."""
        key = (image_id, workdir)
        with _LOCK:
            known = key in _WORKDIRS
            owner = _WORKDIRS.get(key)
        if not known:
            owner = self._read_owner(client, image_id, workdir)
            with _LOCK:
                _WORKDIRS[key] = owner
        return owner is not None and tuple(owner) == tuple(ids)

    def _read_owner(self, client, image_id: str, path: str) -> tuple[int, int] | None:
        """The owner of the folder ``path`` in the image (the first entry of its archive,
        read from a container created and never started), or None: not a folder."""
        probe = client.api.create_container(
            image_id, command=["true"], labels={**self.labels, LABEL_PROBE: "1"}
        )["Id"]
        try:
            stream, _ = client.api.get_archive(probe, path)
            head = bytearray()
            try:
                for chunk in stream:  # only the first header: the folder's own entry
                    head += chunk
                    if len(head) >= tarfile.BLOCKSIZE:
                        break
            finally:
                stream.close()
            entry = tarfile.TarInfo.frombuf(bytes(head[:tarfile.BLOCKSIZE]), "utf-8",
                                            "surrogateescape")
            return (entry.uid, entry.gid) if entry.isdir() else None
        except (docker.errors.NotFound, tarfile.TarError):
            return None
        finally:
            client.api.remove_container(probe, force=True)

    def _read_passwd(self, client, image_id: str) -> str:
        """/etc/passwd of the image, read from a container that is created and never
        started (removed right after)."""
        probe = client.api.create_container(
            image_id, command=["true"], labels={**self.labels, LABEL_PROBE: "1"}
        )["Id"]
        try:
            stream, _ = client.api.get_archive(probe, "/etc/passwd")
            node = tar_to_tree(b"".join(stream), 0).get("passwd", {}).get("file", {})
            return "" if "encoding" in node else node.get("contents", "")
        except docker.errors.NotFound:
            return ""
        finally:
            client.api.remove_container(probe, force=True)


def own_workdir(client, docker_id: str, workdir: str, ids: tuple[int, int]) -> None:
    """Make ``workdir`` (which Docker created, owned by root) belong to ``ids``: a
    one-directory archive whose entry carries their uid and gid."""
    parent, name = posixpath.split(workdir.rstrip("/"))
    if not name:
        return
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo(name)
        entry.type = tarfile.DIRTYPE
        entry.mode = 0o755
        entry.mtime = time.time()
        entry.uid, entry.gid = ids
        tar.addfile(entry)
    client.api.put_archive(docker_id, parent or "/", buffer.getvalue())
