"""WebContainer spawn on the real engine: argv taken literally, exit codes, cwd, env,
streamed NDJSON that arrives while the process runs, timeouts that kill the whole group."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from tests.support.helpers import assert_error
from tests.support.webcontainer_support import boot, ndjson_lines

FILES = {"src": {"directory": {"a.txt": {"file": {"contents": "A"}}}}}


@pytest.mark.security_case(13)
async def test_argv_is_taken_literally(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    args = [
        "$(id)",
        "`id`",
        "a;b",
        "*",
        "$HOME",
        "'single'",
        '"double"',
        "-n",
        "tab\there",
        "new\nline",
        "ü🚀",
    ]
    answer = await wc.spawn("echo", *args)
    assert answer.status == 200, answer
    assert answer.json() == {"exitCode": 0, "output": " ".join(args) + "\n"}
    printed = await wc.spawn("printf", "%s|", *args)
    assert printed.json()["output"] == "|".join(args) + "|"
    # A caller who wants a shell asks for one.
    shell = await wc.spawn("sh", "-c", 'echo "$1"', "sh", "$(id)")
    assert shell.json()["output"] == "$(id)\n"


async def test_exit_codes_and_merged_output(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    assert (await wc.spawn("true")).json() == {"exitCode": 0, "output": ""}
    assert (await wc.spawn("false")).json()["exitCode"] == 1
    assert (await wc.spawn("sh", "-c", "exit 7")).json()["exitCode"] == 7
    missing = (await wc.spawn("no-such-command-here")).json()
    assert missing["exitCode"] == 127 and "not found" in missing["output"]
    merged = await wc.spawn("sh", "-c", "echo out; sleep 0.2; echo err >&2; sleep 0.2; echo out2")
    assert merged.json() == {"exitCode": 0, "output": "out\nerr\nout2\n"}
    killed = await wc.spawn("sh", "-c", "kill -9 $$")
    assert killed.json()["exitCode"] == 137


async def test_cwd_and_env(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    assert (await wc.spawn("pwd")).json()["output"] == "/workspace\n"
    assert (await wc.spawn("pwd", cwd="src")).json()["output"] == "/workspace/src\n"
    assert (await wc.spawn("cat", "a.txt", cwd="/src/")).json()["output"] == "A"
    assert_error(
        await wc.spawn("pwd", cwd="nope"), 404, "ENOENT", contains="chdir '/workspace/nope'"
    )
    assert_error(await wc.spawn("pwd", cwd="src/a.txt"), 409, "ENOTDIR")
    env = await wc.spawn(
        "sh",
        "-c",
        'printf "%s|%s" "$GREETING" "$EMPTY"',
        env={"GREETING": "hi $(id) `x`", "EMPTY": ""},
    )
    assert env.json()["output"] == "hi $(id) `x`|"


@pytest.mark.security_case(14, 30)
@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "command"),
        ({"command": ""}, "command"),
        ({"command": 5}, "command"),
        ({"command": "echo", "args": "x"}, "args"),
        ({"command": "echo", "args": [1]}, "args"),
        ({"command": "echo", "env": {"1BAD": "x"}}, "variable name"),
        ({"command": "echo", "env": {"A": 1}}, "env"),
        ({"command": "echo", "timeout": 0}, "timeout"),
        ({"command": "echo", "timeout": "5"}, "timeout"),
        ({"command": "echo", "stream": "yes"}, "stream"),
        ({"command": "echo", "cwd": 3}, "cwd"),
        ({"command": "ec\0ho"}, "NUL"),
    ],
)
async def test_bad_spawn_bodies(api, body, fragment, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    assert_error(await api.post("webcontainer", wc.id, "spawn", body=body), 400, contains=fragment)


async def test_streamed_spawn_sends_output_before_the_process_ends(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    arrivals: list[tuple[float, bytes]] = []
    started = time.monotonic()
    script = "echo first; sleep 2; echo second >&2; exit 3"
    response = await api._fetch(
        "webcontainer",
        wc.id,
        "spawn",
        method="POST",
        body=json.dumps({"command": "sh", "args": ["-c", script], "stream": True}),
        streaming_callback=lambda chunk: arrivals.append((time.monotonic() - started, chunk)),
    )
    total = time.monotonic() - started
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    lines = ndjson_lines(b"".join(chunk for _, chunk in arrivals))
    assert lines == [{"output": "first\n"}, {"output": "second\n"}, {"exitCode": 3}]
    first_output = next(t for t, chunk in arrivals if b"first" in chunk)
    assert total >= 2.0
    assert first_output < total - 1.0, (first_output, total)


async def test_streamed_spawn_errors_before_start_are_json(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    answer = await wc.spawn("pwd", cwd="missing", stream=True)
    assert_error(answer, 404, "ENOENT")


def _sleeps(wc) -> list[str]:
    """How many ``sleep 100`` run in the container (the keep-alive sleep is another)."""
    code, out = wc.sh("ps -eo args= | grep -c '^sleep 100$' || true")
    return out.decode().split()


@pytest.mark.security_case(24)
async def test_timeout_kills_the_process_and_its_children(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    started = time.monotonic()
    answer = await wc.spawn("sh", "-c", "echo begun; sleep 100 & sleep 100", timeout=1)
    took = time.monotonic() - started
    assert answer.status == 200
    assert answer.json() == {"exitCode": 124, "output": "begun\n", "timedOut": True}
    assert took < 4, took
    assert _sleeps(wc) == ["0"]


@pytest.mark.security_case(24)
async def test_streamed_timeout_kills_the_group_too(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    answer = await wc.spawn(
        "sh", "-c", "echo go; sh -c 'sleep 100' & sleep 100", timeout=1, stream=True
    )
    lines = ndjson_lines(answer.body)
    assert lines[0] == {"output": "go\n"}
    assert lines[-1] == {"exitCode": 124, "timedOut": True}
    assert _sleeps(wc) == ["0"]


@pytest.fixture
def small_output_limit(manager_config):
    manager_config["spawn_output_limit"] = 1000


@pytest.mark.security_case(20)
async def test_waiting_spawn_cuts_output_at_the_limit(small_output_limit, api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    answer = await wc.spawn("sh", "-c", "head -c 500000 /dev/zero | tr '\\0' x; echo; exit 4")
    result = answer.json()
    assert result["exitCode"] == 4
    assert result["truncated"] is True
    assert result["output"] == "x" * 1000


async def test_large_streamed_output_arrives_whole(api, docker_client):
    wc = await boot(api, docker_client, files=FILES)
    answer = await wc.spawn("sh", "-c", "seq 1 200000", stream=True)
    lines = ndjson_lines(answer.body)
    assert lines[-1] == {"exitCode": 0}
    text = "".join(line["output"] for line in lines[:-1])
    assert text == "".join(f"{n}\n" for n in range(1, 200001))


async def test_kill_ends_the_jobs_of_a_terminal_shell_too(api, docker_client, jp_serverapp):
    """An interactive shell (with a tty) puts `cmd &` in a process group of its own: a kill
    still ends it, since it is in the shell's session. Through the manager the gateway uses."""
    wc = await boot(api, docker_client, files=FILES)
    manager = jp_serverapp.web_app.settings["container_manager"]
    info = await manager.require_running(wc.id)
    process = await manager.spawn(info, "sh", [], terminal={"cols": 80, "rows": 24})
    assert manager.process(wc.id, process.pid) is process
    await process.write("stty size; sleep 100 & echo $((40 + 2))done\n")
    output = b""
    async for chunk in process:  # the echo of the line shows "$((40 + 2))done", not "42done"
        output += chunk
        if b"42done" in output:
            break
    assert b"24 80" in output
    assert _sleeps(wc) == ["1"]
    await process.kill()
    assert await asyncio.wait_for(process.wait(), 10) == 137
    assert _sleeps(wc) == ["0"]
    assert manager.process(wc.id, process.pid) is None


@pytest.mark.security_case(28)
@pytest.mark.parametrize("stream", [True, False])
async def test_a_client_that_goes_away_kills_the_process(api, docker_client, stream):
    wc = await boot(api, docker_client, files=FILES)
    body = {"command": "sh", "args": ["-c", "sleep 100 & sleep 100"], "stream": stream}
    with pytest.raises(HTTPClientError):  # the client gives up after 1.5 s
        await api._fetch(
            "webcontainer",
            wc.id,
            "spawn",
            method="POST",
            body=json.dumps(body),
            request_timeout=1.5,
        )
    for _ in range(50):
        if _sleeps(wc) == ["0"]:
            break
        await asyncio.sleep(0.1)
    assert _sleeps(wc) == ["0"]
