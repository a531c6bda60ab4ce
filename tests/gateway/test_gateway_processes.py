"""process-operation over the /container WebSocket, on the real engine."""

from __future__ import annotations

import asyncio

import pytest


async def spawn(client, command, *args, **extra) -> int:
    reply = await client.ok("process-operation",
                            {"type": "spawn", "command": command, "args": list(args), **extra})
    return reply["pid"]


def output_of(client, pid) -> str:
    return "".join(d["data"] for d in client.pushes("process-output") if d["pid"] == pid)


async def test_spawn_streams_output_then_exit_code(ws, api):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    pid = await spawn(client, "sh", "-c", "echo out; echo err >&2; sleep 0.2; echo done; exit 3",
                      cwd="/", env={"GREETING": "hi"})
    exit_ = await client.push("process-exit", lambda d: d["pid"] == pid)
    assert exit_ == {"pid": pid, "exitCode": 3}
    assert sorted(output_of(client, pid).splitlines()) == ["done", "err", "out"]
    # The reply came before the first output.
    reply_at = next(i for i, f in enumerate(client.frames) if f["event"] == "process-result")
    first_output = next(i for i, f in enumerate(client.frames) if f["event"] == "process-output")
    assert reply_at < first_output

    pid = await spawn(client, "printenv", "GREETING", env={"GREETING": "hé"})
    await client.push("process-exit", lambda d: d["pid"] == pid)
    assert output_of(client, pid) == "hé\n"


@pytest.mark.security_case(13)
async def test_argv_is_literal_and_cwd_is_from_the_workdir(ws, api):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "mkdir", "path": "/sub"})
    pid = await spawn(client, "sh", "-c", 'pwd; echo "$1"', "sh", "$(id); `id`", cwd="/sub")
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 0
    assert output_of(client, pid) == "/workspace/sub\n$(id); `id`\n"
    missing = await client.request("process-operation", {"type": "spawn", "command": "ls",
                                                         "cwd": "/nope"})
    assert missing["event"] == "error" and missing["data"]["code"] == "ENOENT"


async def test_input_reaches_stdin_in_order(ws, api):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    pid = await spawn(client, "head", "-n", "50")
    for n in range(50):
        await client.send("process-operation", {"type": "input", "pid": pid, "data": f"{n}\n"})
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 0
    assert output_of(client, pid) == "".join(f"{n}\n" for n in range(50))


async def test_kill_ends_the_whole_process_group(ws, api, docker_client):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    pid = await spawn(client, "sh", "-c", "sleep 1000 & sleep 1001; wait")
    await asyncio.sleep(0.5)
    killed = await client.ok("process-operation", {"type": "kill", "pid": pid})
    assert killed["pid"] == pid
    exit_ = await client.push("process-exit", lambda d: d["pid"] == pid, timeout=10)
    assert exit_["exitCode"] != 0
    ps = docker_client.containers.get(f"jcm-{container['id']}").exec_run(["ps", "-eo", "args"])
    assert b"sleep 100" not in ps.output
    gone = await client.request("process-operation", {"type": "kill", "pid": pid})
    assert gone["event"] == "error" and gone["data"]["code"] == "ESRCH"


async def test_terminal_process_gets_its_size_and_resize(ws, api):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    pid = await spawn(client, "sh", terminal={"cols": 91, "rows": 17})
    await client.send("process-operation", {"type": "input", "pid": pid, "data": "stty size\n"})
    await client.wait_for(lambda f: "17 91" in output_of(client, pid))
    await client.ok("process-operation", {"type": "resize", "pid": pid, "cols": 120, "rows": 40})
    await client.send("process-operation", {"type": "input", "pid": pid,
                                            "data": "stty size; exit 5\n"})
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 5
    assert "40 120" in output_of(client, pid)


async def test_a_terminal_process_starts_on_its_size(ws, api):
    """The size is on the tty before the command runs: what it reads first is right (no
    resize racing its start), and it sees a terminal on every stream."""
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    script = ("const o = process.stdout, e = process.stderr, i = process.stdin;"
              "console.log([o.isTTY, e.isTTY, i.isTTY, o.columns + 'x' + o.rows].join(' '))")
    pid = await spawn(client, "node", "-e", script, terminal={"cols": 91, "rows": 17})
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 0
    assert output_of(client, pid) == "true true true 91x17\r\n"
    pid = await spawn(client, "node", "-e", script)  # no terminal: pipes
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 0
    assert output_of(client, pid) == "   undefinedxundefined\n"


@pytest.mark.security_case(28)
async def test_closing_the_socket_kills_its_processes(ws, api, docker_client):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    await spawn(client, "sleep", "4242")
    box = docker_client.containers.get(f"jcm-{container['id']}")
    assert b"sleep 4242" in box.exec_run(["ps", "-eo", "args"]).output
    client.close()
    for _ in range(50):
        if b"sleep 4242" not in box.exec_run(["ps", "-eo", "args"]).output:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the process outlived its socket")


@pytest.mark.security_case(20)
async def test_a_flooding_process_does_not_starve_other_sockets(ws, api):
    container = await api.create(name="procs")
    flooder, other = await ws(), await ws()
    await flooder.join(container["id"])
    await other.join(container["id"])
    pid = await spawn(flooder, "sh", "-c", "yes 0123456789abcdef | head -c 200000000")
    await flooder.push("process-output", lambda d: d["pid"] == pid)
    delays = []
    for _ in range(5):
        started = asyncio.get_running_loop().time()
        reply = await other.request("fs-operation", {"type": "stat", "path": "/"}, timeout=10)
        assert reply["event"] == "fs-result"
        delays.append(asyncio.get_running_loop().time() - started)
    assert max(delays) < 3.0, delays
    await flooder.ok("process-operation", {"type": "kill", "pid": pid})
    await flooder.push("process-exit", lambda d: d["pid"] == pid, timeout=30)


@pytest.mark.security_case(28)
async def test_a_spawn_in_flight_when_the_socket_closes_does_not_leak(ws, api, docker_client):
    container = await api.create(name="procs")
    client = await ws()
    await client.join(container["id"])
    await client.send("process-operation", {"type": "spawn", "command": "sleep",
                                            "args": ["4343"]}, "s")
    client.close()  # before the reply
    box = docker_client.containers.get(f"jcm-{container['id']}")
    await asyncio.sleep(1.0)
    for _ in range(50):
        if b"sleep 4343" not in box.exec_run(["ps", "-eo", "args"]).output:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a process spawned for a closed socket kept running")
