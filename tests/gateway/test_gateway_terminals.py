"""Terminals over the /container WebSocket: the line terminal's remembered cwd and PTY
sessions that outlive their sockets, on the real engine."""

from __future__ import annotations

import asyncio
import re

import pytest


async def line(client, text: str) -> dict:
    reply = await client.request("terminal-input", {"input": text})
    assert reply["event"] == "terminal-output", reply
    return reply["data"]


async def test_line_terminal_runs_lines_and_remembers_cwd(ws, api, docker_client):
    container = await api.create(name="lines")
    client = await ws()
    await client.join(container["id"])

    assert await line(client, "pwd") == {"output": "/workspace\n", "exitCode": 0,
                                         "cwd": "/workspace"}
    out = await line(client, "echo out; echo err >&2; exit 7")
    assert out == {"output": "out\nerr\n", "exitCode": 7, "cwd": "/workspace"}

    moved = await line(client, "mkdir -p 'a dir' && cd 'a dir' && pwd")
    assert moved == {"output": "/workspace/a dir\n", "exitCode": 0, "cwd": "/workspace/a dir"}
    failing = await line(client, "cd /does-not-exist")
    assert failing["exitCode"] != 0 and failing["cwd"] == "/workspace/a dir"
    assert "does-not-exist" in failing["output"]
    assert (await line(client, "pwd"))["output"] == "/workspace/a dir\n"

    # Kept inside the container: a new socket (or a restarted server) finds it there.
    box = docker_client.containers.get(f"jcm-{container['id']}")
    assert box.exec_run(["cat", "/tmp/.jcm/cwd"]).output == b"/workspace/a dir"
    client.close()
    again = await ws()
    joined = await again.join(container["id"])
    assert joined["cwd"] == "/workspace/a dir"
    assert (await line(again, "ls -d \"$PWD\""))["output"] == "/workspace/a dir\n"
    # `cd` alone goes to the HOME of the user the container runs as.
    home = box.exec_run(["sh", "-c", 'echo "$HOME"']).output.decode().strip()
    assert home.startswith("/") and home != "/workspace/a dir"
    assert (await line(again, "cd"))["cwd"] == home


async def test_line_terminal_text_is_the_users_own_shell_line(ws, api):
    container = await api.create(name="lines")
    client = await ws()
    await client.join(container["id"])
    weird = "echo \"$(echo sub)\" '$(not run)' `echo tick`; printf '%s\\n' 'a;b'"
    assert (await line(client, weird))["output"] == "sub $(not run) tick\na;b\n"
    nul = await client.request("terminal-input", {"input": "echo a\u0000b"})
    assert nul["event"] == "error"


async def test_pty_size_resize_and_exit(ws, api):
    container = await api.create(name="pty")
    client = await ws()
    await client.join(container["id"])
    opened = await client.ok("pty-open", {"cols": 101, "rows": 33})
    tid = opened["terminalId"]
    assert opened["reattached"] is False
    await client.send("pty-input", {"terminalId": tid, "data": "stty size\r"})
    await client.pty_text(tid, "33 101")
    await client.ok("pty-resize", {"terminalId": tid, "cols": 132, "rows": 43})
    await client.send("pty-input", {"terminalId": tid, "data": "stty size; pwd\r"})
    text = await client.pty_text(tid, "43 132")
    assert "/workspace" in text
    await client.send("pty-input", {"terminalId": tid, "data": "exit 4\r"})
    assert await client.push("pty-exit") == {"terminalId": tid, "exitCode": 4}
    gone = await client.request("pty-input", {"terminalId": tid, "data": "x"})
    assert gone["event"] == "error" and gone["data"]["code"] == "ENOTERMINAL"
    assert (await client.join(container["id"]))["terminals"] == []


async def test_pty_outlives_its_socket_replays_and_reattaches(ws, api):
    container = await api.create(name="pty")
    first = await ws()
    await first.join(container["id"])
    tid = (await first.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await first.send("pty-input", {"terminalId": tid,
                                   "data": "cd /tmp; export MARK=kept; echo before-$MARK\r"})
    await first.pty_text(tid, "before-kept")
    first.close()
    await asyncio.sleep(0.3)

    second = await ws()
    joined = await second.join(container["id"])
    assert joined["terminals"] == [tid]
    reopened = await second.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": tid})
    assert reopened == {"terminalId": tid, "reattached": True}
    replay = await second.pty_text(tid, "before-kept")
    assert "before-kept" in replay
    await second.send("pty-input", {"terminalId": tid, "data": "echo after-$MARK-$PWD\r"})
    await second.pty_text(tid, "after-kept-/tmp")  # the same shell: variables and cwd kept

    # Several sockets may watch one terminal.
    third = await ws()
    await third.join(container["id"])
    await third.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": tid})
    await second.send("pty-input", {"terminalId": tid, "data": "echo both-see-$((6*7))\r"})
    await second.pty_text(tid, "both-see-42")
    await third.pty_text(tid, "both-see-42")

    # An id that is not live opens a new terminal.
    fresh = await third.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": "not-live"})
    assert fresh["reattached"] is False and fresh["terminalId"] not in (tid, "not-live")


@pytest.mark.security_case(20)
async def test_replay_is_bounded_in_bytes(ws, api):
    container = await api.create(name="pty")
    client = await ws()
    await client.join(container["id"])
    tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    # 1 MiB of output, numbered lines, then a marker.
    typed = "seq -w 1 140000 | sed 's/$/ line/'; echo END-$((40+2))\r"
    await client.send("pty-input", {"terminalId": tid, "data": typed})
    await client.pty_text(tid, "END-42", timeout=60)
    client.close()
    other = await ws()
    await other.join(container["id"])
    await other.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": tid})
    replay = await other.pty_text(tid, "END-42")
    size = len(replay.encode())
    assert 200 * 1024 < size <= 256 * 1024, size
    assert "140000 line" in replay and "000001 line" not in replay
    assert re.search(r"\d{6} line", replay)
