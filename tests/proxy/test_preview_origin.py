"""Previews on origins of their own (``http://<port>-<id>.localhost:<server port>/``), on the
real engine: grants, the preview cookie, every refusal, and servers bound to the
container's loopback. Requests go to 127.0.0.1 with the preview host in ``Host``, as a
browser resolving ``*.localhost`` sends them."""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import urlsplit

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support.proxy_support import APP_PORT, start_app

GRANT_URL = re.compile(
    r"^http://(?P<port>\d+)-(?P<id>[0-9a-f-]{36})\.localhost:(?P<server>\d+)/__jcm_grant/"
    r"(?P<grant>[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)/$")
COOKIE = "__Host-jcm-preview"


class Origin:
    """A browser's view of one preview origin: its host, and its cookie once it has one."""

    def __init__(self, server_port: int, host: str):
        self.server_port = server_port
        self.host = host
        self.cookie: str | None = None

    async def fetch(self, path: str = "/", *, cookie: str | None = None, headers=None, **kw):
        merged = {"Host": self.host, **(headers or {})}
        cookie = cookie if cookie is not None else self.cookie
        if cookie:
            merged["Cookie"] = f"{COOKIE}={cookie}" + (f"; {merged.pop('Cookie')}"
                                                       if "Cookie" in (headers or {}) else "")
        request = HTTPRequest(f"http://127.0.0.1:{self.server_port}{path}", headers=merged,
                              follow_redirects=False, request_timeout=30, **kw)
        return await AsyncHTTPClient().fetch(request, raise_error=False)

    async def open(self, url: str, rest: str = "") -> object:
        """Follow a handed-out URL as a browser does: redeem the grant, keep the cookie."""
        parts = urlsplit(url)
        assert parts.netloc == self.host
        answer = await self.fetch(parts.path + rest)
        assert answer.code == 307, (answer.code, answer.body[:300])
        self.cookie = cookie_of(answer)
        return answer


def cookie_of(answer) -> str:
    found = [c for c in answer.headers.get_list("Set-Cookie") if c.startswith(COOKIE + "=")]
    assert len(found) == 1, answer.headers.get_list("Set-Cookie")
    return found[0].split("=", 1)[1].split(";", 1)[0]


def assert_embeddable(answer) -> None:
    assert answer.headers.get("Cross-Origin-Resource-Policy") == "cross-origin", answer.headers
    assert answer.headers.get("Cross-Origin-Embedder-Policy") == "credentialless", answer.headers


def error_code(answer, status: int) -> str:
    assert answer.code == status, (answer.code, answer.body[:300])
    body = json.loads(answer.body)
    assert set(body) >= {"message", "reason", "code"}, body
    return body["code"]


async def preview_url(api, container_id: str, port: int = APP_PORT) -> str:
    answer = await api.get("webcontainer", container_id, "url", params={"port": str(port)})
    assert answer.status == 200, answer.text
    return answer.json()["url"]


async def wait_answering(origin: Origin, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while (answer := await origin.fetch("/echo/ready")).code != 200:
        assert answer.code == 502, (answer.code, answer.body[:300])
        assert time.monotonic() < deadline, "the app did not start"
        await asyncio.sleep(0.1)


@pytest.fixture
def local_app(api, docker_client, jp_http_port, jp_asyncio_loop):
    """A container whose app listens on its loopback only (127.0.0.1:3000), opened through
    a preview URL: (container id, Origin with its cookie)."""

    async def make():
        created = await api.create(name="origin", ports=[APP_PORT])
        start_app(docker_client, created["id"], bind="127.0.0.1")
        url = created["ports"][0]["url"]
        found = GRANT_URL.match(url)
        assert found, url
        origin = Origin(jp_http_port, f"{APP_PORT}-{created['id']}.localhost:{jp_http_port}")
        await origin.open(url)
        await wait_answering(origin)
        return created["id"], origin

    return jp_asyncio_loop.run_until_complete(make())


async def test_urls_handed_out_name_an_origin_of_their_own_with_a_fresh_grant(api, jp_http_port):
    created = await api.create(ports=[APP_PORT])
    first = created["ports"][0]["url"]
    again = await preview_url(api, created["id"])
    listed = (await api.get("containers", created["id"])).json()["ports"][0]["url"]
    for url in (first, again, listed):
        found = GRANT_URL.match(url)
        assert found, url
        assert (found["port"], found["id"], found["server"]) == (
            str(APP_PORT), created["id"], str(jp_http_port))
    assert len({first, again, listed}) == 3  # a grant is single-use: each answer has its own


async def test_a_grant_becomes_the_origins_cookie_and_leaves_the_url(local_app, api):
    container_id, origin = local_app
    url = await preview_url(api, container_id)
    fresh = Origin(origin.server_port, origin.host)
    answer = await fresh.fetch(urlsplit(url).path + "echo/deep?x=1&y=2")
    assert answer.code == 307
    assert answer.headers["Location"] == "/echo/deep?x=1&y=2"
    (set_cookie,) = answer.headers.get_list("Set-Cookie")
    attributes = {a.strip().split("=")[0].lower() for a in set_cookie.split(";")[1:]}
    assert attributes >= {"path", "max-age", "httponly", "secure", "samesite", "partitioned"}
    assert "samesite=none" in set_cookie.lower()
    assert "domain" not in attributes  # host-only: no other origin gets it
    # A cross-origin isolated page (COEP require-corp) follows the redirect in an iframe
    # only when it says it may be embedded; Chromium blocks the frame otherwise.
    assert_embeddable(answer)
    fresh.cookie = cookie_of(answer)
    seen = json.loads((await fresh.fetch("/echo/deep?x=1&y=2")).body)
    assert seen["url"] == "/echo/deep?x=1&y=2"  # at path /, no prefix


async def test_a_server_on_the_containers_loopback_previews_with_its_own_host(local_app):
    container_id, origin = local_app
    answer = await origin.fetch("/echo/where", headers={
        "Cookie": "app=keep", "X-Forwarded-Host": "spoofed.example"})
    assert answer.code == 200, answer.body[:300]
    seen = json.loads(answer.body)
    headers = seen["headers"]
    assert headers["host"] == f"localhost:{APP_PORT}"  # as on WebContainer
    assert headers["x-forwarded-host"] == origin.host
    assert "x-forwarded-prefix" not in headers
    assert headers["cookie"] == "app=keep"  # the preview cookie never reaches the app
    # Answers let cross-origin isolated pages embed the preview; no sandbox on its own origin.
    assert_embeddable(answer)
    assert "Content-Security-Policy" not in answer.headers


async def test_the_jupyter_api_is_not_on_a_preview_origin(local_app):
    """Whatever the path, a preview origin serves the app: /api/contents is the app's."""
    container_id, origin = local_app
    for path in ("/api/contents", "/lab", "/login", "/containers"):
        answer = await origin.fetch(path)
        assert answer.code == 404 or json.loads(answer.body).get("url") == path, (path, answer.code)
        assert b"jupyter" not in answer.body.lower(), (path, answer.body[:200])


async def test_refusals(local_app, api, jp_http_port):
    container_id, origin = local_app
    bare = Origin(jp_http_port, origin.host)
    # no cookie, no grant
    refused = await bare.fetch("/echo/x")
    assert error_code(refused, 403) == "PREVIEW_AUTH_REQUIRED"
    assert_embeddable(refused)  # an isolated page's iframe shows why, not a blocked frame
    # a forged grant, and a forged cookie
    path = urlsplit(await preview_url(api, container_id)).path
    payload, signature = path.split("/")[2].split(".")
    forged = f"/__jcm_grant/{payload}.{signature[:-2]}AA/"
    assert error_code(await bare.fetch(forged), 403) == "PREVIEW_GRANT_INVALID"
    assert error_code(await bare.fetch("/", cookie=origin.cookie[:-2] + "AA"), 403) == \
        "PREVIEW_GRANT_INVALID"
    assert error_code(await bare.fetch("/", cookie="garbage"), 403) == "PREVIEW_GRANT_INVALID"
    # a grant is single-use: replayed without the cookie it bought
    assert (await bare.fetch(path)).code == 307
    assert error_code(await Origin(jp_http_port, origin.host).fetch(path), 403) == \
        "PREVIEW_GRANT_REPLAYED"
    # a grant and a cookie of another port
    other = await api.get("webcontainer", container_id, "url", params={"port": "3001"})
    other_path = urlsplit(other.json()["url"]).path
    assert error_code(await bare.fetch(other_path), 403) == "PREVIEW_GRANT_MISMATCH"
    port_3001 = Origin(jp_http_port, f"3001-{container_id}.localhost:{jp_http_port}")
    assert error_code(await port_3001.fetch("/", cookie=origin.cookie), 403) == \
        "PREVIEW_GRANT_MISMATCH"
    # a grant and a cookie of another container
    second = await api.create(name="second", ports=[APP_PORT])
    second_origin = Origin(jp_http_port, f"{APP_PORT}-{second['id']}.localhost:{jp_http_port}")
    assert error_code(await second_origin.fetch(path), 403) == "PREVIEW_GRANT_MISMATCH"
    assert error_code(await second_origin.fetch("/", cookie=origin.cookie), 403) == \
        "PREVIEW_GRANT_MISMATCH"
    # a grant of a removed container
    doomed = urlsplit(await preview_url(api, second["id"])).path
    assert (await api.delete("containers", second["id"])).status == 204
    assert error_code(await second_origin.fetch(doomed), 404) == "ENOCONTAINER"
    # unknown container, malformed hosts
    unknown = Origin(jp_http_port, f"3000-{'0' * 8}-0000-4000-8000-{'0' * 12}.localhost:1")
    assert error_code(await unknown.fetch("/"), 404) == "ENOCONTAINER"
    for host in (f"99999-{container_id}.localhost", f"abc-{container_id}.localhost",
                 "3000-not-a-uuid.localhost", f"0-{container_id}.localhost"):
        assert error_code(await Origin(jp_http_port, host).fetch("/"), 400) == "EINVAL", host


@pytest.fixture
def short_grants(manager_config):
    manager_config["preview_grant_lifetime"] = 0.5


@pytest.mark.usefixtures("short_grants")
async def test_an_expired_grant_is_refused(api, jp_http_port):
    created = await api.create(ports=[APP_PORT])
    url = created["ports"][0]["url"]
    await asyncio.sleep(0.8)
    origin = Origin(jp_http_port, urlsplit(url).netloc)
    assert error_code(await origin.fetch(urlsplit(url).path), 403) == "PREVIEW_GRANT_EXPIRED"
    fresh = await preview_url(api, created["id"])  # a new URL works again
    assert (await origin.fetch(urlsplit(fresh).path)).code == 307


async def test_hot_reload_socket_through_the_preview_origin(local_app, jp_http_port):
    container_id, origin = local_app
    request = HTTPRequest(f"ws://127.0.0.1:{jp_http_port}/hmr?token=vite-own",
                          headers={"Host": origin.host, "Cookie": f"{COOKIE}={origin.cookie}"})
    socket = await websocket_connect(request)
    try:
        first = json.loads(await socket.read_message())
        assert first["url"] == "/hmr?token=vite-own"
        assert first["headers"]["host"] == f"localhost:{APP_PORT}"
        await socket.write_message("update")
        assert await socket.read_message() == "update"
    finally:
        socket.close()
    refused = HTTPRequest(f"ws://127.0.0.1:{jp_http_port}/hmr", headers={"Host": origin.host})
    with pytest.raises(Exception) as caught:
        await websocket_connect(refused)
    assert "403" in str(caught.value)


def test_under_jupyterhub_auto_means_the_path_proxy(tmp_path, docker_client):
    """Behind JupyterHub's proxy (routes by path), *.localhost names would reach the hub:
    a server started with the hub's environment hands out path-proxy URLs."""
    import os

    from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
    from tests.support.servers import ServerProcess

    os.environ["JUPYTERHUB_SERVICE_PREFIX"] = "/user/ann/"
    try:
        server = ServerProcess({"owner": f"test-{RUN_ID}-hub", "image": TEST_IMAGE,
                                "pull_missing_images": False,
                                "extra_labels": {RUN_LABEL: RUN_ID}}, base=tmp_path)
        server.start()
    finally:
        del os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    try:
        created = server.request("POST", "containers", json={"ports": [APP_PORT]}).json()
        assert created["ports"][0]["url"] == f"/containers/{created['id']}/proxy/{APP_PORT}/"
    finally:
        server.stop()
