"""Snapshot labels <-> what the API tells (pure)."""

from __future__ import annotations

from jupyter_container_manager.core.models import LABEL_DISK, LABEL_ID, LABEL_OWNER
from jupyter_container_manager.core.snapshots import (
    SnapshotInfo,
    owned_filter,
    snapshot_labels,
    snapshot_tag,
)

SID = "6a1c4f8e-2b7d-4e0a-9c55-0f3e8d1b2a77"


def labels(**more):
    return snapshot_labels(snapshot_id=SID, owner="ann", container_id="c-1", name="ready",
                           created="2026-12-06T10:00:00.000+00:00", workdir="/workspace",
                           files="image", base_size=1000, **more)


def test_labels_round_trip_and_size_is_what_the_snapshot_adds():
    summary = {"Id": "sha256:abc", "Labels": labels(), "Size": 1500,
               "RepoTags": [snapshot_tag(SID)]}
    info = SnapshotInfo.from_image(summary)
    assert info.to_json() == {"id": SID, "container": "c-1", "name": "ready",
                              "created": "2026-12-06T10:00:00.000+00:00", "size": 500}
    assert info.tagged and info.image_id == "sha256:abc" and info.files == "image"


def test_container_labels_do_not_pass_on_to_containers_made_from_it():
    made = labels()
    assert made[LABEL_ID] == "" and made[LABEL_DISK] == "" and made[LABEL_OWNER] == "ann"


def test_an_untagged_image_is_no_snapshot_and_a_fork_is_marked():
    untagged = SnapshotInfo.from_image({"Id": "x", "Labels": labels(kind="fork"),
                                        "RepoTags": ["<none>:<none>"], "Size": 10})
    assert not untagged.tagged and untagged.kind == "fork" and untagged.size == 0


def test_owner_filter():
    assert owned_filter("ann") == {"label": ["jupyter-container-manager.owner=ann",
                                             "jupyter-container-manager.snapshot"]}
    assert owned_filter("ann", SID)["label"][1] == f"jupyter-container-manager.snapshot={SID}"
