"""Order on one socket: requests about one terminal or one process apply
in the order they were sent, on the real engine. A resize sent right before input is on
the tty when the input is read; a kill sent right after input comes after that input
reached the process. Other targets are not held up by a busy one."""

from __future__ import annotations

import asyncio
import re

from tests.gateway.test_gateway_processes import output_of, spawn

ROUNDS = 20


def size_for(i: int) -> tuple[int, int]:
    """A size that differs from the one before in both columns and rows."""
    return 60 + i, 20 + i


async def pty_match(client, tid: str, pattern: str, timeout: float = 15.0) -> re.Match:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    regex = re.compile(pattern)
    while True:
        text = "".join(d["data"] for d in client.pushes("pty-output") if d["terminalId"] == tid)
        if found := regex.search(text):
            return found
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"{pattern!r} not in terminal output ...{text[-600:]!r}")
        await client.wait_for(lambda f: True, left, start=len(client.frames))


async def test_pty_resize_then_input_sees_the_new_size_every_time(ws, api):
    container = await api.create(name="order")
    client = await ws()
    await client.join(container["id"])
    tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await client.send("pty-input", {"terminalId": tid, "data": "echo S$((6*7))E\r"})
    await pty_match(client, tid, r"S42E\r\n")  # the shell reads its input
    seen = []
    for i in range(ROUNDS):
        cols, rows = size_for(i)
        # Back to back, no wait for the resize's reply: as a script or a program would.
        await client.send("pty-resize", {"terminalId": tid, "cols": cols, "rows": rows})
        await client.send("pty-input", {"terminalId": tid, "data": f'echo "S$(stty size)E{i}"\r'})
        found = await pty_match(client, tid, rf"S(\d+) (\d+)E{i}\r\n")
        seen.append((int(found[2]), int(found[1])))
    assert seen == [size_for(i) for i in range(ROUNDS)]


async def test_process_resize_then_input_sees_the_new_size_every_time(ws, api):
    container = await api.create(name="order")
    client = await ws()
    await client.join(container["id"])
    script = 'while IFS= read -r l; do echo "S$(stty size)E$l"; done'
    pid = await spawn(client, "sh", "-c", script, terminal={"cols": 80, "rows": 24})
    seen = []
    for i in range(ROUNDS):
        cols, rows = size_for(i)
        await client.send("process-operation", {"type": "resize", "pid": pid,
                                                "cols": cols, "rows": rows})
        await client.send("process-operation", {"type": "input", "pid": pid, "data": f"{i}\n"})
        pattern = re.compile(rf"S(\d+) (\d+)E{i}\r\n")
        await client.wait_for(lambda f: pattern.search(output_of(client, pid)) is not None)
        found = pattern.search(output_of(client, pid))
        seen.append((int(found[2]), int(found[1])))
    assert seen == [size_for(i) for i in range(ROUNDS)]
    # Input, resize, input in quick succession: the input after the resize sees it (the
    # one before may too: the process reads its line after the bytes reach the tty, as on
    # any terminal).
    await client.send("process-operation", {"type": "input", "pid": pid, "data": "a\n"})
    await client.send("process-operation", {"type": "resize", "pid": pid,
                                            "cols": 111, "rows": 11})
    await client.send("process-operation", {"type": "input", "pid": pid, "data": "b\n"})
    await client.wait_for(lambda f: "Eb\r\n" in output_of(client, pid))
    out = output_of(client, pid)
    assert re.search(r"S11 111Eb\r\n", out), out[-400:]
    assert re.search(r"S\d+ \d+Ea\r\n", out), out[-400:]
    killed = await client.request("process-operation", {"type": "kill", "pid": pid})
    assert killed["event"] == "process-result", killed
    await client.push("process-exit", lambda d: d["pid"] == pid)


# Reports, when SIGTERM arrives, whether input is already waiting on its stdin (it does
# not read stdin before the signal, and never blocks on it). The kill signals the group
# and then each process of the session: the second TERM is ignored.
SIGNAL_PROBE = """
import os, select, signal, sys, time
def on_term(*_):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready = select.select([0], [], [], 0)[0]
    print("got:" + (os.read(0, 100).decode() if ready else "-"), flush=True)
    os._exit(3)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


async def test_kill_after_input_comes_after_that_input(ws, api):
    container = await api.create(name="order")
    client = await ws()
    await client.join(container["id"])
    for round_ in range(5):
        pid = await spawn(client, "python3", "-c", SIGNAL_PROBE)
        await client.wait_for(lambda f: "ready" in output_of(client, pid))
        await client.send("process-operation", {"type": "input", "pid": pid,
                                                "data": f"line{round_}\n"})
        await client.send("process-operation", {"type": "kill", "pid": pid, "signal": "TERM"})
        exit_ = await client.push("process-exit", lambda d, pid=pid: d["pid"] == pid)
        assert exit_["exitCode"] == 3
        assert f"got:line{round_}\n" in output_of(client, pid), output_of(client, pid)


async def test_a_busy_target_does_not_hold_up_the_others(ws, api):
    """A process that never reads its stdin holds back its own resize (bounded), not a
    request about another process or a file operation on the same socket."""
    container = await api.create(name="order")
    client = await ws()
    await client.join(container["id"])
    stuck = await spawn(client, "sleep", "600", terminal={"cols": 80, "rows": 24})
    other = await spawn(client, "sh", "-c", 'while IFS= read -r l; do echo "S$(stty size)"; done',
                        terminal={"cols": 80, "rows": 24})
    # Fill the stuck process's tty input (it never reads) until the server's queue is full.
    chunk = "x" * 4000 + "\n"
    for _ in range(1500):
        reply = await client.request("process-operation",
                                     {"type": "input", "pid": stuck, "data": chunk})
        if reply["event"] == "error":
            assert reply["data"]["code"] == "EAGAIN"
            break
    else:
        raise AssertionError("input to a process that never reads was never refused")
    loop = asyncio.get_running_loop()
    started = loop.time()
    resize_id = "stuck-resize"
    await client.send("process-operation", {"type": "resize", "pid": stuck, "cols": 90,
                                            "rows": 30}, request_id=resize_id)
    await client.ok("process-operation", {"type": "resize", "pid": other, "cols": 99, "rows": 9})
    await client.send("process-operation", {"type": "input", "pid": other, "data": "go\n"})
    await client.wait_for(lambda f: "S9 99" in output_of(client, other))
    assert (await client.fs("readdir", path="/"))["event"] == "fs-result"
    assert loop.time() - started < 1.5  # not behind the stuck process's bounded wait
    assert not any(f.get("id") == resize_id for f in client.frames)
    # The stuck one's resize answers too, after its bounded wait (2 s) for the input
    # before it.
    reply = await client.wait_for(lambda f: f.get("id") == resize_id, timeout=10)
    assert reply["event"] == "process-result", reply
    assert loop.time() - started >= 1.5
    await client.ok("process-operation", {"type": "kill", "pid": stuck})
