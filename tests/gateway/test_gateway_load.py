"""The gateway under load, on the real engine: a socket that stops reading holds back its
own process (backpressure) and misses terminal output (dropped, and told so), while server
memory stays bounded and other sockets go on; a line that runs too long is ended."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from jupyter_container_manager.base_handler import ROOMS_KEY

SEND_BUFFER = 256 * 1024


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "ws_send_buffer": SEND_BUFFER, "terminal_timeout": 2}




def sessions_of(jp_serverapp, container_id):
    rooms = jp_serverapp.web_app.settings[ROOMS_KEY]
    return list(rooms._members.get(container_id, ()))


def rss_mib() -> float:
    """This process's resident memory now (the test server runs in it)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def request(connection, event, data, request_id):
    await connection.write_message(json.dumps({"event": event, "id": request_id, "data": data}))
    while True:
        message = await asyncio.wait_for(connection.read_message(), 15)
        frame = json.loads(message)
        if frame.get("id") == request_id:
            return frame


@pytest.mark.security_case(20)
async def test_a_socket_that_stops_reading_slows_its_process_not_the_server(
        jp_serverapp, jp_ws_fetch, ws, api):
    container = await api.create(name="load")
    stalled = await jp_ws_fetch("container")
    await request(stalled, "join-container", {"containerId": container["id"]}, "j")
    spawned = await request(stalled, "process-operation", {
        "type": "spawn", "command": "sh",
        "args": ["-c", "yes 0123456789abcdef | head -c 2000000000; echo finished > done"],
    }, "s")
    pid = spawned["data"]["pid"]
    before = rss_mib()
    # The socket reads nothing more for a while.
    other = await ws()
    await other.join(container["id"])
    for _ in range(4):
        await asyncio.sleep(0.5)
        started = asyncio.get_running_loop().time()
        assert (await other.request("fs-operation", {"type": "readdir", "path": "/"}))[
            "event"] == "fs-result"
        assert asyncio.get_running_loop().time() - started < 3
    session = next(s for s in sessions_of(jp_serverapp, container["id"]) if pid in s.processes)
    relay_limit = session.processes[pid].BUFFER
    assert session.outbox.size <= SEND_BUFFER + 2 * relay_limit
    assert rss_mib() - before < 64  # 2 GB of output did not land in server memory
    listing = await other.request("fs-operation", {"type": "readdir", "path": "/"})
    assert "done" not in listing["data"]["result"]  # the process waits for its reader
    await other.ok("fs-operation", {"type": "stat", "path": "/"})
    stalled.close()


@pytest.mark.security_case(20)
async def test_terminal_output_is_dropped_for_a_slow_socket_only(jp_serverapp, jp_ws_fetch,
                                                                   ws, api):
    container = await api.create(name="load")
    reader = await ws()
    await reader.join(container["id"])
    tid = (await reader.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]

    stalled = await jp_ws_fetch("container")
    await request(stalled, "join-container", {"containerId": container["id"]}, "j")
    await request(stalled, "pty-open", {"cols": 80, "rows": 24, "terminalId": tid}, "p")
    # Nothing is read from `stalled` from now on.
    flood = "yes 0123456789 | head -c 30000000; echo DONE-$((1+2))\r"
    await reader.send("pty-input", {"terminalId": tid, "data": flood})
    # The reading socket is not held up by the stalled one (it reads as fast as this test
    # process can, so it may miss some output itself: ask again until the shell answers).
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        try:
            await reader.pty_text(tid, "FIN-4", timeout=3)
            break
        except AssertionError:
            assert asyncio.get_running_loop().time() < deadline, "the reader was held up"
            await reader.send("pty-input", {"terminalId": tid, "data": "echo FIN-$((2+2))\r"})
    stalled_session = max(sessions_of(jp_serverapp, container["id"]),
                          key=lambda session: session.outbox.size)
    assert stalled_session.outbox.dropped > 0
    assert stalled_session.outbox.size <= SEND_BUFFER + 128 * 1024
    # Reading again: it learns how much it missed.
    dropped = None
    for _ in range(5000):
        try:
            message = await asyncio.wait_for(stalled.read_message(), 2)
        except asyncio.TimeoutError:  # all it had is read: more output brings the count
            await reader.send("pty-input", {"terminalId": tid, "data": "echo more\r"})
            continue
        frame = json.loads(message)
        if frame["event"] == "pty-output" and frame["data"].get("dropped"):
            dropped = frame["data"]["dropped"]
            break
    assert dropped and dropped > 0
    stalled.close()


@pytest.mark.security_case(24)
async def test_a_line_past_terminal_timeout_is_ended_with_its_children(ws, api, docker_client):
    container = await api.create(name="load")
    client = await ws()
    await client.join(container["id"])
    started = asyncio.get_running_loop().time()
    reply = await client.request("terminal-input",
                                 {"input": "cd /tmp; echo begun; sleep 4141 & sleep 4242"})
    assert reply["event"] == "terminal-output"
    assert reply["data"]["exitCode"] == 124 and reply["data"]["timedOut"] is True
    assert reply["data"]["output"].startswith("begun")
    assert reply["data"]["cwd"] == "/workspace"  # killed before it could keep /tmp
    assert asyncio.get_running_loop().time() - started < 8
    box = docker_client.containers.get(f"jcm-{container['id']}")
    assert b"sleep 4" not in box.exec_run(["ps", "-eo", "args"]).output
