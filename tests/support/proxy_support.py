"""Shared by the preview proxy tests: a node app in a real container, URLs, raw fetches."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

APP_PORT = 3000
APP_SOURCE = (Path(__file__).parent / "proxy_app.js").read_text()
PATTERN = bytes(range(251))


def pattern_sha256(size: int) -> str:
    """sha256 of the app's /download body: byte i is i % 251."""
    digest = hashlib.sha256()
    whole, rest = divmod(size, len(PATTERN))
    block = PATTERN * 4096
    for _ in range(whole // 4096):
        digest.update(block)
    digest.update(PATTERN * (whole % 4096) + PATTERN[:rest])
    return digest.hexdigest()


def start_app(docker_client, container_id: str, port: int = APP_PORT,
              bind: str = "0.0.0.0") -> None:
    """Start the node test app in the container, in the background (argv, no shell),
    listening on ``bind`` (127.0.0.1: only the container itself reaches it directly)."""
    container = docker_client.containers.get(f"jcm-{container_id}")
    container.exec_run(["node", "-e", APP_SOURCE, str(port)], detach=True,
                       environment={"BIND_HOST": bind})


@dataclass
class Preview:
    """A running container with the app on APP_PORT, and how to reach it."""

    container_id: str
    server: str  # http://127.0.0.1:PORT
    base_url: str  # the Jupyter server's base_url, e.g. /a%40b/
    token: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def prefix(self, port: int = APP_PORT, absolute: bool = False) -> str:
        mode = "absolute/" if absolute else ""
        return f"{self.base_url}containers/{self.container_id}/proxy/{mode}{port}"

    def url(self, path: str = "", port: int = APP_PORT, absolute: bool = False) -> str:
        return f"{self.server}{self.prefix(port, absolute)}/{path}"

    def ws_url(self, path: str = "", port: int = APP_PORT) -> str:
        return self.url(path, port).replace("http://", "ws://", 1)

    async def fetch(self, path: str = "", *, port: int = APP_PORT, auth: bool = True,
                    headers: dict | None = None, absolute: bool = False,
                    **kwargs) -> HTTPResponse:
        """A request through the proxy that returns error answers instead of raising."""
        merged = {**(self.auth if auth else {}), **(headers or {})}
        url = self.url(path, port, absolute)
        request = HTTPRequest(url, headers=merged, follow_redirects=False,
                              request_timeout=60, **kwargs)
        try:
            return await AsyncHTTPClient().fetch(request)
        except HTTPClientError as err:
            if err.response is None:
                raise
            return err.response

    async def echo(self, path: str = "echo", **kwargs) -> dict:
        answer = await self.fetch(path, **kwargs)
        assert answer.code == 200, (answer.code, answer.body[:300])
        return json.loads(answer.body)

    async def login(self) -> dict:
        """Log in through Jupyter's login form with the token as password, as a browser
        does; the answer is the Cookie header a browser then sends (login and _xsrf)."""
        client = AsyncHTTPClient()
        page = await client.fetch(f"{self.server}{self.base_url}login")
        xsrf = page.headers["Set-Cookie"].split("_xsrf=", 1)[1].split(";", 1)[0]
        login = await client.fetch(
            HTTPRequest(
                f"{self.server}{self.base_url}login",
                method="POST",
                body=f"_xsrf={xsrf}&password={self.token}",
                headers={"Cookie": f"_xsrf={xsrf}"},
                follow_redirects=False,
            ),
            raise_error=False,
        )
        assert login.code == 302, login.code
        cookie = next(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie")
                      if c.startswith("username-"))
        return {"Cookie": f"{cookie}; _xsrf={xsrf}"}

    async def wait_ready(self, port: int = APP_PORT, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            answer = await self.fetch("echo/ready", port=port)
            if answer.code == 200:
                return
            assert answer.code == 502, (answer.code, answer.body[:300])
            assert time.monotonic() < deadline, "the app in the container did not start"
            await asyncio.sleep(0.1)


async def open_preview(api, docker_client, serverapp, http_port: int, base_url: str) -> Preview:
    """Create a container announcing APP_PORT, start the app in it, wait until it answers."""
    created = await api.create(name="preview", ports=[APP_PORT])
    start_app(docker_client, created["id"])
    found = Preview(
        container_id=created["id"],
        server=f"http://127.0.0.1:{http_port}",
        base_url=base_url,
        token=serverapp.identity_provider.token,
    )
    await found.wait_ready()
    return found
