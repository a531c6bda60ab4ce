"""The disk quota's pure parts (the mechanism itself is proven on the engine: case 19)."""

from __future__ import annotations

import os

from jupyter_container_manager.core.models import LABEL_DISK, LABEL_DISK_LIMIT
from jupyter_container_manager.engine.disk import (
    SHM_MAX,
    DiskQuota,
    bind_volume,
    disk_used,
    disk_volume_name,
    shm_bytes,
)


def test_shm_is_dockers_default_or_the_quota_when_less():
    assert shm_bytes(10 * 2**30) == SHM_MAX == 64 * 2**20
    assert shm_bytes(16 * 2**20) == 16 * 2**20


def test_the_bind_volume_is_anonymous_local_and_labelled():
    mount = bind_volume("/workspace", "/d/fs/work", {"a": "b"})
    assert mount["Target"] == "/workspace" and mount["Source"] is None
    assert mount["Type"] == "volume"
    options = mount["VolumeOptions"]
    assert options["NoCopy"] is True and options["Labels"] == {"a": "b"}
    assert options["DriverConfig"] == {
        "Name": "local", "Options": {"type": "none", "o": "bind", "device": "/d/fs/work"}}


def test_disk_use_only_of_a_mount_point(tmp_path):
    assert disk_used("") is None
    assert disk_used(str(tmp_path)) is None  # a plain directory: not a disk of ours
    assert isinstance(disk_used("/"), int) and disk_used("/") > 0


def test_no_quota_changes_nothing():
    options = {"labels": {}}
    DiskQuota(0).prepare(None, "id", "image", options, None)
    assert options == {"labels": {}}


class _Engine:
    """An engine that takes --storage-opt (answers the probe)."""

    def __init__(self):
        self.api = self
        self.calls = []

    def create_host_config(self, **kwargs):
        return kwargs

    def create_container(self, image, **kwargs):
        self.calls.append(("create", kwargs["host_config"]))
        return {"Id": "probe"}

    def remove_container(self, container, force):
        self.calls.append(("remove", container))


def test_where_the_engine_takes_storage_opt_it_bounds_the_whole_layer():
    engine, quota = _Engine(), DiskQuota(64 * 2**20, {"run": "x"})
    for _ in range(2):
        options = {"labels": {}, "working_dir": "/workspace"}
        quota.prepare(engine, "id", "image", options, (1000, 1000))
        assert options["storage_opt"] == {"size": str(64 * 2**20)}
        assert options["shm_size"] == 64 * 2**20 and "mounts" not in options
        assert options["labels"] == {LABEL_DISK: "storage", LABEL_DISK_LIMIT: str(64 * 2**20)}
    # Probed once, with a container that is created and removed, never started.
    assert engine.calls == [("create", {"storage_opt": {"size": "1g"}}), ("remove", "probe")]


def test_volume_names():
    assert disk_volume_name("abc") == "jcm-disk-abc"
    assert os.sep not in disk_volume_name("abc")
