"""Snapshots and checkpoints as the API describes them, from labels. Pure.

A snapshot is an image the engine keeps (engine/snapshots.py): its labels say whose it
is, which container it was taken of, its name, when, and where the container's workdir
is in it. Nothing else holds state, so a restarted server lists the same snapshots.
A snapshot exists while its image carries its tag (``snapshot_tag``); an image of ours
that lost its tag (deleted while containers made from it still run, or untagged behind
our back) is gone for the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .models import (
    LABEL_DISK,
    LABEL_DISK_LIMIT,
    LABEL_ID,
    LABEL_OWNER,
    LABEL_PORTS,
    LABEL_PREFIX,
    LABEL_SETUP,
)

LABEL_SNAPSHOT = f"{LABEL_PREFIX}.snapshot"  # its public id
LABEL_SNAPSHOT_NAME = f"{LABEL_PREFIX}.snapshot-name"
LABEL_SNAPSHOT_CONTAINER = f"{LABEL_PREFIX}.snapshot-container"  # the container's public id
LABEL_SNAPSHOT_CREATED = f"{LABEL_PREFIX}.snapshot-created"
LABEL_SNAPSHOT_WORKDIR = f"{LABEL_PREFIX}.snapshot-workdir"
LABEL_SNAPSHOT_BASE = f"{LABEL_PREFIX}.snapshot-base-size"  # bytes of the image it was made from
# "image": the workdir's files are at the workdir in the image (it was in the container's
# own file system); "copy": they are in WORKDIR_COPY, because the workdir was a volume
# (a disk_limit "loop" disk), which an engine commit leaves out.
LABEL_SNAPSHOT_FILES = f"{LABEL_PREFIX}.snapshot-files"
# The image the first container of the chain was made from (a snapshot of a container
# started from a snapshot keeps its origin): allowed_images is checked against it.
LABEL_SNAPSHOT_ORIGIN = f"{LABEL_PREFIX}.snapshot-origin"
# "fork": made by a fork for its copies only; never listed, counted nor kept.
LABEL_SNAPSHOT_KIND = f"{LABEL_PREFIX}.snapshot-kind"

SNAPSHOT_REPOSITORY = "jupyter-container-manager-snapshot"
WORKDIR_COPY = "/.jcm-snapshot-workdir"
MAX_NAME = 200


def new_snapshot_id() -> str:
    return str(uuid.uuid4())


def snapshot_tag(snapshot_id: str) -> str:
    """The image reference of a snapshot: repository and tag (a UUID is a valid tag)."""
    return f"{SNAPSHOT_REPOSITORY}:{snapshot_id}"


def owned_filter(owner: str, snapshot_id: str | None = None) -> dict:
    """Engine image-list filters for an owner's snapshot images (or one of them)."""
    labels = [f"{LABEL_OWNER}={owner}",
              f"{LABEL_SNAPSHOT}={snapshot_id}" if snapshot_id else LABEL_SNAPSHOT]
    return {"label": labels}


@dataclass
class SnapshotInfo:
    """What the API tells about a snapshot (``Snapshot`` in the OpenAPI document)."""

    id: str
    container: str
    name: str
    created: str
    size: int
    workdir: str
    files: str = "image"
    kind: str = ""
    origin: str = ""  # internal: the image the chain started from
    image_id: str = ""  # internal: the engine's image id
    tagged: bool = True  # internal: False once its tag is gone (see the module's doc)

    @classmethod
    def from_image(cls, summary: dict) -> SnapshotInfo:
        """From an image list entry (``GET /images/json``) or an image inspect."""
        labels = summary.get("Labels") or (summary.get("Config") or {}).get("Labels") or {}
        snapshot_id = labels.get(LABEL_SNAPSHOT, "")
        base = labels.get(LABEL_SNAPSHOT_BASE, "")
        return cls(
            id=snapshot_id,
            container=labels.get(LABEL_SNAPSHOT_CONTAINER, ""),
            name=labels.get(LABEL_SNAPSHOT_NAME, ""),
            created=labels.get(LABEL_SNAPSHOT_CREATED, ""),
            size=own_size(summary.get("Size") or 0, int(base) if base.isdigit() else 0),
            workdir=labels.get(LABEL_SNAPSHOT_WORKDIR, ""),
            files=labels.get(LABEL_SNAPSHOT_FILES, "image"),
            kind=labels.get(LABEL_SNAPSHOT_KIND, ""),
            origin=labels.get(LABEL_SNAPSHOT_ORIGIN, ""),
            image_id=summary.get("Id", ""),
            tagged=snapshot_tag(snapshot_id) in (summary.get("RepoTags") or []),
        )

    def to_json(self) -> dict:
        return {"id": self.id, "container": self.container, "name": self.name,
                "created": self.created, "size": self.size}


def snapshot_labels(*, snapshot_id: str, owner: str, container_id: str, name: str,
                    created: str, workdir: str, files: str, base_size: int,
                    origin: str = "", kind: str = "") -> dict:
    """The labels a snapshot image is given. Container labels that must not pass on to
    containers started from it (an engine commit keeps the container's labels, and a
    container inherits its image's) are emptied."""
    return {
        LABEL_ID: "", LABEL_PORTS: "", LABEL_SETUP: "", LABEL_DISK: "", LABEL_DISK_LIMIT: "",
        LABEL_OWNER: owner,
        LABEL_SNAPSHOT: snapshot_id,
        LABEL_SNAPSHOT_CONTAINER: container_id,
        LABEL_SNAPSHOT_NAME: name,
        LABEL_SNAPSHOT_CREATED: created,
        LABEL_SNAPSHOT_WORKDIR: workdir,
        LABEL_SNAPSHOT_FILES: files,
        LABEL_SNAPSHOT_KIND: kind,
        LABEL_SNAPSHOT_BASE: str(int(base_size)),
        LABEL_SNAPSHOT_ORIGIN: origin,
    }


def own_size(image_size: int, base_size: int) -> int:
    """Bytes a snapshot adds to the image its container was made from."""
    return max(0, int(image_size or 0) - int(base_size or 0))
