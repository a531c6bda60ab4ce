"""The index of the owner's containers (engine/index.py) on the real engine: listings and
the per-request check answer from it without engine calls, containers changed outside
the API (raw docker-py: stop, start, remove) show within a moment, and after a gap in the
event stream (the engine's socket cut by tests/support/engine_relay.py while containers
are removed, made and stopped by hand) it is rebuilt from the labels and right again."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from jupyter_container_manager.base_handler import MANAGER_KEY
from jupyter_container_manager.core.models import (
    LABEL_ID,
    LABEL_NAME,
    LABEL_OWNER,
    LABEL_WORKDIR,
)
from jupyter_container_manager.engine.index import TASK_NAME
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.engine_relay import EngineRelay
from tests.support.helpers import assert_error

SOON = 5.0  # seconds an outside change may take to show


async def eventually(check, timeout: float, what: str):
    """``await check()`` until it answers something true; that answer."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class EngineCalls:
    """Counts the backend's list and inspect calls made for requests (what a listing or
    a check costs; not the index's own, which follow events), leaving them working."""

    def __init__(self, backend, monkeypatch):
        self.calls: list[str] = []
        for name in ("list", "inspect"):
            real = getattr(backend, name)

            async def counted(*args, _real=real, _name=name, **kwargs):
                if TASK_NAME not in asyncio.current_task().get_name():
                    self.calls.append(_name)
                return await _real(*args, **kwargs)

            monkeypatch.setattr(backend, name, counted)


async def statuses(api) -> dict[str, str]:
    answer = await api.get("containers")
    assert answer.status == 200, answer
    return {c["id"]: c["status"] for c in answer.json()}


async def test_containers_changed_outside_the_api_show_within_a_moment(
    api, docker_client, jp_serverapp, monkeypatch
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    made = await api.create(name="outside")
    cid = made["id"]
    index = manager._index
    assert await index.wait_fresh(20), "the index did not follow the engine"
    rebuilds = index.rebuilds
    engine = EngineCalls(manager._backend, monkeypatch)
    # Listings and the per-request check of a file route cost no engine call.
    for _ in range(3):
        assert await statuses(api) == {cid: "running"}
        answer = await api.get("webcontainer", cid, "fs", "readdir", "")
        assert answer.status == 200, answer
    assert engine.calls == [], engine.calls

    box = docker_client.containers.get(f"jcm-{cid}")
    box.stop(timeout=0)  # by hand: the API never hears of it but through the engine
    await eventually(lambda: _is(api, {cid: "stopped"}), SOON, "the stop to show")
    assert_error(await api.get("webcontainer", cid, "fs", "readdir", ""), 409)

    box.start()
    listed = await eventually(lambda: _is(api, {cid: "running"}), SOON, "the start to show")
    assert listed
    assert (await api.get("webcontainer", cid, "fs", "readdir", "")).status == 200

    box.remove(force=True)
    await eventually(lambda: _is(api, {}), SOON, "the removal to show")
    assert_error(await api.get("webcontainer", cid, "fs", "readdir", ""), 404)
    assert index.fresh and index.rebuilds == rebuilds, "all by events, no gap"


async def _is(api, expected: dict) -> bool:
    return await statuses(api) == expected


@pytest.fixture
def relay():
    with EngineRelay(f"/tmp/jcm-relay-{uuid.uuid4().hex[:8]}.sock") as running:
        yield running


@pytest.fixture
def manager_config(manager_config, request):
    if "relay" in request.fixturenames:
        relay = request.getfixturevalue("relay")
        return {**manager_config, "docker_url": relay.url, "docker_timeout": 10.0}
    return manager_config


async def test_the_index_is_rebuilt_after_a_gap_in_the_event_stream(
    api, docker_client, jp_serverapp, relay, owner, monkeypatch
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    kept = (await api.create(name="kept"))["id"]
    removed = (await api.create(name="removed"))["id"]
    index = manager._index
    assert await index.wait_fresh(20)
    assert await statuses(api) == {kept: "running", removed: "running"}
    rebuilds = index.rebuilds

    relay.cut()  # the server's connections to the engine, its event stream among them
    await eventually(lambda: _async(not index.fresh), SOON, "the index to see the gap")
    # Meanwhile, on the engine's own socket: one container removed, one stopped, and one
    # made with the owner's labels (as another server of the same owner would).
    docker_client.containers.get(f"jcm-{removed}").remove(force=True)
    docker_client.containers.get(f"jcm-{kept}").stop(timeout=0)
    other = str(uuid.uuid4())
    docker_client.containers.run(
        TEST_IMAGE, ["sleep", "600"], name=f"jcm-{other}", detach=True, init=True,
        working_dir="/workspace",
        labels={LABEL_ID: other, LABEL_OWNER: owner, LABEL_NAME: "made-by-hand",
                LABEL_WORKDIR: "/workspace", RUN_LABEL: RUN_ID})
    # During the gap the API asks the engine (which it cannot reach now): 503, not an
    # answer from what the index knew before.
    assert (await api.get("containers")).status == 503

    relay.restore()
    assert await index.wait_fresh(20), "the index was not rebuilt"
    assert index.rebuilds == rebuilds + 1
    engine = EngineCalls(manager._backend, monkeypatch)
    assert await statuses(api) == {kept: "stopped", other: "running"}
    assert (await api.get("webcontainer", other, "fs", "readdir", "")).status == 200
    assert_error(await api.get("webcontainer", removed, "fs", "readdir", ""), 404)
    assert engine.calls.count("list") == 0, engine.calls
    # And it follows events again: a change by hand after the gap shows too.
    docker_client.containers.get(f"jcm-{other}").stop(timeout=0)
    await eventually(lambda: _is(api, {kept: "stopped", other: "stopped"}), SOON,
                     "the stop after the gap to show")


async def _async(value):
    return value
