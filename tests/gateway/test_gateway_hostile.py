"""Hostile clients of the ``/container`` WebSocket on the real engine: sockets
dropped mid-stream again and again, without a close frame.

Cross-origin handshakes are tested where the sockets are: tests/gateway/test_gateway.py
(``test_origin_is_checked_by_jupyters_rules``) and tests/proxy/test_proxy_websocket.py
(``test_an_upgrade_from_another_origin_on_the_cookie_is_refused``).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from tests.gateway.test_gateway_processes import spawn

STREAMER = "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 300000000"
PTY_STREAMER = "seq -f r%d-%%g 1 200000\r"  # ~2.4 MB, a second or two


def drop(client) -> None:
    """Cut the TCP connection under a socket, without a close frame: half the time with a
    reset (SO_LINGER 0), as a crashed browser or a lost network would."""
    stream = client.connection.protocol.stream
    if drop.reset:
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    drop.reset = not drop.reset
    stream.close()
    client._reader.cancel()


drop.reset = True


def processes(box) -> list[str]:
    """The command lines running in the container, sorted (``ps`` itself left out)."""
    out = box.exec_run(["ps", "-eo", "args="]).output.decode()
    return sorted(line.strip() for line in out.splitlines()
                  if line.strip() and not line.strip().startswith("ps -eo"))


STREAMS = ("yes 0123", "head -c", "seq -f")


async def quiet(box, timeout: float = 20.0) -> list[str]:
    """What the container runs once no stream of ours is left and two looks agree."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while True:
        now = await asyncio.to_thread(processes, box)
        if now == last and not any(s in line for line in now for s in STREAMS):
            return now
        if asyncio.get_running_loop().time() > deadline:
            columns = "pid,ppid,pgid,sid,stat,wchan:20,args:60"
            table = box.exec_run(["ps", "-eo", columns]).output.decode()
            raise AssertionError(f"the container still runs {now}\n{table[:3000]}")
        last = now
        await asyncio.sleep(0.3)


@pytest.mark.security_case(28)
async def test_sockets_dropped_mid_stream_leave_no_processes(ws, api, docker_client):
    """Processes a socket spawned end with it (README: closing the socket kills its
    processes); its PTY lives on by design, and is re-attached, never multiplied."""
    container = await api.create(name="drops")
    cid = container["id"]
    box = docker_client.containers.get(f"jcm-{cid}")

    async def round_trip(terminal: str | None, n: int) -> str:
        client = await ws()
        await client.join(cid)
        opened = await client.ok("pty-open", {"cols": 80, "rows": 24,
                                             **({"terminalId": terminal} if terminal else {})})
        tid = opened["terminalId"]
        assert opened["reattached"] is (terminal is not None)
        # The terminal streams, a process floods, and both are cut mid-way.
        await client.send("pty-input", {"terminalId": tid, "data": PTY_STREAMER % n})
        await client.pty_text(tid, f"r{n}-500\r")
        pid = await spawn(client, "sh", "-c", STREAMER)
        await client.push("process-output", lambda d: d["pid"] == pid)
        drop(client)
        return tid

    # One round first: the PTY's shell is what stays, and the baseline.
    tid = await round_trip(None, 0)
    baseline = await quiet(box)
    assert sum("bash" in line for line in baseline) == 1, baseline  # the PTY's shell

    for n in range(1, 16):
        assert await round_trip(tid, n) == tid
    assert await quiet(box) == baseline

    # The server is well: REST answers, a new socket joins and works, one terminal only.
    assert (await api.get("containers", cid)).json()["status"] == "running"
    client = await ws()
    joined = await client.join(cid)
    assert joined["terminals"] == [tid]
    echo = await spawn(client, "echo", "still-here")
    exit_ = await client.push("process-exit", lambda d: d["pid"] == echo)
    assert exit_["exitCode"] == 0


@pytest.mark.security_case(4, 10)
async def test_ids_that_are_not_this_sockets_get_errors(ws, api, docker_client):
    """A terminal of another container, a process of another socket, and paths that
    leave the workdir: each an ``error`` with a code, the socket lives on, and nothing
    reaches the other container."""
    ours, theirs = await api.create(name="ours"), await api.create(name="theirs")
    their_box = docker_client.containers.get(f"jcm-{theirs['id']}")
    owner = await ws()
    await owner.join(theirs["id"])
    their_tid = (await owner.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    their_pid = await spawn(owner, "sleep", "4545")

    client = await ws()
    await client.join(ours["id"])
    poke = "touch /tmp/pwned\r"
    for event, data in (
        ("pty-input", {"terminalId": their_tid, "data": poke}),
        ("pty-resize", {"terminalId": their_tid, "cols": 10, "rows": 5}),
        ("pty-close", {"terminalId": their_tid, "kill": True}),
    ):
        answer = await client.request(event, data)
        assert answer["event"] == "error", answer
        assert answer["data"]["code"] == "ENOTERMINAL", answer
    for data in (
        {"type": "input", "pid": their_pid, "data": "x"},
        {"type": "kill", "pid": their_pid},
        {"type": "resize", "pid": their_pid, "cols": 10, "rows": 5},
    ):
        answer = await client.request("process-operation", data)
        assert answer["event"] == "error" and answer["data"]["code"] == "ESRCH", answer
    # Reopening another container's terminal id opens a new terminal here instead.
    opened = await client.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": their_tid})
    assert opened["reattached"] is False and opened["terminalId"] != their_tid
    for kind, data in (
        ("readFile", {"path": "/../etc/passwd"}),
        ("writeFile", {"path": "../../tmp/pwned", "contents": "x"}),
        ("readdir", {"path": "a/../../.."}),
        ("mkdir", {"path": "/../tmp/pwned-dir", "recursive": True}),
        ("rm", {"path": "/../tmp", "recursive": True, "force": True}),
        ("rename", {"oldPath": "/../etc/hostname", "newPath": "/stolen"}),
        ("stat", {"path": ".."}),
    ):
        answer = await client.fs(kind, **data)
        assert answer["event"] == "error" and answer["data"]["code"] == "EACCES", (kind, answer)
    # The socket lives on; the other container's process and terminal were not touched.
    assert (await client.fs("readdir", path="/"))["event"] == "fs-result"
    assert b"sleep 4545" in their_box.exec_run(["ps", "-eo", "args"]).output
    assert their_box.exec_run(["test", "-e", "/tmp/pwned"]).exit_code != 0
    assert (await owner.join(theirs["id"]))["terminals"] == [their_tid]


def rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))


@pytest.mark.security_case(22)
async def test_a_100_mb_frame_is_refused_at_its_header(ws, api, jp_http_port, jp_base_url,
                                                       jp_auth_header):
    """Tornado's websocket_max_message_size (10 MiB unless Jupyter's tornado_settings say
    otherwise) closes the socket with 1009 on the frame header, before the payload is read:
    the server (in this process) does not grow by the frame."""
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write((
        f"GET {jp_base_url}container HTTP/1.1\r\nHost: 127.0.0.1:{jp_http_port}\r\n"
        f"Authorization: {jp_auth_header['Authorization']}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    size = 100 * 1024**2
    before = rss()
    started = time.monotonic()
    # A masked text frame with a zero mask key (the payload goes as is).
    writer.write(bytes([0x81, 0x80 | 127]) + struct.pack(">Q", size) + b"\0\0\0\0")
    sent = 0
    chunk = b"x" * 1024**2

    async def send():
        nonlocal sent
        while sent < size:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    sender = asyncio.ensure_future(send())
    try:
        close = await asyncio.wait_for(reader.readexactly(4), 10)
        elapsed = time.monotonic() - started
    finally:
        sender.cancel()
        writer.close()
    assert close[0] == 0x88, close  # a close frame...
    assert struct.unpack(">H", close[2:4])[0] == 1009, close  # ...message too big
    grown = rss() - before
    print(f"1009 after {elapsed * 1000:.0f} ms, {sent / 1024**2:.0f} MiB sent, "
          f"RSS +{grown / 1024**2:.1f} MiB")
    assert elapsed < 2.0 and sent < 50 * 1024**2, (elapsed, sent)
    assert grown < 30 * 1024**2, grown
    # The server is well: a new socket works.
    client = await ws()
    container = await api.create(name="frame")
    assert (await client.join(container["id"]))["status"] == "running"
