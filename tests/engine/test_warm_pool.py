"""The warm pool: boot and create with the defaults take a started container
at once; the pool refills, is never listed or counted; a stopped server removes it and
the server after a crash adopts it."""

from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_container_manager.base_handler import MANAGER_KEY
from jupyter_container_manager.core.models import LABEL_OWNER, POOL_NAME_PREFIX
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import boot


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "warm_pool_size": 2}


def pooled(docker_client, owner) -> list:
    found = docker_client.containers.list(filters={"label": f"{LABEL_OWNER}={owner}"})
    return [c for c in found if c.name.startswith(POOL_NAME_PREFIX)]


async def filled(manager, size: int, timeout: float = 30) -> None:
    manager.start_pool()  # the test server is not started the way `jupyter server` is
    deadline = time.monotonic() + timeout
    while manager.pool_ready < size:
        assert time.monotonic() < deadline, f"the pool has {manager.pool_ready} of {size}"
        await asyncio.sleep(0.1)


async def test_boot_takes_a_pooled_container_and_the_pool_refills(
    jp_serverapp, api, docker_client, owner
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    await filled(manager, 2)
    waiting = {c.id for c in pooled(docker_client, owner)}
    assert len(waiting) == 2
    # Waiting containers are nobody's yet: not listed.
    assert (await api.get("containers")).json() == []

    wc = await boot(api, docker_client)
    taken = docker_client.containers.get(f"jcm-{wc.id}")
    assert taken.id in waiting and taken.status == "running"
    assert [c["id"] for c in (await api.get("containers")).json()] == [wc.id]
    # It works like any other: files, processes.
    assert (await wc.spawn("sh", "-c", "pwd; echo ok > f")).json()["output"] == "/workspace\n"
    assert (await wc.readdir()).json() == ["f"]

    # POST /containers with files takes one too, and mounts them.
    created = await api.create(files={"a.txt": {"file": {"contents": "A"}}})
    assert docker_client.containers.get(f"jcm-{created['id']}").id in waiting
    answer = await api.get("webcontainer", created["id"], "fs", "readFile", "a.txt")
    assert answer.body == b"A"

    await filled(manager, 2)
    assert len(pooled(docker_client, owner)) == 2
    assert not {c.id for c in pooled(docker_client, owner)} & waiting

    # What the defaults do not describe is created the usual way.
    named = await api.create(name="mine")
    assert docker_client.containers.get(f"jcm-{named['id']}").id not in waiting
    assert named["name"] == "mine"


@pytest.fixture
def one_each(manager_config):
    manager_config.update(warm_pool_size=1, max_containers_per_user=1)


async def test_pooled_containers_do_not_count_against_the_quota(
    one_each, jp_serverapp, api, docker_client
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    await filled(manager, 1)
    await boot(api, docker_client)
    await filled(manager, 1)
    assert_error(await api.post("webcontainer", "boot", body={}), 429)
    assert manager.pool_ready == 1  # the refusal did not spend the pool


def test_a_crashed_servers_pool_is_adopted_and_a_stopped_one_removed(
    manager_config, docker_client, owner
):
    with ServerProcess(manager_config) as server:
        deadline = time.monotonic() + 30
        while len(pooled(docker_client, owner)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        before = {c.id for c in pooled(docker_client, owner)}
        server.process.kill()  # a crash: the pool stays behind
        server.process.wait(10)
        server.process = None
        server.start()
        booted = server.request("POST", "webcontainer/boot", json={})
        assert booted.status_code == 201, booted.text
        taken = docker_client.containers.get(f"jcm-{booted.json()['containerId']}")
        assert taken.id in before  # handed out at once by the new server
        assert server.request("GET", "containers").json()[0]["id"] == taken.labels[
            "jupyter-container-manager.id"]
        deadline = time.monotonic() + 30
        while len(pooled(docker_client, owner)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    # A server that stops removes its pool; the users' containers stay.
    assert pooled(docker_client, owner) == []
    assert docker_client.containers.get(taken.id).status == "running"
