"""The /container WebSocket on the real engine: join, files, processes, errors, auth."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect


async def test_join_answers_status_cwd_and_terminals(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    joined = await client.join(container["id"])
    assert joined == {
        "containerId": container["id"],
        "status": "running",
        "cwd": "/workspace",
        "workdir": "/workspace",
        "terminals": [],
    }


async def test_file_operations(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    await client.join(container["id"])

    reply = await client.fs("mkdir", path="/src/lib", recursive=True)
    assert reply["event"] == "fs-result" and reply["data"] == {"type": "mkdir", "result": None}
    await client.ok("fs-operation", {"type": "writeFile", "path": "/src/lib/a.js",
                                     "contents": "console.log('héllo')\n"})
    read = await client.ok("fs-operation", {"type": "readFile", "path": "src/lib/a.js"})
    assert read == {"type": "readFile",
                    "result": {"contents": "console.log('héllo')\n", "encoding": "utf-8"}}

    binary = bytes(range(256))
    await client.ok("fs-operation", {"type": "writeFile", "path": "/bin.dat",
                                     "contents": base64.b64encode(binary).decode(),
                                     "encoding": "base64"})
    read = await client.ok("fs-operation", {"type": "readFile", "path": "/bin.dat"})
    assert read["result"]["encoding"] == "base64"
    assert base64.b64decode(read["result"]["contents"]) == binary

    listing = await client.ok("fs-operation", {"type": "readdir", "path": "/"})
    assert listing["result"] == ["bin.dat", "src"]
    typed = await client.ok("fs-operation", {"type": "readdir", "path": "/src",
                                             "withFileTypes": True})
    assert typed["result"] == [{"name": "lib", "type": "directory"}]

    stat = (await client.ok("fs-operation", {"type": "stat", "path": "/src/lib/a.js"}))["result"]
    assert stat["type"] == "file" and stat["size"] == len("console.log('héllo')\n".encode())
    assert isinstance(stat["mtime"], (int, float)) and isinstance(stat["mode"], int)

    await client.ok("fs-operation", {"type": "rename", "path": "/src/lib/a.js",
                                     "newPath": "/src/b.js"})
    await client.ok("fs-operation", {"type": "rename", "oldPath": "/src/b.js",
                                     "newPath": "/src/c.js"})
    assert (await client.ok("fs-operation", {"type": "readdir", "path": "/src"}))["result"] == [
        "c.js", "lib"]

    missing = await client.fs("readFile", path="/nope.js")
    assert missing["event"] == "error"
    assert missing["data"]["code"] == "ENOENT"
    assert missing["data"]["message"] == (
        "ENOENT: no such file or directory, open '/workspace/nope.js'")

    not_empty = await client.fs("rm", path="/src")
    assert not_empty["event"] == "error" and not_empty["data"]["code"] in ("ENOTEMPTY", "EISDIR")
    await client.ok("fs-operation", {"type": "rm", "path": "/src", "recursive": True})
    await client.ok("fs-operation", {"type": "rm", "path": "/src", "force": True})
    escape = await client.fs("readFile", path="/../etc/passwd")
    assert escape["event"] == "error" and escape["data"]["code"] == "EACCES"


async def test_requests_without_id_get_result_events_only(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    await client.send("join-container", {"containerId": container["id"]})
    joined = await client.wait_for(lambda f: f["event"] == "joined-container")
    assert "id" not in joined
    await client.send("pty-resize", {"terminalId": "nope", "cols": 80, "rows": 24})
    error = await client.wait_for(lambda f: f["event"] == "error")
    assert "id" not in error and error["data"]["code"] == "ENOTERMINAL"
    # A request without an id whose event names no result gets nothing back on success.
    opened = await client.ok("pty-open", {"cols": 80, "rows": 24})
    count = len(client.frames)
    await client.send("pty-resize", {"terminalId": opened["terminalId"], "cols": 90, "rows": 30})
    marker = await client.request("fs-operation", {"type": "stat", "path": "/"})
    assert marker["event"] == "fs-result"
    assert not [f for f in client.frames[count:] if f["event"] in ("ok", "error")]


@pytest.mark.security_case(30)
async def test_operations_before_join_and_unknown_containers(ws, api):
    client = await ws()
    before = await client.fs("readdir", path="/")
    assert before["event"] == "error" and before["data"]["code"] == "ENOTJOINED"
    unknown = await client.request("join-container",
                                   {"containerId": "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"})
    assert unknown["event"] == "error" and unknown["data"]["code"] == "ENOCONTAINER"
    not_uuid = await client.request("join-container", {"containerId": "../../etc"})
    assert not_uuid["event"] == "error" and not_uuid["data"]["code"] == "ENOCONTAINER"


GARBAGE = [
    # (frame text, error code, whether the reply carries id "g")
    ("not json", "EBADFRAME", False),
    ("", "EBADFRAME", False),
    ("[1, 2]", "EBADFRAME", False),
    ('"join-container"', "EBADFRAME", False),
    ("null", "EBADFRAME", False),
    ('{"id": "g", "data": {}}', "EBADFRAME", True),
    ('{"event": 42, "id": "g"}', "EBADFRAME", True),
    ('{"event": "no-such-event", "id": "g", "data": {}}', "EUNKNOWNEVENT", True),
    ('{"event": "join-container", "id": "g"}', "EINVAL", True),
    ('{"event": "join-container", "id": "g", "data": []}', "EINVAL", True),
    ('{"event": "join-container", "id": "g", "data": "x"}', "EINVAL", True),
    ('{"event": "join-container", "id": "g", "data": {"containerId": 7}}', "EINVAL", True),
    ('{"event": "fs-operation", "id": "g", "data": {"type": "chmod", "path": "/"}}',
     "EINVAL", True),
    ('{"event": "fs-operation", "id": "g", "data": {"type": "readFile"}}', "EINVAL", True),
    ('{"event": "fs-operation", "id": "g", "data": {"type": "readFile", "path": ["/"]}}',
     "EINVAL", True),
    ('{"event": "process-operation", "id": "g", "data": {"type": "spawn", "command": "ls",'
     ' "args": [1]}}', "EINVAL", True),
    ('{"event": "process-operation", "id": "g", "data": {"type": "kill", "pid": "1"}}',
     "EINVAL", True),
    ('{"event": "pty-open", "id": "g", "data": {"cols": 0, "rows": 24}}', "EINVAL", True),
    ('{"event": "pty-open", "id": "g", "data": {"cols": 80, "rows": 1e9}}', "EINVAL", True),
    ('{"event": "pty-open", "id": "g", "data": {"cols": true, "rows": 24}}', "EINVAL", True),
    ('{"event": "terminal-input", "id": "g", "data": {"input": null}}', "EINVAL", True),
    ('{"event": "join-container", "id": {"a": 1}, "data": {}}', "EBADFRAME", False),
    ('{"event": "join-container", "id": true, "data": {}}', "EBADFRAME", False),
    (json.dumps({"event": "join-container", "id": "x" * 100_000, "data": {}}), "EBADFRAME",
     False),
    ('{"event": "join-container", "id": 123456789012345678901234567890, "data": {}}',
     "EBADFRAME", False),
    ("[" * 100_000 + "]" * 100_000, "EBADFRAME", False),
    ('{"event": "' + "x" * 10_000 + '", "id": "g"}', "EUNKNOWNEVENT", True),
]


@pytest.mark.security_case(30)
async def test_garbage_frames_get_errors_and_the_socket_lives_on(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    for text, code, has_id in GARBAGE:
        start = len(client.frames)
        await client.send_raw(text)
        error = await client.wait_for(lambda f: True, start=start)
        assert error["event"] == "error", (text[:80], error)
        assert error["data"]["code"] == code, (text[:80], error)
        assert error["data"]["message"] and "Traceback" not in error["data"]["message"]
        assert (error.get("id") == "g") if has_id else ("id" not in error), (text[:80], error)
        assert len(client.raw[-1]) < 2000  # an error never echoes a huge frame back
    await client.send_raw(b"\xff\xfe binary", binary=True)
    error = await client.wait_for(lambda f: True, start=len(client.frames))
    assert error["event"] == "error" and error["data"]["code"] == "EBADFRAME"
    joined = await client.join(container["id"])
    assert joined["status"] == "running"


async def test_requests_run_concurrently_with_their_own_ids(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    await client.join(container["id"])
    slow = asyncio.ensure_future(client.request("terminal-input", {"input": "sleep 2; echo slow"}))
    await asyncio.sleep(0.3)
    started = asyncio.get_running_loop().time()
    quick = await client.request("fs-operation", {"type": "readdir", "path": "/"})
    assert quick["event"] == "fs-result"
    assert asyncio.get_running_loop().time() - started < 1.5  # not queued behind the sleep
    assert not slow.done()
    done = await slow
    assert done["event"] == "terminal-output" and done["data"]["output"] == "slow\n"


@pytest.mark.security_case(1)
async def test_no_credentials_no_upgrade(http_server_client, jp_http_port, jp_base_url):
    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}container"
    for headers in ({}, {"Authorization": "token wrong"}):
        with pytest.raises(HTTPClientError) as caught:
            await websocket_connect(HTTPRequest(url, headers=headers))
        assert caught.value.code == 403
        body = json.loads(caught.value.response.body)
        assert set(body) == {"message", "reason", "code"} and body["reason"] == "Forbidden"


@pytest.mark.security_case(3)
async def test_origin_is_checked_by_jupyters_rules(http_server_client, jp_http_port,
                                                   jp_base_url, jp_auth_header):
    """A browser's login cookie from a foreign origin is refused; a token (a script, not a
    page) skips the origin check, as everywhere in Jupyter."""
    base = f"127.0.0.1:{jp_http_port}{jp_base_url}"
    token = jp_auth_header["Authorization"].split()[1]
    login = await http_server_client.fetch(f"{jp_base_url}api/status?token={token}")
    cookie = "; ".join(value.split(";")[0] for value in login.headers.get_list("Set-Cookie"))
    assert "username-" in cookie
    url = f"ws://{base}container"
    with pytest.raises(HTTPClientError) as caught:
        await websocket_connect(HTTPRequest(url, headers={
            "Cookie": cookie, "Origin": "http://evil.example"}))
    assert caught.value.code == 403
    same_origin = await websocket_connect(HTTPRequest(url, headers={
        "Cookie": cookie, "Origin": f"http://127.0.0.1:{jp_http_port}"}))
    same_origin.close()
    scripted = await websocket_connect(HTTPRequest(url, headers={
        **jp_auth_header, "Origin": "http://evil.example"}))
    scripted.close()


async def test_operations_sent_right_after_a_join_wait_for_it(ws, api):
    container = await api.create(name="gateway")
    client = await ws()
    await client.send("join-container", {"containerId": container["id"]}, "j")
    await client.send("terminal-input", {"input": "pwd"}, "t")
    await client.send("fs-operation", {"type": "readdir", "path": "/"}, "f")
    replies = {}
    for request_id in ("j", "t", "f"):
        replies[request_id] = await client.wait_for(lambda f, i=request_id: f.get("id") == i)
    assert replies["j"]["event"] == "joined-container"
    assert replies["t"]["data"]["output"] == "/workspace\n"
    assert replies["f"]["event"] == "fs-result"


@pytest.mark.parametrize("offered, selected", [
    (None, None),  # a client that offers none still works
    (["jupyter-container-manager.v1"], "jupyter-container-manager.v1"),
    (["jupyter-container-manager.v2", "jupyter-container-manager.v1"],
     "jupyter-container-manager.v2"),
    (["jupyter-container-manager.v3", "jupyter-container-manager.v2"],
     "jupyter-container-manager.v2"),  # the highest version this server speaks
    (["jupyter-container-manager.v3"], None),  # none of ours: answered without one
])
async def test_the_socket_negotiates_a_versioned_subprotocol(
    api, jp_http_port, jp_base_url, jp_auth_header, offered, selected
):
    from jupyter_container_manager.client import protocol_generated

    assert protocol_generated.SUBPROTOCOL == "jupyter-container-manager.v2"
    info = await api.create()
    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}container"
    conn = await websocket_connect(HTTPRequest(url, headers=jp_auth_header),
                                   subprotocols=offered)
    try:
        assert conn.selected_subprotocol == selected
        assert conn.headers.get("Sec-WebSocket-Protocol") == selected
        await conn.write_message(json.dumps(
            {"event": "join-container", "id": 1, "data": {"containerId": info["id"]}}))
        reply = json.loads(await asyncio.wait_for(conn.read_message(), 30))
        assert reply["event"] == "joined-container" and reply["id"] == 1, reply
    finally:
        conn.close()
