"""Idle cleanup: containers the idle reaper stopped are removed after
`idle_remove_timeout`, with the removal hooks (joined sockets are told); containers
stopped otherwise, used meanwhile or started again are not. The reaper's mark survives a
server restart. `on_shutdown` keeps, stops or removes the containers of a stopping server."""

from __future__ import annotations

import asyncio
import time

import docker.errors
import pytest

from jupyter_container_manager.base_handler import MANAGER_KEY
from jupyter_container_manager.core.models import LABEL_OWNER
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.gateway_client import GatewayClient
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess


def docker_state(docker_client, container_id: str) -> tuple[str, int] | None:
    """(Docker status, exit code) without going through the API (no activity), or None."""
    try:
        container = docker_client.containers.get(f"jcm-{container_id}")
    except docker.errors.NotFound:
        return None
    return container.status, container.attrs["State"]["ExitCode"]


async def wait_until(predicate, timeout: float, what) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        described = what if isinstance(what, str) else what()
        assert time.monotonic() < deadline, f"timed out waiting for {described}"
        await asyncio.sleep(0.25)


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "idle_timeout": 3, "idle_remove_timeout": 3}


async def test_idle_stopped_containers_are_removed_and_others_are_not(
    jp_serverapp, jp_ws_fetch, api, docker_client
):
    jp_serverapp.web_app.settings[MANAGER_KEY].start()
    used = await api.create(name="used")
    by_hand = await api.create(name="by-hand")
    assert (await api.post("containers", by_hand["id"], "stop")).json()["status"] == "stopped"
    client = await GatewayClient.connect(jp_ws_fetch)
    try:
        # Created, joined and given a terminal well within idle_timeout (all of it use).
        idle = await api.create(name="idle")
        await client.join(idle["id"])
        tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        # Nobody uses them: both are stopped by the reaper, with its mark (exit code 138).
        # `used` (created first) is looked at from its stop on, so it is never removed.
        await wait_until(lambda: docker_state(docker_client, used["id"]) == ("exited", 138),
                         15, lambda: f"the idle stop: {docker_state(docker_client, used['id'])}")
        assert (await api.get("containers", used["id"])).json()["status"] == "stopped"
        deadline = time.monotonic() + 15
        while docker_state(docker_client, idle["id"]) not in (("exited", 138), None):
            assert time.monotonic() < deadline, docker_state(docker_client, idle["id"])
            assert (await api.get("containers", used["id"])).status == 200
            await asyncio.sleep(0.5)
        assert await client.push("container-status", timeout=10) == {
            "containerId": idle["id"], "status": "stopped"}
        assert (await client.push("pty-exit", timeout=10))["terminalId"] == tid
        deadline = time.monotonic() + 4  # past idle_remove_timeout since its stop, in use
        while time.monotonic() < deadline:
            assert (await api.get("containers", used["id"])).json()["status"] == "stopped"
            await asyncio.sleep(0.5)
        assert (await api.post("containers", used["id"], "start")).json()["status"] == "running"
        deadline = time.monotonic() + 15
        while docker_state(docker_client, idle["id"]) is not None:
            assert time.monotonic() < deadline, "the idle container was not removed"
            assert (await api.get("containers", used["id"])).json()["status"] == "running"
            await asyncio.sleep(0.5)
        assert await client.push("container-status", timeout=10) == {
            "containerId": idle["id"], "status": "removed"}
        assert_error(await api.get("containers", idle["id"]), 404)
        # In use past the removal timeout: still there and running.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            assert (await api.get("containers", used["id"])).json()["status"] == "running"
            await asyncio.sleep(0.5)
        # Stopped through the API: never removed.
        assert docker_state(docker_client, by_hand["id"]) == ("exited", 143)
    finally:
        client.close()


def server_config(owner: str, **extra) -> dict:
    return {"owner": owner, "image": TEST_IMAGE, "pull_missing_images": False,
            "extra_labels": {RUN_LABEL: RUN_ID}, **extra}


def test_the_idle_mark_survives_a_server_restart(owner, docker_client, tmp_path):
    """A server stops a container for idleness; the next one, with removal on, removes it
    (the mark is Docker's exit code and time, not the first server's memory)."""
    first = ServerProcess(server_config(owner, idle_timeout=2), base=tmp_path / "first")
    with first:
        info = first.request("POST", "containers", json={"name": "idle"}).json()
        deadline = time.monotonic() + 15
        while docker_state(docker_client, info["id"]) != ("exited", 138):
            assert time.monotonic() < deadline, "the first server did not stop it"
            time.sleep(0.25)
    second = ServerProcess(server_config(owner, idle_remove_timeout=2),
                           base=tmp_path / "second")
    with second:
        deadline = time.monotonic() + 15
        while docker_state(docker_client, info["id"]) is not None:
            assert time.monotonic() < deadline, "the second server did not remove it"
            time.sleep(0.25)
        assert second.request("GET", "containers").json() == []


def owned(docker_client, owner: str) -> dict[str, str]:
    found = docker_client.containers.list(
        all=True, filters={"label": f"{LABEL_OWNER}={owner}"})
    return {c.name: c.status for c in found}


@pytest.mark.parametrize("policy", ["keep", "stop", "remove"])
def test_on_shutdown_policy(policy, owner, docker_client, tmp_path):
    config = server_config(owner) if policy == "keep" else server_config(owner, on_shutdown=policy)
    with ServerProcess(config, base=tmp_path) as server:
        ids = [server.request("POST", "containers", json={"name": f"c{i}"}).json()["id"]
               for i in range(2)]
        assert server.request("POST", f"containers/{ids[1]}/stop").status_code == 200
        started = time.monotonic()
    took = time.monotonic() - started
    assert took < 20, took
    names = {f"jcm-{container_id}" for container_id in ids}
    if policy == "keep":
        assert owned(docker_client, owner) == {f"jcm-{ids[0]}": "running",
                                               f"jcm-{ids[1]}": "exited"}
    elif policy == "stop":
        assert owned(docker_client, owner) == {name: "exited" for name in names}
    else:
        assert owned(docker_client, owner) == {}
