"""Pure parts of the client: trees, answers, URLs and the process output plumbing."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_container_manager.client.errors import ContainerError
from jupyter_container_manager.client.models import ContainerInfo, DirEnt, Port, SpawnResult
from jupyter_container_manager.client.process import (
    EARLY_PIDS,
    AsyncProcess,
    ProcessOutput,
    ProcessTable,
)
from jupyter_container_manager.client.runner import LoopThread
from jupyter_container_manager.client.transport import Answer, error_from_answer, query, quote_path
from jupyter_container_manager.client.tree import tree_from_wire, tree_to_wire


def test_tree_bytes_travel_as_base64_and_come_back_as_bytes():
    tree = {
        "index.js": {"file": {"contents": "console.log('é')"}},
        "bin": {"directory": {"logo.png": {"file": {"contents": b"\x89PNG\x00\xff"}}}},
        "empty": {"directory": {}},
    }
    wire = tree_to_wire(tree)
    assert wire["index.js"] == {"file": {"contents": "console.log('é')"}}
    logo = wire["bin"]["directory"]["logo.png"]["file"]
    assert logo == {"contents": "iVBORwD/", "encoding": "base64"}
    assert tree_from_wire(wire) == tree


@pytest.mark.parametrize(
    "bad",
    [
        ["not", "a", "dict"],
        {"a": "no node"},
        {"a": {"neither": {}}},
        {"a": {"file": {"contents": 42}}},
        {"d": {"directory": {"a": {"file": {"contents": None}}}}},
    ],
)
def test_tree_refuses_what_is_not_a_tree(bad):
    with pytest.raises(TypeError):
        tree_to_wire(bad)


def test_container_info_from_json_keeps_extra_fields():
    data = {
        "id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b", "name": "n", "image": "i",
        "status": "running", "created": "c", "owner": "o", "workdir": "/workspace",
        "ports": [{"port": 3000, "url": "/containers/x/proxy/3000/"}],
        "limits": {"memory": 1}, "future": True,
    }
    info = ContainerInfo.from_json(data)
    assert info.ports == (Port(3000, "/containers/x/proxy/3000/"),)
    assert info.raw["future"] is True and info.limits == {"memory": 1}


def test_dirent_and_spawn_result():
    assert DirEnt("a", "directory").is_directory() and not DirEnt("a", "file").is_directory()
    assert DirEnt("l", "symlink").is_symbolic_link()
    result = SpawnResult.from_json({"exitCode": 124, "output": "x", "timedOut": True})
    assert (result.exit_code, result.output) == (124, "x")
    assert result.timed_out and not result.truncated


def test_query_and_quote():
    assert query({"path": "a b", "recursive": True, "force": False, "skip": None}) == (
        "?path=a+b&recursive=true&force=false"
    )
    assert query({}) == "" and query({"x": None}) == ""
    assert quote_path("/src/a b?#.js") == "src/a%20b%3F%23.js"
    assert quote_path("/") == ""


def test_errors_from_answers():
    body = b'{"message": "ENOENT: no such file", "reason": "Not Found", "code": "ENOENT"}'
    err = error_from_answer("GET", "x", Answer(404, {}, body), "http://h/")
    assert (err.status, err.code, err.reason) == (404, "ENOENT", "Not Found")
    assert err.message == "ENOENT: no such file"
    html_404 = error_from_answer("GET", "/webcontainer/boot", Answer(404, {}, b"<html>"), "h")
    assert html_404.status == 404 and html_404.code is None
    assert "extension enabled" in html_404.message
    assert "token" in error_from_answer("GET", "x", Answer(403, {}, b""), "http://h/").message


async def test_output_is_bounded_and_ends():
    output = ProcessOutput(limit=10)
    for chunk in ("aaaa", "bbbb", "cccc"):
        output.feed(chunk)
    output.end()
    assert [chunk async for chunk in output] == ["bbbb", "cccc"]
    assert output.dropped == 4


async def test_output_waits_for_chunks():
    output = ProcessOutput()
    reader = asyncio.ensure_future(output.next_chunk())
    await asyncio.sleep(0.01)
    assert not reader.done()
    output.feed("late")
    assert await asyncio.wait_for(reader, 1) == "late"


async def test_pushes_before_the_spawn_reply_are_kept():
    async def operate(_data):
        return {}

    table = ProcessTable()
    table.dispatch("process-output", {"pid": 7, "data": "early "})
    table.dispatch("process-output", {"pid": 7, "data": "bird"})
    table.dispatch("process-exit", {"pid": 7, "exitCode": 3})
    process = AsyncProcess(7, operate)
    table.add(process)
    assert [c async for c in process.output] == ["early ", "bird"]
    assert await process.wait(1) == 3 and process.exit_code == 3


async def test_pushes_of_unknown_pids_are_bounded():
    table = ProcessTable()
    for pid in range(1, EARLY_PIDS + 20):
        table.dispatch("process-output", {"pid": pid, "data": "x"})
    assert len(table._early) == EARLY_PIDS


async def test_a_lost_socket_fails_waiting_processes():
    async def operate(_data):
        return {}

    table = ProcessTable()
    process = AsyncProcess(5, operate)
    table.add(process)
    table.lose_all("gone")
    with pytest.raises(ContainerError) as caught:
        await process.wait(1)
    assert caught.value.code == "ECONNRESET"
    assert [c async for c in process.output] == []


def test_the_loop_thread_runs_coroutines_and_refuses_to_wait_on_itself():
    runner = LoopThread.shared()
    assert runner.run(asyncio.sleep(0, "done")) == "done"

    async def nested():
        return runner.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="its own I/O thread"):
        runner.run(nested())
    with pytest.raises(ZeroDivisionError):
        runner.run(_fail())


async def _fail():
    return 1 / 0
