"""Containers on a real Docker Swarm (backend "swarm"): placed over the nodes, and every
REST capability works on whichever node a container lands."""

from __future__ import annotations

import asyncio
import base64

from tests.swarm.conftest import node_of


async def test_containers_spread_over_nodes_and_work_on_each(api, swarm_clients):
    made = await asyncio.gather(*(api.create(name=f"spread-{i}") for i in range(4)))
    nodes = {node_of(swarm_clients, c["id"]) for c in made}
    assert len(nodes) >= 2, nodes
    for container in made:
        assert container["status"] == "running"
        assert container["image"] == "jupyter-container-manager/node:24"
        assert container["limits"] == {"memory": 512 * 1024**2, "cpu_shares": 512, "pids": 512}

    async def use(container):
        cid = container["id"]
        text = f"hello from {cid}"
        wrote = await api.post("webcontainer", cid, "fs", "writeFile",
                               body={"path": "/a.txt", "contents": text})
        assert wrote.status == 204, wrote
        read = await api.get("webcontainer", cid, "fs", "readFile", "a.txt",
                             params={"encoding": "utf-8"})
        assert (read.status, read.text) == (200, text)
        raw = bytes(range(256)) * 64
        put = await api.put("webcontainer", cid, "fs", "writeFile", params={"path": "/b.bin"},
                            raw=raw)
        assert put.status == 204, put
        got = await api.get("webcontainer", cid, "fs", "readFile", "b.bin")
        assert got.body == raw
        ran = await api.post("webcontainer", cid, "spawn",
                             body={"command": "sh", "args": ["-c", "cat a.txt; id -un"]})
        assert ran.status == 200, ran
        assert ran.json() == {"exitCode": 0, "output": f"{text}node\n"}
        mounted = await api.post("webcontainer", cid, "mount", body={"tree": {
            "src": {"directory": {"x.js": {"file": {"contents": "1"}}}},
            "bin": {"file": {"contents": base64.b64encode(b"\0\1").decode(),
                             "encoding": "base64"}}}})
        assert mounted.status == 204, mounted
        exported = await api.get("webcontainer", cid, "export", params={"path": "/src"})
        assert exported.json() == {"x.js": {"file": {"contents": "1"}}}

    await asyncio.gather(*(use(c) for c in made))

    listed = await api.get("containers")
    assert sorted(c["id"] for c in listed.json()) == sorted(c["id"] for c in made)
    for container in made:
        got = await api.get("containers", container["id"])
        assert got.json()["status"] == "running"

    manager, _ = swarm_clients
    gone = made[0]["id"]
    assert (await api.delete("containers", gone)).status == 204
    assert (await api.get("containers", gone)).status == 404
    assert (await api.delete("containers", gone)).status == 404
    assert not manager.services.list(filters={"name": f"jcm-{gone}"})
    assert gone not in [c["id"] for c in (await api.get("containers")).json()]


async def test_stop_start_restart_keep_the_container_and_its_files(api, swarm_clients):
    container = await api.create(name="lifecycle")
    cid = container["id"]
    await api.post("webcontainer", cid, "fs", "writeFile",
                   body={"path": "/kept", "contents": "yes"})
    stopped = await api.post("containers", cid, "stop")
    assert stopped.status == 200 and stopped.json()["status"] == "stopped", stopped
    refused = await api.post("webcontainer", cid, "spawn", body={"command": "true"})
    assert refused.status == 409, refused
    await asyncio.sleep(1.5)  # the swarm has seen the task end: it must not replace it
    assert (await api.get("containers", cid)).json()["status"] == "stopped"
    started = await api.post("containers", cid, "start")
    assert started.status == 200 and started.json()["status"] == "running", started
    read = await api.get("webcontainer", cid, "fs", "readFile", "kept",
                         params={"encoding": "utf-8"})
    assert read.text == "yes"
    restarted = await api.post("containers", cid, "restart")
    assert restarted.json()["status"] == "running"
    assert [c["id"] for c in (await api.get("containers")).json()] == [cid]
    assert (await api.delete("containers", cid)).status == 204


async def test_hardening_on_the_swarm(api, swarm_clients):
    container = await api.create(name="hardening")
    ran = await api.post("webcontainer", container["id"], "spawn", body={
        "command": "sh", "args": ["-c", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; "
                                        "cat /sys/fs/cgroup/pids/pids.max; ulimit -n"]})
    lines = ran.json()["output"].split("\n")
    assert lines[0].split() == ["CapEff:", "0000000000000000"]
    assert lines[1].split() == ["NoNewPrivs:", "1"]
    assert lines[2:4] == ["512", "4096"]
    _, nodes = swarm_clients
    box = nodes[node_of(swarm_clients, container["id"])].containers.list(
        filters={"label": f"jupyter-container-manager.id={container['id']}"})[0]
    host = box.attrs["HostConfig"]
    assert (host["Memory"], host["MemorySwap"], host["CpuShares"]) == (512 * 1024**2,) * 2 + (512,)
    assert host["CapDrop"] == ["ALL"] and host["Init"] is True and not host["Privileged"]
