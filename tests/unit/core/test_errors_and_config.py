"""Domain errors and settings, without a server."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_container_manager.config import ContainerManager, parse_memory
from jupyter_container_manager.core.errors import ContainerNotFound, FileSystemError, ImageNotFound


def test_node_style_messages_and_statuses():
    error = FileSystemError("ENOENT", "open", "/workspace/missing.js")
    assert error.message == "ENOENT: no such file or directory, open '/workspace/missing.js'"
    assert error.status == 404 and error.code == "ENOENT"
    assert error.to_json() == {"message": error.message, "reason": "Not Found", "code": "ENOENT"}
    rename = FileSystemError("ENOENT", "rename", "/w/a", "/w/b")
    assert rename.message == "ENOENT: no such file or directory, rename '/w/a' -> '/w/b'"
    assert FileSystemError("EACCES", "open", "/etc/passwd").status == 403
    assert FileSystemError("EEXIST", "mkdir", "/w").status == 409
    assert FileSystemError("EINVAL", "open", "/w").status == 400


def test_service_errors_carry_status_and_code():
    assert ContainerNotFound("x").status == 404
    missing = ImageNotFound("pull it")
    assert missing.status == 503 and missing.code == "IMAGE_NOT_FOUND"


@pytest.mark.parametrize("text, size", [("512m", 512 * 2**20), ("1g", 2**30), ("1.5G", 3 * 2**29),
                                        ("100", 100), ("64MiB", 64 * 2**20), (2048, 2048)])
def test_parse_memory(text, size):
    assert parse_memory(text) == size


def test_settings_defaults_and_validation(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ann")
    settings = ContainerManager()
    assert settings.owner == "ann"
    assert settings.memory_bytes == 512 * 2**20
    assert settings.cpu_shares == 512
    assert settings.workdir == "/workspace"
    assert settings.publish_ports is False
    with pytest.raises(TraitError):
        ContainerManager(memory_limit="lots")
    with pytest.raises(TraitError):
        ContainerManager(workdir="relative")
    with pytest.raises(TraitError):
        ContainerManager(docker_workers=1)


def test_disk_limit_is_off_by_default_and_checked():
    assert ContainerManager().disk_bytes == 0
    assert ContainerManager(disk_limit=" 2g ").disk_bytes == 2 * 2**30
    assert ContainerManager(disk_limit="16m").disk_bytes == 16 * 2**20
    for bad in ("lots", "1m", "-5g"):
        with pytest.raises(TraitError):
            ContainerManager(disk_limit=bad)


def test_settings_come_from_config():
    settings = ContainerManager(config=Config({"ContainerManager": {"owner": "bob", "cpu_shares": 256}}))
    assert (settings.owner, settings.cpu_shares) == ("bob", 256)
