"""The warm pool on a real Docker Swarm: pooled containers are services named
jcm-pool-<id>; the hand-out labels the service in place (Swarm keeps the same task and
container), the labels are the only state (a second manager of the same owner, as a
restarted server is, finds the pool and the handed-out container as they are), and a
container is never handed out twice, not even by two managers at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_container_manager.base_handler import MANAGER_KEY
from jupyter_container_manager.core.models import LABEL_OWNER, POOL_NAME_PREFIX
from jupyter_container_manager.engine.swarm_pool import LABEL_HANDED_OUT
from jupyter_container_manager.manager import ContainerManager
from tests.swarm.conftest import node_of

pytestmark = pytest.mark.slow


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "warm_pool_size": 2}


def pool_services(swarm_clients, owner) -> dict:
    """The owner's jcm-pool-* services: name -> (service id, task id, container id,
    labels)."""
    manager, _ = swarm_clients
    found = {}
    for service in manager.services.list(filters={"label": f"{LABEL_OWNER}={owner}"}):
        name = service.attrs["Spec"]["Name"]
        if not name.startswith(POOL_NAME_PREFIX):
            continue
        tasks = [t for t in service.tasks() if t["DesiredState"] == "running"]
        (task,) = tasks
        found[name] = (service.id, task["ID"],
                       task["Status"].get("ContainerStatus", {}).get("ContainerID", ""),
                       service.attrs["Spec"].get("Labels") or {})
    return found


async def filled(manager, size: int, timeout: float = 60) -> None:
    manager.start_pool()  # the test server is not started the way `jupyter server` is
    deadline = time.monotonic() + timeout
    while manager.pool_ready < size:
        assert time.monotonic() < deadline, f"the pool has {manager.pool_ready} of {size}"
        await asyncio.sleep(0.1)


async def test_the_hand_out_is_a_label_and_the_labels_are_the_state(
        jp_serverapp, api, swarm_clients, manager_config, owner):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    await filled(manager, 2)
    # Another manager of the same owner, following the nodes' events as a server does.
    follower = ContainerManager(**{**manager_config, "warm_pool_size": 0})
    follower.start()
    try:
        await follow_a_hand_out(jp_serverapp, api, swarm_clients, manager_config, owner,
                                manager, follower)
    finally:
        await follower.close()


async def follow_a_hand_out(jp_serverapp, api, swarm_clients, manager_config, owner,
                            manager, follower):
    assert await follower._index.wait_fresh(30)
    assert await follower.list_containers() == []
    before = pool_services(swarm_clients, owner)
    assert len(before) == 2 and not any(LABEL_HANDED_OUT in s[3] for s in before.values())
    assert (await api.get("containers")).json() == []  # waiting: nobody's yet

    t0 = time.perf_counter()
    created = await api.create()
    took = time.perf_counter() - t0
    cid = created["id"]
    name = f"jcm-pool-{cid}"
    assert name in before, (cid, list(before))  # taken from the pool, not created
    assert took < 5, took
    # The service kept its name and its task: the same container runs on, now labelled.
    after = pool_services(swarm_clients, owner)
    assert after[name][:3] == before[name][:3]
    assert after[name][3][LABEL_HANDED_OUT] == f"jcm-{cid}"
    assert [c["id"] for c in (await api.get("containers")).json()] == [cid]
    # The follower learns of the hand-out from the node's events, without a rebuild.
    rebuilds = follower._index.rebuilds
    deadline = time.monotonic() + 15
    while [c.id for c in await follower.list_containers()] != [cid]:
        assert time.monotonic() < deadline, "the other manager never saw the hand-out"
        await asyncio.sleep(0.1)
    assert follower._index.fresh and follower._index.rebuilds == rebuilds
    got = await api.get("containers", cid)
    assert got.status == 200 and got.json()["status"] == "running"
    wrote = await api.post("webcontainer", cid, "fs", "writeFile",
                           body={"path": "/kept", "contents": "mine"})
    assert wrote.status == 204, wrote
    ran = await api.post("webcontainer", cid, "spawn", body={"command": "cat",
                                                             "args": ["kept"]})
    assert ran.json()["output"] == "mine"
    node = node_of(swarm_clients, cid)

    # Another manager of the same owner (what a restarted server is) reads the labels:
    # the handed-out container is the owner's, the other one still waits in the pool.
    other = ContainerManager(**{**manager_config, "warm_pool_size": 0})
    try:
        assert [c.id for c in await other.list_containers()] == [cid]
        assert (await other.get_container(cid)).status == "running"
        waiting = await other._lifecycle.pooled()
        waiting_ids = {p["id"] for p in waiting}
        (still,) = [n[len(POOL_NAME_PREFIX):] for n in before if n != name]
        assert still in waiting_ids and cid not in waiting_ids, waiting_ids
        # Never handed out twice: the taken one is refused to the other manager, and of
        # two managers taking the same waiting one at once, one gets it.
        docker_id = before[name][2]
        assert await other._lifecycle.hand_out(docker_id, cid) is None
        (left,) = [p for p in waiting if p["id"] == still]
        got_both = await asyncio.gather(
            other._lifecycle.hand_out(left["docker_id"], left["id"]),
            manager._lifecycle.hand_out(left["docker_id"], left["id"]))
        assert sum(info is not None for info in got_both) == 1, got_both
        assert LABEL_HANDED_OUT in pool_services(swarm_clients, owner)[
            f"jcm-pool-{left['id']}"][3]
    finally:
        await other.close()

    # Stop and start keep the handed-out container (and its name), delete removes it.
    assert (await api.post("containers", cid, "stop")).json()["status"] == "stopped"
    started = await api.post("containers", cid, "start")
    assert started.json()["status"] == "running", started
    assert node_of(swarm_clients, cid) == node
    read = await api.get("webcontainer", cid, "fs", "readFile", "kept",
                         params={"encoding": "utf-8"})
    assert read.text == "mine"
    assert (await api.delete("containers", cid)).status == 204
    assert (await api.get("containers", cid)).status == 404
    manager_client, _ = swarm_clients
    assert not manager_client.services.list(filters={"name": name})
