"""A page on another origin that the server allows (``ServerApp.allow_origin``) reads
every answer: preflights of every route, successes, errors (Tornado's ``send_error``
clears the headers ``prepare()`` set) and streams. And the ``/container`` handshake takes
a token as a subprotocol, and never sets a cookie.

The browser side of the same (a real cross-origin page) is tests/ui/test_cross_origin_client.py.
"""

from __future__ import annotations

import base64
import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_container_manager.gateway.handler import (
    SUBPROTOCOL,
    TOKEN_SUBPROTOCOL,
    subprotocol_token,
)
from jupyter_container_manager.routes import gateway, proxy, route_table
from tests.rest.test_auth import example_path, implemented_verbs
from tests.support.webcontainer_support import boot

ORIGIN = "http://localhost:8765"
MAX_JSON_BODY = 1024 * 1024


@pytest.fixture
def jp_server_config(manager_config):
    manager_config["max_containers_per_user"] = 1
    manager_config["max_json_body"] = MAX_JSON_BODY
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_container_manager": True},
            "allow_unauthenticated_access": False,
            "allow_origin": ORIGIN,
        },
        "ContainerManager": manager_config,
    }


# Routes a page calls with fetch: the REST API (previews are the proxy's, which forwards
# OPTIONS to the app; the socket has no preflight).
PREFLIGHTS = [
    pytest.param(example_path(route[0]), verb, id=f"{verb} {route[0]}")
    for route in route_table()
    if route[1].__module__ not in (proxy.__name__, gateway.__name__)
    for verb in implemented_verbs(route[1])
]


@pytest.mark.parametrize("path, verb", PREFLIGHTS)
async def test_every_preflight_is_answered(
    http_server_client, jp_http_port, jp_base_url, path, verb
):
    """The browser's credential-less OPTIONS gets 2xx and the headers that let the real
    request (with Authorization and a JSON or raw body) go out."""
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{path.lstrip('/')}"
    request = HTTPRequest(url, method="OPTIONS", headers={
        "Origin": ORIGIN,
        "Access-Control-Request-Method": verb,
        "Access-Control-Request-Headers": "authorization,content-type",
    })
    answer = await AsyncHTTPClient().fetch(request, raise_error=False)
    assert answer.code in (200, 204), (verb, path, answer.code, answer.body[:300])
    assert answer.headers.get("Access-Control-Allow-Origin") == ORIGIN
    assert verb in answer.headers.get("Access-Control-Allow-Methods", "")
    allowed = answer.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_every_route_has_a_preflight_case():
    assert any("fs/writeFile" in case.values[0] and case.values[1] == "PUT" for case in PREFLIGHTS)
    assert len(PREFLIGHTS) >= 15


async def fetch(jp_http_port, jp_base_url, path, *, token, method="GET", body=None, headers=None):
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{path}"
    request = HTTPRequest(url, method=method, body=body, headers={
        "Origin": ORIGIN, "Authorization": f"token {token}", **(headers or {})
    }, allow_nonstandard_methods=True)
    return await AsyncHTTPClient().fetch(request, raise_error=False)


def assert_cors_error(answer, status: int, code: str | None):
    assert answer.code == status, (answer.code, answer.body[:300])
    assert answer.headers.get("Access-Control-Allow-Origin") == ORIGIN, dict(answer.headers)
    body = json.loads(answer.body)
    assert body["code"] == code, body
    return body


async def test_answers_errors_and_streams_carry_the_cors_headers(
    api, docker_client, jp_http_port, jp_base_url, jp_serverapp
):
    token = jp_serverapp.identity_provider.token

    async def call(path, **kwargs):
        kwargs.setdefault("token", token)
        return await fetch(jp_http_port, jp_base_url, path, **kwargs)

    booted = await call("webcontainer/boot", method="POST", body=b"{}")
    assert booted.code == 201 and booted.headers["Access-Control-Allow-Origin"] == ORIGIN
    cid = json.loads(booted.body)["containerId"]
    base = f"webcontainer/{cid}"

    # Successes, streamed ones included (readFile, zip export, NDJSON spawn).
    wrote = await call(f"{base}/fs/writeFile", method="POST",
                       body=json.dumps({"path": "a.txt", "contents": "A"}).encode())
    assert wrote.code == 204 and wrote.headers["Access-Control-Allow-Origin"] == ORIGIN
    for path in (f"{base}/fs/readFile/a.txt", f"{base}/export?format=zip",
                 f"{base}/fs/readdir/?withFileTypes=true"):
        answer = await call(path)
        assert answer.code == 200, (path, answer.body[:200])
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN, path
    spawn = {"command": "echo", "args": ["hi"], "stream": True}
    spawned = await call(f"{base}/spawn", method="POST", body=json.dumps(spawn).encode())
    assert spawned.code == 200 and spawned.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert spawned.body.decode().splitlines()[-1] == '{"exitCode": 0}'

    # Errors: each with its JSON body, readable by the page.
    assert_cors_error(await call(f"{base}/fs/readFile/missing.js"), 404, "ENOENT")
    assert_cors_error(await call(f"{base}/fs/readFile/..%2F..%2Fetc%2Fpasswd"), 403, "EACCES")
    assert_cors_error(await call(f"{base}/fs/mkdir", method="POST",
                                 body=b'{"path": "a.txt"}'), 409, "EEXIST")
    assert_cors_error(await call(f"{base}/fs/writeFile", method="POST",
                                 body=b'{"path": "a.txt/b", "contents": ""}'), 409, "ENOTDIR")
    assert_cors_error(await call(f"{base}/fs/mkdir", method="POST", body=b"not json"), 400,
                      "EINVAL")
    assert_cors_error(await call(f"{base}/fs/writeFile", method="POST",
                                 body=b"x" * (MAX_JSON_BODY + 1)), 413, "EFBIG")
    second = await call("webcontainer/boot", method="POST", body=b"{}")
    quota = assert_cors_error(second, 429, "EQUOTA")
    assert "max_containers_per_user" in quota["message"]
    unknown = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
    assert_cors_error(await call(f"webcontainer/{unknown}/fs/readdir/"), 404, "ENOCONTAINER")
    refused = await call(f"{base}/fs/readdir/", token="not-the-token")
    assert refused.code == 403
    assert refused.headers.get("Access-Control-Allow-Origin") == ORIGIN
    refusal = json.loads(refused.body)
    assert set(refusal) >= {"message", "reason", "code"}
    assert refusal["message"] == "The token was not accepted by this Jupyter server"
    wrong = await call("webcontainer/boot", method="POST", body=b"{}", token="not-the-token")
    assert wrong.code == 403 and "token" in json.loads(wrong.body)["message"]  # not "_xsrf"
    # An origin the server does not allow learns nothing (no CORS header).
    other = await call(f"{base}/fs/readFile/missing.js", headers={"Origin": "http://evil.test"})
    assert other.headers.get("Access-Control-Allow-Origin") != "http://evil.test"

    gone = await call(base, method="DELETE")
    assert gone.code == 204 and gone.headers["Access-Control-Allow-Origin"] == ORIGIN


# --- the socket: a token as a subprotocol, no cookie -------------------------------------


def token_protocol(token: str) -> str:
    return TOKEN_SUBPROTOCOL + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def test_subprotocol_token_reads_the_offer():
    assert subprotocol_token(f"{SUBPROTOCOL}, {token_protocol('abc123')}") == "abc123"
    assert subprotocol_token(token_protocol("ä=+/?")) == "ä=+/?"
    assert subprotocol_token(SUBPROTOCOL) is None
    assert subprotocol_token(TOKEN_SUBPROTOCOL + "%%%") is None
    assert subprotocol_token("") is None


async def handshake(jp_http_port, jp_base_url, *, protocols=None, query="", headers=None):
    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}container{query}"
    request = HTTPRequest(url, headers={"Origin": ORIGIN, **(headers or {})})
    return await websocket_connect(request, subprotocols=protocols)


async def test_a_token_offered_as_a_subprotocol_opens_the_socket_without_a_cookie(
    api, docker_client, jp_http_port, jp_base_url, jp_serverapp
):
    token = jp_serverapp.identity_provider.token
    wc = await boot(api, docker_client)
    connection = await handshake(jp_http_port, jp_base_url,
                                 protocols=[SUBPROTOCOL, token_protocol(token)])
    try:
        assert connection.selected_subprotocol == SUBPROTOCOL  # never the token's
        assert "Set-Cookie" not in connection.headers, connection.headers.get_list("Set-Cookie")
        await connection.write_message(json.dumps(
            {"event": "join-container", "id": 1, "data": {"containerId": wc.id}}))
        reply = json.loads(await connection.read_message())
        assert reply["event"] == "joined-container" and reply["id"] == 1
    finally:
        connection.close()

    # ?token= (older clients, the Python client) opens it too, and sets no cookie either.
    connection = await handshake(jp_http_port, jp_base_url, query=f"?token={token}")
    try:
        assert "Set-Cookie" not in connection.headers
    finally:
        connection.close()

    for protocols in ([SUBPROTOCOL, token_protocol("not-the-token")], [SUBPROTOCOL]):
        with pytest.raises(HTTPClientError) as caught:
            await handshake(jp_http_port, jp_base_url, protocols=protocols)
        assert caught.value.code == 403
