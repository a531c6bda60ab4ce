"""Test helpers shared by the integration tests (no fixtures here)."""

from __future__ import annotations

import asyncio
import json
import re
import time

from tornado.httpclient import HTTPClientError


class Api:
    """A small JSON client over jp_fetch that returns (status, body) and never raises."""

    def __init__(self, fetch):
        self._fetch = fetch

    async def request(self, method: str, *path: str, body=None, raw: bytes | None = None,
                      headers: dict | None = None, params: dict | None = None):
        kwargs: dict = {"method": method, "headers": dict(headers or {})}
        if params:
            kwargs["params"] = params
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b""
        try:
            response = await self._fetch(*path, **kwargs)
        except HTTPClientError as err:
            response = err.response
        return Response(response)

    async def get(self, *path, **kw):
        return await self.request("GET", *path, **kw)

    async def post(self, *path, **kw):
        return await self.request("POST", *path, **kw)

    async def put(self, *path, **kw):
        return await self.request("PUT", *path, **kw)

    async def delete(self, *path, **kw):
        return await self.request("DELETE", *path, **kw)

    async def create(self, **body):
        answer = await self.post("containers", body=body)
        assert answer.status == 201, answer.text
        return answer.json()


class Response:
    def __init__(self, response):
        self.raw = response
        self.status = response.code
        self.body = response.body or b""
        self.headers = response.headers

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.text[:200]!r}>"


def assert_error(answer: Response, status: int, code: str | None = None, contains: str = ""):
    """An error answer: the status, JSON {message, reason, code}, and no traceback."""
    assert answer.status == status, answer
    assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert set(body) >= {"message", "reason", "code"}, body
    assert "Traceback" not in answer.text
    if code is not None:
        assert body["code"] == code, body
    if contains:
        assert contains.lower() in body["message"].lower(), body
    return body


_PREVIEW_ORIGIN_URL = re.compile(
    r"^http://(?P<port>\d+)-(?P<id>[0-9a-f-]{36})\.localhost:\d+/__jcm_grant/[A-Za-z0-9_\-]+"
    r"\.[A-Za-z0-9_\-]+/$")


def preview_target(url: str) -> tuple[int, str]:
    """(port, container id) of a preview URL the API handed out for a client on this
    machine: ``http://<port>-<id>.localhost:<server port>/__jcm_grant/<grant>/``."""
    found = _PREVIEW_ORIGIN_URL.match(url)
    assert found, f"not a preview-origin URL with a grant: {url}"
    return int(found["port"]), found["id"]


# --- engine outages ------------------------------------------------------------------

OUTAGE_BOUND = 5.0  # seconds any answer may take while the engine does not answer


def assert_outage(answer: Response) -> dict:
    """503 ENGINE_UNAVAILABLE whose message says the engine does not answer and how to
    point the server at one."""
    body = assert_error(answer, 503, code="ENGINE_UNAVAILABLE")
    assert "does not answer" in body["message"] and "docker_url" in body["message"], body
    return body


async def timed(awaitable, bound: float = OUTAGE_BOUND):
    """(result, seconds) of an awaitable that must finish within ``bound`` seconds."""
    started = time.monotonic()
    result = await asyncio.wait_for(awaitable, bound + 10)
    took = time.monotonic() - started
    assert took < bound, took
    return result, took
