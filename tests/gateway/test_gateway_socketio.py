"""The ``/container`` gateway over Socket.IO (python-socketio's AsyncClient), on the real
engine: both transports answer a table of requests identically, pushes reach joined
Socket.IO clients, bad input answers ``error`` and keeps the connection, floods are held
by the session's bounds, and Jupyter's cookie and origin rules. A real
``socket.io-client`` is in test_gateway_socketio_node.py."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import socketio
from tornado.websocket import websocket_connect

from jupyter_container_manager.gateway.socketio_transport import RECEIVE_QUEUE
from tests.gateway.test_gateway_live import SERVER
from tests.support.helpers import preview_target
from tests.support.socketio_support import SocketIOTestClient

MAX_MESSAGE = 1024**2  # websocket_max_message_size of the server under test
INFLIGHT = 3
SEND_TIMEOUT = 3.0


@pytest.fixture
def jp_base_url():
    """A base_url a URL library keeps as it is (pytest-jupyter's /a%40b/ is read as /a@b/
    by aiohttp, which python-socketio's client uses)."""
    return "/jcm-base/"


IDLE_TIMEOUT = 3.0  # longer than a spawn takes on a loaded machine
IDLE_TESTS = ("test_an_idle_client_is_told_and_disconnected",)  # these run with it


@pytest.fixture
def jp_server_config(manager_config, request):
    manager_config["ws_max_inflight"] = INFLIGHT
    manager_config["ws_send_timeout"] = SEND_TIMEOUT
    if request.node.originalname in IDLE_TESTS:
        manager_config["ws_idle_timeout"] = IDLE_TIMEOUT
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_container_manager": True},
            "allow_unauthenticated_access": False,
            "tornado_settings": {"websocket_max_message_size": MAX_MESSAGE},
        },
        "ContainerManager": manager_config,
    }


@pytest.fixture
def token(jp_auth_header):
    return jp_auth_header["Authorization"].split()[1]


@pytest.fixture
def sio(http_server_client, jp_http_port, jp_base_url, token):
    """``await sio(**options)``: a Socket.IO client connected to ``/container``."""
    clients = []

    async def connect(**kwargs):
        kwargs.setdefault("auth", {"token": token})
        client = await SocketIOTestClient.connect(jp_http_port, jp_base_url, **kwargs)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        asyncio.ensure_future(client.close())


def _extension(jp_serverapp):
    for app in jp_serverapp.extension_manager.extension_apps["jupyter_container_manager"]:
        return app
    raise AssertionError("the extension is not loaded")


# --- one implementation: both transports answer alike -----------------------------------

TABLE = [
    ("join-container", {"containerId": "<id>"}),
    ("fs-operation", {"type": "mkdir", "path": "/t/a", "recursive": True}),
    ("fs-operation", {"type": "writeFile", "path": "/t/a/x.txt", "contents": "h\u00e9llo"}),
    ("fs-operation", {"type": "writeFile", "path": "/t/a/b.bin", "contents": "AAEC/w==",
                      "encoding": "base64"}),
    ("fs-operation", {"type": "readFile", "path": "/t/a/x.txt"}),
    ("fs-operation", {"type": "readFile", "path": "/t/a/b.bin"}),
    ("fs-operation", {"type": "readdir", "path": "/t/a", "withFileTypes": True}),
    ("fs-operation", {"type": "stat", "path": "/t/a/x.txt"}),
    ("fs-operation", {"type": "rename", "oldPath": "/t/a/x.txt", "newPath": "/t/y.txt"}),
    ("fs-operation", {"type": "readFile", "path": "/t/a/x.txt"}),
    ("fs-operation", {"type": "readFile", "path": "/../etc/passwd"}),
    ("fs-operation", {"type": "rm", "path": "/t", "recursive": True}),
    ("fs-operation", {"type": "readdir", "path": "/"}),
    ("fs-operation", {"type": "nope", "path": "/"}),
    ("fs-operation", {}),
    ("fs-operation", "not an object"),
    ("no-such-event", {}),
    ("terminal-input", {"input": "echo $((6*7)); cd /tmp"}),
    ("terminal-input", {"input": "pwd"}),
    ("process-operation", {"type": "kill", "pid": 99999}),
    ("process-operation", {"type": "spawn", "command": "/no/such/program"}),
    ("pty-resize", {"terminalId": "nope", "cols": 10, "rows": 5}),
    ("pty-open", {"cols": 0, "rows": 5}),
    ("join-container", {"containerId": "not-a-container"}),
]


def normalized(reply: dict, container_id: str) -> dict:
    """A reply without what differs between two containers (ids, mtimes, pids)."""
    text = repr(reply).replace(container_id, "<id>")
    text = re.sub(r"'mtime': [0-9.e+]+", "'mtime': 0", text)
    text = re.sub(r"'pid': [0-9]+", "'pid': 0", text)
    return eval(text)  # noqa: S307 - the repr of JSON values made here


async def test_both_transports_answer_a_table_of_requests_identically(ws, sio, api):
    plain_box, sio_box = await api.create(name="plain"), await api.create(name="sio")
    plain, client = await ws(), await sio()
    events = set()
    for event, data in TABLE:
        if isinstance(data, dict) and data.get("containerId") == "<id>":
            plain_data, sio_data = ({"containerId": plain_box["id"]},
                                    {"containerId": sio_box["id"]})
        else:
            plain_data = sio_data = data
        frame = await plain.request(event, plain_data)
        answer = await client.request(event, sio_data)
        frame.pop("id")
        assert normalized(answer, sio_box["id"]) == normalized(frame, plain_box["id"]), \
            (event, data)
        events.add(answer["data"].get("code") if answer["event"] == "error" else answer["event"])
    # The table has results and errors of every kind.
    assert events >= {"joined-container", "fs-result", "terminal-output", "EINVAL", "ENOENT",
                      "EACCES", "EUNKNOWNEVENT", "ESRCH", "ENOTERMINAL"}, events


async def test_requests_without_an_acknowledgement_get_their_reply_as_an_event(sio, api):
    container = await api.create(name="events")
    client = await sio()
    await client.send("join-container", {"containerId": container["id"]})
    joined = await client.push("joined-container")
    assert joined["containerId"] == container["id"] and joined["status"] == "running"
    await client.send("terminal-input", {"input": "echo event"})
    assert (await client.push("terminal-output"))["output"] == "event\n"
    await client.send("fs-operation", {"type": "readdir", "path": "/"})
    assert (await client.push("fs-result")) == {"type": "readdir", "result": []}
    await client.send("pty-resize", {"terminalId": "nope", "cols": 1, "rows": 1})
    assert (await client.push("error"))["code"] == "ENOTERMINAL"


# --- pushes ------------------------------------------------------------------------------

async def test_pushes_reach_joined_socketio_clients(sio, api):
    container = await api.create(name="pushes", files={"w": {"directory": {}}})
    client, other = await sio(), await sio(transports=("polling",))
    for each in (client, other):
        await each.join(container["id"])
    # fs-change, from a write by the other client.
    await client.ok("fs-operation", {"type": "watch", "path": "/w"})
    await other.ok("fs-operation", {"type": "writeFile", "path": "/w/f.txt", "contents": "1"})
    assert await client.push("fs-change", timeout=5) == {"path": "/w/f.txt", "kind": "add"}
    # process-output and process-exit, to the client that spawned it only.
    pid = (await client.ok("process-operation", {"type": "spawn", "command": "echo",
                                                 "args": ["out"]}))["pid"]
    assert (await client.push("process-output", lambda d: d["pid"] == pid))["data"] == "out\n"
    assert (await client.push("process-exit", lambda d: d["pid"] == pid))["exitCode"] == 0
    # pty-output, as text (a Socket.IO client speaks version 1: no binary frames).
    tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await client.ok("pty-input", {"terminalId": tid, "data": "echo pty-$((40+2))\r"})
    await client.push("pty-output", lambda d: "pty-42" in d["data"])
    # port and server-ready, to every joined client.
    server = (await client.ok("process-operation", {"type": "spawn", "command": "node",
                                                    "args": ["-e", SERVER]}))["pid"]
    for each in (client, other):
        ready = await each.push("server-ready", timeout=15)
        assert ready["port"] == 3000 and preview_target(ready["url"]) == (3000, container["id"])
        assert (await each.push("port", lambda d: d["port"] == 3000))["type"] == "open"
    await client.ok("process-operation", {"type": "kill", "pid": server})
    # container-status, when the container goes.
    assert (await api.delete("containers", container["id"])).status == 204
    for each in (client, other):
        assert await each.push("container-status", timeout=10) == {
            "containerId": container["id"], "status": "removed"}
    assert not other.frames or all(f["event"] != "process-output" for f in other.frames)


# --- bad input and bounds ------------------------------------------------------------------

async def test_bad_input_answers_error_and_keeps_the_connection(sio, api):
    container = await api.create(name="bad")
    client = await sio(transports=("websocket",))
    await client.join(container["id"])
    await client.send("no-such-event", {})
    assert (await client.push("error"))["code"] == "EUNKNOWNEVENT"
    await client.send("fs-operation", "text")
    assert (await client.push("error"))["code"] == "EINVAL"
    await client.send("fs-operation", {"type": "readdir", "path": "/"}, {"second": 1})
    assert "one payload object" in (await client.push("error"))["message"]
    binary = await client.request("fs-operation", {"type": "writeFile", "path": "/b",
                                                   "contents": b"\0\1"})
    assert binary["event"] == "error" and "binary" in binary["data"]["message"]
    # Over the largest frame the plain socket takes: an error; the connection lives on.
    big = "x" * (MAX_MESSAGE + 1000)
    answer = await client.request("fs-operation", {"type": "writeFile", "path": "/big",
                                                   "contents": big})
    assert answer["event"] == "error" and answer["data"]["code"] == "EMSGSIZE", answer
    assert client.connected
    fits = "y" * (MAX_MESSAGE // 2)
    await client.ok("fs-operation", {"type": "writeFile", "path": "/fits", "contents": fits})
    read = await client.ok("fs-operation", {"type": "readFile", "path": "/fits"})
    assert read["result"]["contents"] == fits
    # Past twice that, Engine.IO cuts the transport unread (as the plain socket's 1009).
    huge = "z" * (2 * MAX_MESSAGE + 1000)
    with pytest.raises(socketio.exceptions.SocketIOError):
        await client.request("fs-operation", {"type": "writeFile", "path": "/huge",
                                              "contents": huge}, timeout=5)
    assert not client.connected
    again = await sio()
    assert (await again.join(container["id"]))["status"] == "running"


async def test_a_flood_is_held_by_the_sessions_bounds(sio, api, jp_serverapp):
    """While ws_max_inflight requests run, the next event is not taken, and the client's
    WebSocket is no longer read: the server holds a few events, not the flood."""
    container = await api.create(name="flood")
    client = await sio(transports=("websocket",))
    await client.join(container["id"])
    connection = next(iter(_extension(jp_serverapp).socketio.connections.values()))
    taken = []
    receive = connection.session.receive

    async def counted(frame):
        taken.append(frame)
        await receive(frame)

    connection.session.receive = counted
    for _ in range(INFLIGHT):
        await client.send("terminal-input", {"input": "sleep 2"})
    flood = 3000
    for _ in range(flood):
        await client.send("pty-resize", {"terminalId": "nope", "cols": 1, "rows": 1})
    await asyncio.sleep(1.0)
    assert len(taken) <= INFLIGHT + 1, len(taken)
    # Read ahead of the session: a few WebSocket messages; the rest wait in the network.
    (websocket,) = _extension(jp_serverapp).socketio.websockets.values()
    assert websocket.receive_queue.qsize() <= RECEIVE_QUEUE
    deadline = asyncio.get_running_loop().time() + 60
    while sum(1 for f in client.frames if f["event"] == "error") < flood:
        assert asyncio.get_running_loop().time() < deadline, len(client.frames)
        await asyncio.sleep(0.2)
    for _ in range(INFLIGHT):  # (the line terminal runs one line at a time)
        await client.push("terminal-output", timeout=20)
    assert len(taken) == INFLIGHT + flood
    assert client.connected


async def test_a_client_that_stops_reading_is_cut_and_its_process_ends(
    http_server_client, jp_http_port, jp_base_url, token, api, docker_client, jp_serverapp
):
    """A raw Engine.IO WebSocket whose client stops reading while a process floods it:
    the server queues no more than its bounds, cuts it after ws_send_timeout, and the
    process ends with it."""
    container = await api.create(name="stall")
    url = (f"ws://127.0.0.1:{jp_http_port}{jp_base_url}container/socket.io/"
           "?EIO=4&transport=websocket")
    connection = await websocket_connect(url, max_message_size=64 * 1024**2)
    assert (await connection.read_message()).startswith("0{")
    await connection.write_message("40/container," + json.dumps({"token": token}))
    assert (await connection.read_message()).startswith("40/container,{")

    async def call(ack_id: int, event: str, data: dict) -> None:
        await connection.write_message(f"42/container,{ack_id}" + json.dumps([event, data]))
        while not (await connection.read_message()).startswith(f"43/container,{ack_id}["):
            pass

    await call(1, "join-container", {"containerId": container["id"]})
    await call(2, "process-operation", {"type": "spawn", "command": "yes",
                                        "args": ["0123456789" * 10]})
    # From here on the client reads nothing (Tornado's client holds one message unread).
    connections = _extension(jp_serverapp).socketio.connections
    assert len(connections) == 1
    loop = asyncio.get_running_loop()
    started = loop.time()
    while connections:
        assert loop.time() - started < 10 * SEND_TIMEOUT, "the client was never cut"
        await asyncio.sleep(0.2)
    print(f"cut after {loop.time() - started:.1f} s")
    box = docker_client.containers.get(f"jcm-{container['id']}")
    while b"yes 0123" in box.exec_run(["ps", "-eo", "args"]).output:
        assert loop.time() - started < 20 * SEND_TIMEOUT, "the flooding process runs on"
        await asyncio.sleep(0.3)
    connection.close()


async def test_an_idle_client_is_told_and_disconnected(sio, api):
    """No event for ws_idle_timeout and nothing running: an error ETIMEDOUT, then a
    disconnect; a client whose process runs on is not idle."""
    container = await api.create(name="idle")
    idle, busy = await sio(), await sio()
    for client in (idle, busy):
        await client.join(container["id"])
    await busy.ok("process-operation", {"type": "spawn", "command": "sleep", "args": ["30"]})
    notice = await idle.push("error", timeout=10 * IDLE_TIMEOUT)
    assert notice["code"] == "ETIMEDOUT" and "ws_idle_timeout" in notice["message"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while idle.connected:
        assert loop.time() < deadline, "the idle client stays connected"
        await asyncio.sleep(0.1)
    await asyncio.sleep(2 * IDLE_TIMEOUT)
    assert busy.connected and not busy.frames, busy.frames


# --- Jupyter's rules -----------------------------------------------------------------------

async def test_a_login_cookie_is_taken_from_this_origin_only(sio, http_server_client,
                                                             jp_base_url, jp_http_port,
                                                             token, api):
    login = await http_server_client.fetch(f"{jp_base_url}api/status?token={token}")
    cookie = "; ".join(value.split(";")[0] for value in login.headers.get_list("Set-Cookie"))
    assert "username-" in cookie
    same = await sio(auth=None, headers={"Cookie": cookie,
                                         "Origin": f"http://127.0.0.1:{jp_http_port}"})
    assert same.connected
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        await sio(auth=None, headers={"Cookie": cookie, "Origin": "http://evil.example"})
    assert "Origin http://evil.example may not use" in str(refused.value)
    # A token skips the origin check (a script, not a page), as everywhere in Jupyter.
    scripted = await sio(headers={"Origin": "http://evil.example"})
    assert scripted.connected


async def test_a_refused_connect_says_why(sio):
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        await sio(auth=None)
    assert "Not authenticated" in str(refused.value) and "EAUTH" in str(refused.value)
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        await sio(auth={"token": "wrong"})
    assert "The token was not accepted" in str(refused.value)
