"""A worker node that goes down (its engine killed, as in a crash): its containers answer
status "error" within seconds, never a 500 or a hang; the others go on; delete works.
The node is started again afterwards (`.ci/swarm.sh up`) and rejoins the swarm."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest

from tests.swarm.conftest import SWARM_SH, node_of


def kill_engine(node: int) -> None:
    """SIGKILL the dockerd of node ``node`` (1-based, as `.ci/swarm.sh` numbers them)."""
    with open(f"/run/docker-sw{node}/pid") as file:
        os.kill(int(file.read().strip()), signal.SIGKILL)


@pytest.fixture
def restore_swarm():
    yield
    done = subprocess.run(["bash", str(SWARM_SH), "up"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


async def test_containers_of_a_lost_worker_answer_error_and_can_be_deleted(
        api, swarm, swarm_clients, restore_swarm):
    manager_url, engines = swarm
    made, by_node = [], {}
    for i in range(8):
        container = await api.create(name=f"lost-{i}")
        made.append(container)
        by_node.setdefault(node_of(swarm_clients, container["id"]), []).append(container["id"])
        if len([n for n in by_node if engines[n] != manager_url]) >= 1 and len(by_node) >= 2:
            break
    lost_index = next(n for n in by_node if engines[n] != manager_url)
    kept_index = next(n for n in by_node if n != lost_index)
    lost, kept = by_node[lost_index][0], by_node[kept_index][0]

    kill_engine(lost_index + 1)
    started = time.monotonic()
    answer = await asyncio.wait_for(api.get("containers", lost), 30)
    assert answer.status == 200, answer
    assert answer.json()["status"] == "error", answer.json()
    listed = await asyncio.wait_for(api.get("containers"), 30)
    assert listed.status == 200, listed
    statuses = {c["id"]: c["status"] for c in listed.json()}
    assert statuses.get(lost) == "error" and statuses.get(kept) == "running", (statuses, lost, kept)
    assert set(statuses) == {c["id"] for c in made}, statuses
    assert time.monotonic() - started < 30

    used = await api.post("webcontainer", lost, "spawn", body={"command": "true"})
    assert used.status in (409, 503), used
    assert "Traceback" not in used.text
    ran = await api.post("webcontainer", kept, "spawn", body={"command": "echo", "args": ["ok"]})
    assert ran.json() == {"exitCode": 0, "output": "ok\n"}

    assert (await api.delete("containers", lost)).status == 204
    assert (await api.get("containers", lost)).status == 404
    assert lost not in [c["id"] for c in (await api.get("containers")).json()]
    manager, _ = swarm_clients
    assert not manager.services.list(filters={"name": f"jcm-{lost}"})
