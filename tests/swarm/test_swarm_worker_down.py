"""Faults on a real Docker Swarm: a worker whose engine is killed (a crash) or stops
answering (a hang). Its containers answer status "lost" with a reason naming the node,
within seconds, never a 500 or a hang; operations on them answer 503 naming the node;
delete works; nothing is recreated; the other nodes' containers go on. When the node is
back, its containers come back as its engine has them (stopped after a crash, running
after a hang) and those deleted meanwhile are gone from it.

Each step waits for a condition with a deadline (never a fixed sleep), and the node is
always restored (SIGCONT, or `.ci/swarm.sh up`) before the test ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time

import docker
import pytest

from tests.swarm.conftest import SWARM_SH, node_of

LOST_WITHIN = 30.0  # seconds: the bound for a lost node's containers to say so
NODE_TIMEOUT = 2.0  # the servers' swarm_node_timeout here


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "swarm_node_timeout": NODE_TIMEOUT}


def engine_pid(node: int) -> int:
    """The dockerd of node ``node`` (1-based, as `.ci/swarm.sh` numbers them)."""
    with open(f"/run/docker-sw{node}/pid") as file:
        return int(file.read().strip())


def swarm_up() -> None:
    done = subprocess.run(["bash", str(SWARM_SH), "up"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


async def until(check, timeout: float, what: str, every: float = 0.25):
    """Call ``check`` (async) until it answers something true; that answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what} (last: {answer!r})")
        await asyncio.sleep(every)


async def placed(api, swarm, swarm_clients, *, on_worker: int = 2, elsewhere: int = 1):
    """Containers until a worker node (not the manager) runs ``on_worker`` of them and
    another node ``elsewhere``: ``(worker index, [its ids], [ids elsewhere], all)``."""
    manager_url, engines = swarm
    made, by_node = [], {}
    for i in range(12):
        container = await api.create(name=f"fault-{i}")
        made.append(container["id"])
        by_node.setdefault(node_of(swarm_clients, container["id"]), []).append(container["id"])
        workers = [n for n, ids in by_node.items()
                   if engines[n] != manager_url and len(ids) >= on_worker]
        for worker in workers:
            others = [cid for n, ids in by_node.items() if n != worker for cid in ids]
            if len(others) >= elsewhere:
                return worker, by_node[worker], others, made
    raise AssertionError(f"12 containers did not spread as needed: {by_node}")


def node_id(swarm_clients, index: int) -> str:
    return swarm_clients[1][index].info()["Swarm"]["NodeID"]


async def assert_lost(api, cid: str, node: str) -> dict:
    answer = await asyncio.wait_for(api.get("containers", cid), LOST_WITHIN)
    assert answer.status == 200, answer
    info = answer.json()
    assert info["status"] == "lost" and node[:12] in info["reason"], info
    return info


async def test_a_killed_worker_lost_then_back_stopped_and_nothing_recreated(
        api, ws, swarm, swarm_clients):
    manager, nodes = swarm_clients
    worker, on_worker, others, made = await placed(api, swarm, swarm_clients)
    kept, deleted = on_worker[:2]
    node = node_id(swarm_clients, worker)
    wrote = await api.post("webcontainer", kept, "fs", "writeFile",
                           body={"path": "/kept.txt", "contents": "before the crash"})
    assert wrote.status == 204, wrote
    socket = await ws()
    await socket.join(kept)
    terminal = (await socket.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await socket.send("pty-input", {"terminalId": terminal, "data": "echo up-$((6*7))\r"})
    await socket.pty_text(terminal, "up-42")

    os.kill(engine_pid(worker + 1), signal.SIGKILL)
    try:
        started = time.monotonic()
        await assert_lost(api, kept, node)
        # The joined socket: its terminal ended, and it is told, with the node named.
        told = await socket.push("container-status", lambda d: d["status"] == "lost",
                                 timeout=LOST_WITHIN)
        assert told["code"] == "ENGINE_UNAVAILABLE" and node[:12] in told["message"], told

        async def listed_lost():
            answer = await asyncio.wait_for(api.get("containers"), LOST_WITHIN)
            assert answer.status == 200, answer
            statuses = {c["id"]: c["status"] for c in answer.json()}
            assert set(statuses) == set(made), statuses
            want = {cid: "lost" if cid in on_worker else "running" for cid in made}
            return statuses == want and statuses
        await until(listed_lost, LOST_WITHIN, "the listing says lost for the worker's")
        assert time.monotonic() - started < LOST_WITHIN

        used = await api.post("webcontainer", kept, "spawn", body={"command": "true"})
        assert used.status == 503 and node[:12] in used.json()["message"], used
        stopped = await api.post("containers", kept, "stop")
        assert stopped.status == 503, stopped
        for cid in others:
            ran = await api.post("webcontainer", cid, "spawn",
                                 body={"command": "echo", "args": ["ok"]})
            assert ran.json() == {"exitCode": 0, "output": "ok\n"}, ran

        assert (await api.delete("containers", deleted)).status == 204
        assert (await api.get("containers", deleted)).status == 404
        assert deleted not in [c["id"] for c in (await api.get("containers")).json()]
        assert not manager.services.list(filters={"name": f"jcm-{deleted}"})

        # The manager marks the node down (its heartbeats stop): the task of `kept` is
        # not replaced on another node (restart condition "none").
        def node_down() -> bool:
            return manager.nodes.get(node).attrs["Status"]["State"] == "down"
        await until(lambda: asyncio.to_thread(node_down), 90, "the manager marks the node down",
                    every=1)
        service = manager.services.list(filters={"name": f"jcm-{kept}"})[0]
        tasks = service.tasks()
        assert len(tasks) == 1 and tasks[0]["NodeID"] == node, tasks
        assert (await api.get("containers", kept)).json()["status"] == "lost"
    finally:
        swarm_up()

    # Back: `kept` is as its engine has it after the crash (stopped, files kept), and a
    # start brings it back; `deleted` was removed from the node by its swarm agent.
    async def back_stopped():
        return (await api.get("containers", kept)).json()["status"] == "stopped"
    await until(back_stopped, 30, "the worker's container comes back stopped")
    told = await socket.push("container-status", lambda d: d["status"] == "stopped", timeout=30)
    assert told["containerId"] == kept
    socket.close()
    started = await api.post("containers", kept, "start")
    assert started.status == 200 and started.json()["status"] == "running", started
    read = await api.get("webcontainer", kept, "fs", "readFile", "kept.txt",
                         params={"encoding": "utf-8"})
    assert read.text == "before the crash"
    assert len(manager.services.list(filters={"name": f"jcm-{kept}"})[0].tasks()) == 1

    worker_engine = nodes[worker]

    def deleted_gone() -> bool:
        return not worker_engine.containers.list(
            all=True, filters={"label": f"jupyter-container-manager.id={deleted}"})
    await until(lambda: asyncio.to_thread(deleted_gone), 30,
                "the container deleted while its node was down is removed")


async def test_a_worker_whose_engine_hangs_answers_lost_and_503_at_once(
        api, swarm, swarm_clients):
    manager, nodes = swarm_clients
    worker, on_worker, others, made = await placed(api, swarm, swarm_clients)
    kept, deleted = on_worker[:2]
    node = node_id(swarm_clients, worker)
    pid = engine_pid(worker + 1)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        await assert_lost(api, kept, node)
        assert time.monotonic() - started < NODE_TIMEOUT + 5

        # Now known down: its containers answer at once, the others as ever.
        quick = time.monotonic()
        want = {cid: "lost" if cid in on_worker else "running" for cid in made}

        async def listed_lost():
            listed = await api.get("containers")
            return {c["id"]: c["status"] for c in listed.json()} == want
        await until(listed_lost, NODE_TIMEOUT, "the listing says lost for the worker's")
        used = await api.post("webcontainer", kept, "spawn", body={"command": "true"})
        assert used.status == 503 and node[:12] in used.json()["message"], used
        read = await api.get("webcontainer", kept, "fs", "readdir", "")
        assert read.status == 503, read
        for cid in others:
            ran = await api.post("webcontainer", cid, "spawn",
                                 body={"command": "echo", "args": ["ok"]})
            assert ran.json() == {"exitCode": 0, "output": "ok\n"}, ran
        assert time.monotonic() - quick < NODE_TIMEOUT, "a known-down node was waited for"

        assert (await api.delete("containers", deleted)).status == 204
        assert (await api.get("containers", deleted)).status == 404
        assert not manager.services.list(filters={"name": f"jcm-{deleted}"})
    finally:
        os.kill(pid, signal.SIGCONT)

    # Back: the hang kept `kept` running; it answers again once a probe finds the node.
    async def back_running():
        return (await api.get("containers", kept)).json()["status"] == "running"
    await until(back_running, 30, "the worker's container comes back running")
    ran = await api.post("webcontainer", kept, "spawn", body={"command": "echo", "args": ["ok"]})
    assert ran.json() == {"exitCode": 0, "output": "ok\n"}, ran
    statuses = {c["id"]: c["status"] for c in (await api.get("containers")).json()}
    assert statuses == {cid: "running" for cid in made if cid != deleted}, statuses

    def deleted_gone() -> bool:
        with contextlib.suppress(docker.errors.APIError):
            return not nodes[worker].containers.list(
                all=True, filters={"label": f"jupyter-container-manager.id={deleted}"})
        return False
    await until(lambda: asyncio.to_thread(deleted_gone), 30,
                "the container deleted while its node hung is removed")
