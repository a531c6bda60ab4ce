"""The agent's lane (engine/agent_lane.py): file operations go over a direct connection to
the container's address once it is open, with the same answers; it serves this server
alone (a secret nobody in or beside the container can learn or skip), its port is never
reported as the user's, and whatever happens to it the operations still answer, over the
exec stream."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from jupyter_container_manager.engine.agent import LANE
from jupyter_container_manager.engine.agent_lane import SECRET_BYTES, use_lane
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.engine.test_agent import execs_during, some_operations
from tests.support.webcontainer_support import WebContainer, boot

# Run in another container: connect to the lane and say what came back.
PROBE = r"""
const net = require('net');
const [host, port, mode] = process.argv.slice(1);
const started = Date.now();
const socket = net.connect({ host, port: Number(port) });
let received = 0;
const done = (result) => { console.log(JSON.stringify(result)); process.exit(0); };
socket.on('connect', () => {
  if (mode === 'wrong') socket.write(Buffer.alloc(32, 7));
  if (mode === 'frame') { // a write request, as the server sends it, without the secret
    const body = Buffer.from(JSON.stringify({ workdir: '/workspace', op: 'write',
      path: '/workspace/from-outside', token: 'x' }) + '\0outside');
    const head = Buffer.alloc(9);
    head.writeUInt8(16, 0); head.writeUInt32BE(1, 1); head.writeUInt32BE(body.length, 5);
    socket.write(Buffer.concat([head, body]));
  }
});
socket.on('data', (data) => { received += data.length; });
socket.on('error', (err) => done({ error: err.code, received }));
socket.on('close', () => done({ closed: true, received, ms: Date.now() - started }));
setTimeout(() => done({ open: true, received }), 6000);
"""


def manager_of(jp_serverapp):
    return jp_serverapp.web_app.settings["container_manager"]


async def lane_of(manager, wc: WebContainer, timeout: float = 10.0):
    """The container's agent, once its lane is open (file operations open it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert (await wc.readdir()).status == 200
        agent = manager._agents.running(wc.container.id)
        if agent is not None and agent.lane is not None and agent.lane.alive:
            return agent
        await asyncio.sleep(0.05)
    raise AssertionError("the lane did not open")


async def test_file_operations_take_the_lane(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    lane = agent.lane
    assert lane.address == (await manager.require_running(wc.id)).address
    before = lane.requests
    time.sleep(1.1)  # events have whole seconds
    since = time.time()
    await some_operations(wc)  # same answers (errors included) as without the lane
    # Each of the 12 file operations that reach the container went over the lane...
    assert lane.requests - before == 12
    assert agent.lane is lane and lane.alive
    # ...and the 5 spawns over the exec stream, without a docker exec either.
    assert execs_during(docker_client, wc, since) == 0


async def test_the_lane_port_is_private(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    port = agent.lane.port
    tables = wc.container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).output.decode()
    assert f":{port:04X} 00000000:0000 0A" in tables  # it listens...
    info = await api.get("containers", wc.id)
    assert info.status == 200
    # ...but the container's ports are the user's: the lane's is not one of them.
    assert port not in [entry["port"] for entry in info.json()["ports"]]
    info_obj = await manager.require_running(wc.id)
    assert port not in await manager.listening_ports(info_obj)


@pytest.mark.parametrize("mode", ["nothing", "wrong", "frame"])
async def test_another_container_cannot_use_the_lane(mode, api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    network = next(iter(wc.container.attrs["NetworkSettings"]["Networks"]))
    output = docker_client.containers.run(
        TEST_IMAGE, ["node", "-e", PROBE, agent.lane.address, str(agent.lane.port), mode],
        network=network, labels={RUN_LABEL: RUN_ID}, remove=True,
    )
    result = json.loads(output.decode().strip().splitlines()[-1])
    # It reaches the port (the lane is on the container's network address)...
    assert result.get("closed"), result
    # ...which answers nothing, and closes: at once for wrong bytes, after the time
    # allowed for the secret for none.
    assert result["received"] == 0
    if mode == "nothing":
        assert 1500 <= result["ms"] < 6000
    else:
        assert result["ms"] < 1500
    assert wc.container.exec_run(["test", "-e", "/workspace/from-outside"]).exit_code == 1
    # The server's own lane goes on.
    assert agent.lane.alive
    before = agent.lane.requests
    assert (await wc.readdir()).status == 200
    assert agent.lane.requests == before + 1


async def test_a_wrong_secret_from_the_host_is_refused(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    wrong = bytes(b ^ 1 for b in agent.lane.secret)  # one bit off in every byte

    def attempt() -> bytes:
        with socket.create_connection((agent.lane.address, agent.lane.port), 5) as probe:
            probe.settimeout(5)
            probe.sendall(wrong)
            return probe.recv(100)  # b"": closed without a word

    assert await asyncio.to_thread(attempt) == b""


async def test_the_secret_cannot_be_read_in_the_container(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    secret = agent.lane.secret.hex()
    assert len(agent.lane.secret) == SECRET_BYTES
    container = wc.container
    pid = container.exec_run(["pgrep", "-f", "[j]upyter-container-manager agent"]).output
    pid = pid.decode().split()[0]
    look = "cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null; echo"
    # Not in any process's environment or arguments, for the container's user or another.
    for user in ("", "65534"):
        seen = container.exec_run(["sh", "-c", look], user=user).output
        assert b"jupyter-container-manager agent" in seen or user  # its user sees the agent
        assert secret.encode() not in seen and agent.lane.secret not in seen
    # An unprivileged user cannot read the agent's memory (or even its environment).
    for path in (f"/proc/{pid}/mem", f"/proc/{pid}/environ"):
        code, out = container.exec_run(["sh", "-c", f"exec 3<{path}"], user="65534")
        assert code != 0 and b"ermission denied" in out, out
    # Nor is it in what the engine keeps: the container, its execs, its log.
    container.reload()
    kept = json.dumps(container.attrs) + container.logs().decode(errors="replace")
    for exec_id in container.attrs.get("ExecIDs") or []:
        kept += json.dumps(docker_client.api.exec_inspect(exec_id))
    assert secret not in kept


async def many_writes(wc: WebContainer, count: int) -> None:
    answers = await asyncio.gather(*(wc.write(f"burst/{n}.txt", f"burst {n}")
                                     for n in range(count)))
    assert [answer.status for answer in answers] == [204] * count


async def check_writes(wc: WebContainer, count: int) -> None:
    for n in range(count):
        assert (await wc.read(f"burst/{n}.txt")).body == f"burst {n}".encode()
    assert sorted((await wc.readdir("burst")).json()) == sorted(f"{n}.txt" for n in range(count))
    assert (await wc.rm("burst", recursive=True)).status == 204


@pytest.mark.parametrize("where", ["server", "container"])
async def test_a_lane_killed_mid_use_falls_back(where, api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    lane = agent.lane
    assert (await wc.mkdir("burst")).status == 204

    in_flight = []

    async def kill() -> None:
        while not lane._replies:  # requests sent over the lane, not answered yet
            await asyncio.sleep(0)
        in_flight.append(len(lane._replies))
        if where == "server":
            lane._writer.transport.abort()
        else:  # the agent closes it (as when its socket is cut in the container)
            await agent.request(LANE, {"close": True})

    await asyncio.gather(many_writes(wc, 40), kill())
    await check_writes(wc, 40)
    assert in_flight[0] > 0 and lane.requests < 40  # some were cut off, and done again
    assert not lane.alive and agent.lane is None
    # Later operations go over the exec stream, the same answers.
    await some_operations(wc)
    assert agent.alive


async def test_the_lane_closes_with_the_container(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    lane = agent.lane
    assert (await api.post("containers", wc.id, "stop")).status == 200
    deadline = time.monotonic() + 10
    while lane.alive and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not lane.alive and not agent.alive
    assert (await api.post("containers", wc.id, "start")).status == 200
    again = await lane_of(manager, wc)  # a new agent, a new lane
    assert again is not agent and again.lane is not lane
    await some_operations(wc)


async def test_an_address_not_reachable_keeps_the_exec_stream(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    assert (await wc.readdir()).status == 200
    agent = manager._agents.running(wc.container.id)
    if agent.lane_opening is not None:
        await agent.lane_opening
    if agent.lane is not None:
        agent.lane.close()
    agent.lane_retry_at = 0.0
    use_lane(manager._agents, agent, wc.id, "192.0.2.1")  # TEST-NET-1: not the container's
    await agent.lane_opening
    assert agent.lane is None
    reply, _ = await agent.fs({"op": "readdir", "workdir": wc.workdir, "path": wc.workdir})
    assert "code" not in reply


@pytest.fixture
def without_lane(manager_config):
    manager_config["agent_lane"] = False


async def test_the_lane_can_be_turned_off(without_lane, api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    await some_operations(wc)
    agent = manager._agents.running(wc.container.id)
    assert agent is not None and agent.lane is None and agent.lane_opening is None


async def test_a_port_taken_by_the_user_stays_theirs(api, docker_client, jp_serverapp,
                                                     monkeypatch):
    from jupyter_container_manager.engine import agent_lane

    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    port = 45678
    wc.container.exec_run(
        ["node", "-e", f"require('net').createServer().listen({port}, '0.0.0.0')"],
        detach=True)
    info = await manager.require_running(wc.id)
    deadline = time.monotonic() + 10
    while port not in await manager.listening_ports(info) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    monkeypatch.setattr(agent_lane, "PORTS", range(port, port + 1))  # the lane wants it too
    assert (await wc.readdir()).status == 200
    agent = manager._agents.running(wc.container.id)
    if agent.lane_opening is not None:
        await agent.lane_opening
    assert agent.lane is None and not agent.lane_ports  # EADDRINUSE each time: no lane
    assert port in await manager.listening_ports(info)  # still the user's port
    assert (await wc.readdir()).status == 200
