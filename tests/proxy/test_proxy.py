"""Preview proxy over HTTP, on the real engine: a node app in the container behind
``/containers/{id}/proxy/{port}/{path}``."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from jupyter_container_manager.core.models import make_labels
from jupyter_container_manager.proxy.handler import CONNECTIONS_KEY
from jupyter_container_manager.proxy.rules import SANDBOX_POLICY
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.proxy_support import APP_PORT, open_preview, pattern_sha256, start_app

MIB = 1024 * 1024


@pytest.fixture
def preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url, jp_asyncio_loop):
    return jp_asyncio_loop.run_until_complete(
        open_preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url)
    )


async def fetch_raw(url: str, preview):
    return await AsyncHTTPClient().fetch(url, headers=preview.auth, raise_error=False)


def assert_json_error(answer, status: int, contains: str = "") -> dict:
    assert answer.code == status, (answer.code, answer.body[:300])
    assert answer.headers["Content-Type"].startswith("application/json")
    body = json.loads(answer.body)
    assert set(body) >= {"message", "reason", "code"}
    assert "Traceback" not in answer.body.decode()
    assert contains.lower() in body["message"].lower(), body
    return body


def app_cookies(answer, preview) -> list[str]:
    """Set-Cookie headers of an answer, minus the login cookie Jupyter itself renews."""
    own = "username-" + preview.server.split("//", 1)[1].replace(".", "-").replace(":", "-")
    return [c for c in answer.headers.get_list("Set-Cookie") if not c.startswith(own + "=")]


# --- requests and answers ----------------------------------------------------------


async def test_get_with_a_query_string_reaches_the_app(preview):
    seen = await preview.echo("echo/some%20where/x.js?a=1&b=x%20y&a=2&empty=")
    assert seen["method"] == "GET"
    assert seen["url"] == "/echo/some%20where/x.js?a=1&b=x%20y&a=2&empty="


async def test_post_body_is_echoed_back(preview):
    body = json.dumps({"hello": "wörld", "n": [1, 2, 3]}).encode()
    seen = await preview.echo("echo/form", method="POST", body=body,
                              headers={"Content-Type": "application/json"})
    assert seen["method"] == "POST"
    assert seen["body"] == body.decode()
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["content-length"] == str(len(body))


@pytest.mark.parametrize("verb", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_every_verb_is_forwarded(preview, verb):
    body = b"payload" if verb in ("PUT", "PATCH") else None
    seen = await preview.echo("echo/verb", method=verb, body=body,
                              allow_nonstandard_methods=True)
    assert seen["method"] == verb
    assert seen["body"] == ("payload" if body else "")


async def test_head_gives_the_headers_without_a_body(preview):
    answer = await preview.fetch("download?mb=1&length=1", method="HEAD")
    assert answer.code == 200
    assert answer.headers["Content-Length"] == str(MIB)
    assert answer.body == b""


async def test_a_large_upload_streams_through(preview):
    data = bytes(range(256)) * (20 * MIB // 256)
    seen = await preview.echo("upload", method="PUT", body=data)
    assert seen == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "method": "PUT"}


async def test_a_chunked_upload_streams_through(preview):
    pieces = [bytes([i]) * 100_000 for i in range(30)]

    async def produce(write):
        for piece in pieces:
            await write(piece)

    seen = await preview.echo("upload", method="POST", body_producer=produce)
    data = b"".join(pieces)
    digest = hashlib.sha256(data).hexdigest()
    assert seen == {"bytes": len(data), "sha256": digest, "method": "POST"}


async def test_a_chunked_body_on_another_verb_is_framed(preview, jp_http_port):
    """Tornado's client chunks only POST, PUT and PATCH; the proxy frames the others."""
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = preview.prefix() + "/upload"
    writer.write(
        f"DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {preview.token}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if b"chunked" in head.lower():
        body = body.split(b"\r\n")[1]
    assert json.loads(body) == {
        "bytes": 11, "sha256": hashlib.sha256(b"hello world").hexdigest(), "method": "DELETE"
    }


async def test_a_10_mib_download_streams_whole(preview):
    for query in ("mb=10", "mb=10&length=1"):
        digest, size, chunks = hashlib.sha256(), 0, 0

        def take(chunk, digest=digest):
            nonlocal size, chunks
            digest.update(chunk)
            size += len(chunk)
            chunks += 1

        answer = await preview.fetch(f"download?{query}", streaming_callback=take)
        assert answer.code == 200
        assert size == 10 * MIB
        assert digest.hexdigest() == pattern_sha256(10 * MIB)
        assert chunks > 10  # it came in pieces, not as one buffered body
        if "length" in query:
            assert answer.headers["Content-Length"] == str(10 * MIB)


async def test_the_answer_is_not_buffered(preview):
    """The first bytes arrive while the app still holds the rest back."""
    received: list[bytes] = []
    first = asyncio.Event()

    def take(chunk):
        received.append(chunk)
        first.set()

    pending = asyncio.ensure_future(preview.fetch("gate", streaming_callback=take))
    await asyncio.wait_for(first.wait(), 20)
    assert b"".join(received) == b"first\n"
    assert not pending.done()
    assert (await preview.fetch("release")).code == 200
    answer = await asyncio.wait_for(pending, 20)
    assert answer.code == 200
    assert b"".join(received) == b"first\nsecond\n"


async def test_server_sent_events_arrive_one_by_one(preview):
    events: asyncio.Queue[bytes] = asyncio.Queue()
    buffer = b""

    def take(chunk):
        nonlocal buffer
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            events.put_nowait(event)

    pending = asyncio.ensure_future(
        preview.fetch("events", streaming_callback=take, headers={"Accept": "text/event-stream"})
    )
    assert await asyncio.wait_for(events.get(), 20) == b"data: 1"
    for n in (2, 3):
        assert events.empty()
        await preview.fetch("release")
        assert await asyncio.wait_for(events.get(), 20) == f"data: {n}".encode()
    answer = await asyncio.wait_for(pending, 20)
    assert answer.headers["Content-Type"] == "text/event-stream"


async def test_redirects_stay_under_the_prefix(preview):
    answer = await preview.fetch("redirect")
    assert answer.code == 302
    assert answer.headers["Location"] == preview.prefix() + "/echo/landed"


async def test_the_bare_port_url_redirects_to_the_slash(preview):
    request = HTTPRequest(preview.url()[:-1] + "?x=1", headers=preview.auth, follow_redirects=False)
    try:
        answer = await AsyncHTTPClient().fetch(request)
    except Exception as err:  # noqa: BLE001
        answer = err.response
    assert answer.code == 302
    assert answer.headers["Location"] == preview.prefix() + "/?x=1"


# --- what the app learns, and what it never sees ------------------------------------


async def test_forwarded_headers_tell_the_app_where_it_lives(preview, jp_http_port):
    seen = (await preview.echo("echo/where", headers={"X-Forwarded-Prefix": "/spoofed"}))["headers"]
    assert seen["x-forwarded-prefix"] == preview.prefix()
    assert seen["x-forwarded-host"] == f"127.0.0.1:{jp_http_port}"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["host"] == f"localhost:{APP_PORT}"  # as on WebContainer: the app's own name


@pytest.mark.security_case(7)
async def test_the_token_never_reaches_the_app(preview):
    seen = await preview.echo(
        f"echo/q?a=1&token={preview.token}&_xsrf=x&b=2",
        headers={"X-XSRFToken": "x", "X-CSRFToken": "x",
                 "Cookie": "_xsrf=x; app=keep; username-127-0-0-1-8888=secret; "
                           "jupyterhub-session-id=s"},
    )
    assert seen["url"] == "/echo/q?a=1&b=2"
    headers = seen["headers"]
    assert "authorization" not in headers
    assert "x-xsrftoken" not in headers and "x-csrftoken" not in headers
    assert headers["cookie"] == "app=keep"
    assert preview.token not in json.dumps(seen)


@pytest.mark.security_case(7)
async def test_a_token_in_the_url_authenticates_and_is_removed(preview):
    seen = await preview.echo(f"echo/t?token={preview.token}", auth=False)
    assert seen["url"] == "/echo/t"


@pytest.mark.security_case(7)
async def test_the_login_cookie_authenticates_and_never_reaches_the_app(preview):
    cookies = await preview.login()
    cookies["Cookie"] += "; app=keep"
    seen = await preview.echo("echo/cookie", auth=False, headers=cookies)
    assert seen["headers"]["cookie"] == "app=keep"
    for secret in cookies["Cookie"].split("; ")[:2]:
        assert secret.split("=", 1)[1] not in json.dumps(seen)

    # A preview's own forms and fetches cannot know Jupyter's _xsrf: writes pass on the
    # cookie from the same origin (or with no Origin), and are refused from another one.
    posted = await preview.echo("echo/cookie-post", auth=False, method="POST", body=b"x",
                                headers={**cookies, "Origin": preview.server})
    assert posted["body"] == "x"
    other = await preview.fetch("echo/cookie-post", auth=False, method="POST", body=b"x",
                                headers={**cookies, "Origin": "http://evil.example"})
    assert_json_error(other, 403, "cross-origin")
    read = await preview.fetch("echo", auth=False, headers={**cookies, "Origin": "null"})
    assert_json_error(read, 403, "cross-origin")


async def test_answers_carry_the_sandbox_policy(preview):
    answer = await preview.fetch("cookies")
    policies = answer.headers.get_list("Content-Security-Policy")
    assert SANDBOX_POLICY in policies
    assert "default-src 'self'" in policies  # the app's own policy stays
    for policy in policies:
        assert "allow-same-origin" not in policy
    # The app cannot set Jupyter's cookies (Jupyter itself renews its login cookie).
    assert app_cookies(answer, preview) == ["app=1; Path=/"]
    assert "Access-Control-Allow-Origin" not in answer.headers
    errors = await preview.fetch("echo", port=4999)
    assert errors.code == 502  # errors are JSON from the Jupyter server, not the app


@pytest.fixture
def trusting_manager_config(manager_config):
    manager_config.update(proxy_sandbox=False, proxy_forward_credentials=True)
    return manager_config


async def test_both_protections_are_settings(trusting_manager_config, preview):
    answer = await preview.fetch("cookies")
    assert answer.headers.get_list("Content-Security-Policy") == ["default-src 'self'"]
    assert len(app_cookies(answer, preview)) == 3
    seen = await preview.echo(f"echo/q?token={preview.token}", headers={"Cookie": "_xsrf=x"})
    assert seen["url"] == f"/echo/q?token={preview.token}"
    assert seen["headers"]["authorization"] == f"token {preview.token}"
    assert seen["headers"]["cookie"] == "_xsrf=x"


# --- errors ------------------------------------------------------------------------


@pytest.mark.security_case(1)
async def test_no_credentials_is_403(preview):
    for method, body in (("GET", None), ("POST", b"x"), ("PUT", b"x"), ("DELETE", None)):
        answer = await preview.fetch("echo", auth=False, method=method, body=body,
                                     allow_nonstandard_methods=True)
        assert_json_error(answer, 403)
    wrong = await preview.fetch("echo", auth=False, headers={"Authorization": "token nope"})
    assert_json_error(wrong, 403)


async def test_a_closed_port_is_502_json(preview):
    body = assert_json_error(await preview.fetch("anything", port=4000), 502, "port 4000")
    assert body["code"] == "ECONNREFUSED"
    assert "listens on port 4000" in body["message"]


@pytest.mark.parametrize("port", ["0", "65536", "70000", "99999999999999999999", "abc", "-1",
                                  "3000x", "%20", "٣٠٠٠", "8080@169.254.169.254", "%2e%2e",
                                  "3000%2f..%2f..", "[::1]:3000"])
@pytest.mark.security_case(8)
async def test_a_bad_port_is_400(preview, port):
    url = f"{preview.server}{preview.base_url}containers/{preview.container_id}/proxy/{port}/x"
    answer = await AsyncHTTPClient().fetch(url, headers=preview.auth, raise_error=False)
    assert_json_error(answer, 400, "port")


@pytest.mark.security_case(4, 5)
async def test_unknown_or_foreign_container_is_404(preview, docker_client, jp_serverapp):
    unknown = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
    url = f"{preview.server}{preview.base_url}containers/{unknown}/proxy/3000/"
    assert_json_error(await fetch_raw(url, preview), 404)
    url = f"{preview.server}{preview.base_url}containers/not-a-uuid/proxy/3000/"
    assert_json_error(await fetch_raw(url, preview), 404)

    foreign_id = "5d1e2c8a-7b7e-4c39-8f51-0d7cb1c4f0aa"
    labels = make_labels(container_id=foreign_id, owner="someone-else", name="theirs",
                         workdir="/workspace", created="2024-01-01T00:00:00Z", ports=[3000],
                         extra={RUN_LABEL: RUN_ID})
    docker_client.containers.run(TEST_IMAGE, ["sleep", "300"], name=f"jcm-{foreign_id}",
                                 labels=labels, detach=True, init=True)
    start_app(docker_client, foreign_id)
    url = f"{preview.server}{preview.base_url}containers/{foreign_id}/proxy/3000/echo"
    assert_json_error(await fetch_raw(url, preview), 404)


async def test_a_stopped_container_is_409(preview, api, jp_serverapp):
    """Also right after a preview request: the proxy forgets the address it found a
    moment ago (a stopped container's address may be given to another at once)."""
    await preview.echo("echo/warm")
    addresses = jp_serverapp.web_app.settings[CONNECTIONS_KEY].addresses
    assert addresses.get(preview.container_id) is not None
    assert (await api.post("containers", preview.container_id, "stop")).status == 200
    assert addresses.get(preview.container_id) is None
    assert_json_error(await preview.fetch("echo"), 409, "start it first")


async def test_an_apps_own_token_and_headers_pass(preview):
    """Vite authenticates its hot-reload socket with ?token=; apps have their own bearer
    tokens and CSRF headers. Only Jupyter's credentials are removed."""
    cookies = await preview.login()
    seen = await preview.echo(
        "echo/own?token=vite123&x=1", auth=False,
        headers={**cookies, "Authorization": "Bearer app-jwt", "X-CSRFToken": "django"},
    )
    assert seen["url"] == "/echo/own?token=vite123&x=1"
    assert seen["headers"]["authorization"] == "Bearer app-jwt"
    assert seen["headers"]["x-csrftoken"] == "django"


async def test_absolute_mode_forwards_the_whole_path(preview):
    base = preview.prefix(absolute=True)
    seen = await preview.echo(f"echo/x?a=1&token={preview.token}", absolute=True)
    assert seen["url"] == f"{base}/echo/x?a=1"
    assert "x-forwarded-prefix" not in seen["headers"]
    assert seen["headers"]["x-forwarded-proto"] == "http"
    # The bare URL goes to the app as it is: the app decides about the slash.
    bare = await AsyncHTTPClient().fetch(preview.url(absolute=True)[:-1], headers=preview.auth,
                                         follow_redirects=False, raise_error=False)
    assert bare.code == 200 and json.loads(bare.body)["url"] == base
