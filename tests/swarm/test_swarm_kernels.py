"""Kernels in containers on a real Docker Swarm: the server has no route to a worker
node's container, so the kernel listens on the container's loopback and the server
connects to listeners on its own loopback, carried by the container's agent. A notebook
kernel in an existing container (a file it writes shows in the container, interrupt,
restart, shutdown closes the listeners), run-code, and the "new container" spec."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from jupyter_container_manager.core.kernel_launch import PORT_NAMES
from tests.kernels.conftest import registered_provisioner  # noqa: F401 - a fixture
from tests.swarm.conftest import node_of, swarm_manager_config

pytestmark = pytest.mark.slow


@pytest.fixture
def manager_config(swarm, owner):
    """Containers on worker nodes only: never on the manager node's engine."""
    return {**swarm_manager_config(swarm, owner),
            "swarm_placement_constraints": ["node.role==worker"]}


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def listens_on_loopback(api, container_id: str, port: int) -> bool:
    """Whether ``port`` listens in the container on 127.0.0.1 (and not on 0.0.0.0)."""
    ran = await api.post("webcontainer", container_id, "spawn", body={
        "command": "cat", "args": ["/proc/net/tcp"]})
    rows = [line.split() for line in ran.json()["output"].splitlines()[1:]]
    listening = {row[1] for row in rows if row[3] == "0A"}
    return f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening


async def execute(client, code: str) -> tuple[dict, str]:
    seen: list[str] = []
    reply = await client.execute_interactive(
        code, timeout=60, output_hook=lambda m: seen.append(m["content"].get("text", "")))
    return reply["content"], "".join(seen)


async def test_a_notebook_kernel_in_a_worker_nodes_container(api, jp_serverapp,
                                                             swarm_clients):
    info = await api.create()
    cid = info["id"]
    assert node_of(swarm_clients, cid) != 0  # a worker's engine, not the manager's
    answer = await api.post("containers", cid, "kernels", body={"path": "on-swarm.ipynb"})
    assert answer.status == 201, answer  # no longer 422 on a swarm
    kernel_id = answer.json()["kernel"]["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    provisioner = km.provisioner
    # The server connects to its own loopback; the kernel listens on the container's.
    assert km.ip == "127.0.0.1"
    local_ports = [km.get_connection_info()[name] for name in PORT_NAMES]
    container_ports = [provisioner._ports[name] for name in PORT_NAMES]
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        for port in container_ports:
            assert await listens_on_loopback(api, cid, port), port
        content, out = await execute(client, (
            "import os, socket\nopen('from-kernel.txt', 'w').write('written on ' + "
            "socket.gethostname())\nprint(os.getcwd())"))
        assert content["status"] == "ok", content
        assert out.strip() == "/workspace"
        read = await api.get("webcontainer", cid, "fs", "readFile", "from-kernel.txt",
                             params={"encoding": "utf-8"})
        assert read.status == 200 and read.text.startswith("written on "), read

        await execute(client, "x = 41")
        msg_id = client.execute("while True: pass", stop_on_error=False)
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        await km.interrupt_kernel()
        reply = await client.get_shell_msg(timeout=15)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 10
        content, out = await execute(client, "print(x + 1)")
        assert (content["status"], out) == ("ok", "42\n")

        # A restart keeps the listeners (the clients' connections reconnect through them).
        await km.restart_kernel(now=False)
        await client.wait_for_ready(timeout=60)
        assert [km.get_connection_info()[name] for name in PORT_NAMES] == local_ports
        content, _ = await execute(client, "x")
        assert content["ename"] == "NameError"
    finally:
        client.stop_channels()
    assert (await api.delete("api", "kernels", kernel_id)).status == 204
    # The listeners closed with the kernel; the container was not the kernel's: kept.
    assert all(refused(port) for port in local_ports), local_ports
    assert (await api.get("containers", cid)).json()["status"] == "running"

    # run-code in the same container: its own warm kernel, through the same path.
    ran = await api.post("containers", cid, "run-code", body={
        "code": "print(open('from-kernel.txt').read()[:10])\n1 + 1"})
    assert ran.status == 200, ran
    assert ran.json()["stdout"] == "written on\n"
    assert ran.json()["results"][0]["data"]["text/plain"] == "2"
    assert (await api.delete("containers", cid)).status == 204


async def test_the_new_container_spec_on_a_swarm(api, jp_serverapp, swarm_clients):
    answer = await api.post("api", "kernels", body={"name": "python3-new-container"})
    assert answer.status == 201, answer
    kernel_id = answer.json()["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    cid = km.provisioner.container.id
    assert node_of(swarm_clients, cid) != 0
    local_ports = [km.get_connection_info()[name] for name in PORT_NAMES]
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        content, out = await execute(client, "import os; print(os.path.isdir('/workspace'))")
        assert (content["status"], out) == ("ok", "True\n")
    finally:
        client.stop_channels()
    assert [c["id"] for c in (await api.get("containers")).json()] == [cid]
    assert (await api.delete("api", "kernels", kernel_id)).status == 204
    assert all(refused(port) for port in local_ports)
    assert (await api.get("containers")).json() == []
    manager, _ = swarm_clients
    assert not manager.services.list(filters={"name": f"jcm-{cid}"})
