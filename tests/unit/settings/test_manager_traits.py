"""The manager's settings as traits: byte sizes, bounds, extra_host_config, and the
manager class the app builds (pure: nothing reaches an engine)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_container_manager.app import ContainerManagerApp
from jupyter_container_manager.core.sizes import ByteSize, parse_size
from jupyter_container_manager.manager import ContainerManager
from jupyter_container_manager.tasks import TaskOwner


@pytest.mark.parametrize(("value", "size"), [("512m", 512 * 2**20), ("2g", 2 * 2**30),
                                             ("64MiB", 64 * 2**20), (" 1.5 G ", 3 * 2**29),
                                             (4096, 4096), ("100", 100)])
def test_byte_sizes_read_back_in_bytes(value, size):
    assert ContainerManager(memory_limit=value).memory_limit == size
    assert ContainerManager(max_file_size=value).max_file_size == size


@pytest.mark.parametrize("value", ["lots", "12 parsecs", -1, True, None, 1.5])
def test_bad_byte_sizes_are_refused(value):
    with pytest.raises(TraitError, match="memory_limit"):
        ContainerManager(memory_limit=value)


def test_byte_sizes_from_config_and_command_line():
    config = Config({"ContainerManager": {"memory_limit": "1g", "ws_send_buffer": "8m"}})
    manager = ContainerManager(config=config)
    assert (manager.memory_limit, manager.ws_send_buffer) == (2**30, 8 * 2**20)
    assert ByteSize().from_string("2g") == "2g"  # validated (and converted) on assignment
    assert parse_size("3k") == 3072


@pytest.mark.parametrize(("name", "value"), [
    ("ws_max_inflight", 0), ("docker_workers", 1), ("log_max_files", 0),
    ("max_containers_per_user", -1), ("idle_timeout", -5), ("ws_ping_timeout", -1.0),
    ("pty_replay_bytes", "100k"), ("ws_send_buffer", 0),
])
def test_bounds_are_traits(name, value):
    with pytest.raises(TraitError, match=name):
        ContainerManager(**{name: value})


def test_extra_host_config_defaults_to_nothing_and_takes_a_dict():
    assert ContainerManager().extra_host_config == {}
    manager = ContainerManager(config=Config(
        {"ContainerManager": {"extra_host_config": {"shm_size": "1g"}}}))
    assert manager.extra_host_config == {"shm_size": "1g"}
    with pytest.raises(TraitError):
        ContainerManager(extra_host_config=["privileged"])


def test_unknown_extra_host_config_is_refused_when_the_parts_are_built():
    manager = ContainerManager(extra_host_config={"privileged": False, "no_such": 1})
    with pytest.raises(ValueError, match="no_such"):
        manager.engine_url  # noqa: B018 - builds the parts


def test_a_settings_only_manager_builds_no_parts():
    manager = ContainerManager()
    assert not manager._built
    assert manager.memory_bytes == 512 * 2**20


class QuietManager(ContainerManager):
    """A subclass, as a deployment would name in container_manager_class."""


def test_the_app_builds_the_configured_manager_class():
    app = ContainerManagerApp(config=Config(
        {"ContainerManagerApp": {"container_manager_class": QuietManager},
         "ContainerManager": {"owner": "ann", "image": "node:22"}}))
    manager = app.container_manager_class(parent=app, log=app.log)
    assert isinstance(manager, QuietManager)
    assert (manager.owner, manager.image) == ("ann", "node:22")  # c.ContainerManager.*
    assert ContainerManager in app.classes
    with pytest.raises(TraitError):
        ContainerManagerApp(container_manager_class=dict)


async def test_the_task_owner_keeps_logs_and_cancels(caplog):
    owner = TaskOwner(logging.getLogger("test-tasks"))
    release = asyncio.Event()

    async def fails():
        raise RuntimeError("boom")

    async def waits():
        await release.wait()

    failing = owner.spawn(fails(), "a failing task")
    waiting = owner.spawn(waits(), "a waiting task")
    assert len(owner) == 2
    with caplog.at_level(logging.ERROR, "test-tasks"):
        await asyncio.wait([failing])
        await asyncio.sleep(0)
    assert "a failing task" in caplog.text and "boom" in caplog.text
    assert len(owner) == 1
    await owner.close()
    assert waiting.cancelled() and len(owner) == 0
