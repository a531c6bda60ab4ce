"""A real ``socket.io-client`` (Node, from npm: tests/support/socketio_client) against the
``/container`` gateway over Socket.IO, on a real server and engine: join, a file round
trip, a streamed spawn, a line terminal's cd surviving a reconnect, bad input, and
refused connects that say why."""

from __future__ import annotations

import pytest

from tests.support.socketio_support import install_node_client, node, run_scenario, socketio_path


@pytest.fixture(scope="session")
def node_client():
    """The Node client, installed from its lockfile once per run."""
    if node() is None:
        pytest.fail("Node.js is missing: the Socket.IO client tests need it (bash .ci/setup)")
    return install_node_client()


@pytest.fixture
def jp_base_url():
    return "/jcm-base/"


@pytest.fixture
def config(http_server_client, jp_http_port, jp_base_url, jp_auth_header):
    return {"url": f"http://127.0.0.1:{jp_http_port}", "path": socketio_path(jp_base_url),
            "token": jp_auth_header["Authorization"].split()[1]}


@pytest.mark.parametrize("transports", [
    ["polling", "websocket"],  # a browser's default: polling first, then the upgrade
    ["websocket"],
    ["polling"],
])
async def test_a_socketio_client_session(node_client, config, api, transports):
    container = await api.create(name="socketio")
    found = await run_scenario("session", containerId=container["id"], transports=transports,
                               **config)
    assert found["joined"]["event"] == "joined-container", found["joined"]
    assert found["joined"]["data"]["containerId"] == container["id"]
    assert found["joined"]["data"]["status"] == "running"
    # The file round trip (the first writeFile made its folder on the way).
    assert found["write"] == {"event": "fs-result", "data": {"type": "writeFile", "result": None}}
    assert found["roundTrip"] is True, found["read"]
    assert found["statEvent"]["type"] == "stat" and found["statEvent"]["result"]["type"] == "file"
    # The spawn streamed: three lines in more than one push, then its exit.
    assert found["spawned"]["event"] == "process-result"
    assert found["output"] == "line-1\nline-2\nline-3\n", found["output"]
    assert found["outputPushes"] >= 2, found["outputPushes"]
    assert found["exit"]["exitCode"] == 0
    # cd survives the reconnect: the re-joined client finds the line terminal in /tmp.
    assert found["cd"]["data"]["cwd"] == "/tmp", found["cd"]
    assert found["reconnected"] is True
    assert found["rejoined"]["data"]["cwd"] == "/tmp", found["rejoined"]
    assert found["pwd"]["data"]["output"] == "/tmp\n", found["pwd"]
    # Bad input: errors, and the connection lives on.
    assert found["unknownAck"]["event"] == "error"
    assert found["unknownAck"]["data"]["code"] == "EUNKNOWNEVENT"
    assert found["errorEvent"]["code"] == "EINVAL", found["errorEvent"]
    assert "path" in found["errorEvent"]["message"]
    assert found["malformedAck"]["data"]["code"] == "EINVAL"
    assert found["stillConnected"] is True
    assert found["lastReaddir"]["data"]["result"] == ["hello.txt"]
    assert found["transport"] == transports[-1]


async def test_connects_without_credentials_are_refused_saying_why(node_client, config):
    found = await run_scenario("refusals", **config)
    assert found["none"]["connected"] is False
    assert found["none"]["message"].startswith("Not authenticated"), found["none"]
    assert found["none"]["data"] == {"code": "EAUTH"}
    assert found["wrongToken"]["connected"] is False
    assert found["wrongToken"]["message"] == "The token was not accepted by this Jupyter server"
    assert found["wrongToken"]["data"] == {"code": "ETOKEN"}
    assert found["foreignCookieless"]["connected"] is False


async def test_a_token_is_taken_from_auth_the_query_or_a_header(node_client, config, api):
    container = await api.create(name="tokens")
    found = await run_scenario("tokens", containerId=container["id"], **config)
    for way in ("auth", "query", "header"):
        assert found[way]["connected"] is True, (way, found[way])
        assert found[way]["joined"]["data"]["status"] == "running", (way, found[way])
