"""HTTP to the Jupyter server, asynchronously over Tornado, with the token and JSON errors.

Every answer of 400 and up becomes a ContainerError carrying the server's
``{message, reason, code}``; a server that cannot be reached gives ``status=None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .discovery import ServerInfo
from .errors import ContainerError

MAX_BODY = 2 * 1024**3


@dataclass(frozen=True)
class Answer:
    """A finished HTTP exchange."""

    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


def quote_path(path: str) -> str:
    """A workdir path as URL segments (``/src/a b.js`` -> ``src/a%20b.js``)."""
    return quote(path.lstrip("/"), safe="/")


def query(params: dict | None) -> str:
    if not params:
        return ""
    clean = {}
    for key, value in params.items():
        if value is None:
            continue
        clean[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return "?" + urlencode(clean) if clean else ""


class Transport:
    """The connection to one Jupyter server: URL building, auth header, errors."""

    def __init__(self, server: ServerInfo, *, timeout: float = 120.0):
        self.server = server
        self.timeout = timeout
        self._http: AsyncHTTPClient | None = None

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.server.token}"} if self.server.token else {}

    def url(self, path: str, params: dict | None = None) -> str:
        """``containers/abc`` -> ``http://host:8888/base/containers/abc``."""
        return self.server.url + path.lstrip("/") + query(params)

    def ws_url(self, path: str) -> str:
        parts = urlsplit(self.url(path))
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))

    def absolute(self, url_or_path: str) -> str:
        """A path from the server root (as preview URLs are given) -> a full URL."""
        if "://" in url_or_path:
            return url_or_path
        return self.server_root() + "/" + url_or_path.lstrip("/")

    def server_root(self) -> str:
        """``scheme://host:port`` of the server."""
        parts = urlsplit(self.server.url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))

    def _client(self) -> AsyncHTTPClient:
        if self._http is None:  # created on the loop it will run on
            self._http = AsyncHTTPClient(
                force_instance=True, max_body_size=MAX_BODY, max_buffer_size=MAX_BODY
            )
        return self._http

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
        streaming_callback=None,
    ) -> Answer:
        """One request to a full URL; the answer whatever its status (no ContainerError
        for 4xx/5xx), ContainerError only when no answer came. With ``streaming_callback``
        the body goes to it chunk by chunk as it comes (and the answer's body is empty)."""
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        request = HTTPRequest(
            url,
            method=method,
            headers={**self.headers, **(headers or {})},
            body=body,
            request_timeout=timeout or self.timeout,
            connect_timeout=min(30.0, timeout or self.timeout),
            follow_redirects=False,
            allow_nonstandard_methods=True,
            streaming_callback=streaming_callback,
        )
        try:
            response = await self._client().fetch(request, raise_error=False)
        except HTTPClientError as err:  # timeouts: code 599
            raise ContainerError(f"{method} {url}: {err}", code="ETIMEDOUT") from err
        except OSError as err:
            raise ContainerError(
                f"Cannot reach the Jupyter server at {self.server.url}: {err}", code="ECONNREFUSED"
            ) from err
        if response.code == 599:
            raise ContainerError(
                f"{method} {url}: {response.error}", code="ETIMEDOUT"
            ) from response.error
        return Answer(response.code, dict(response.headers.get_all()), response.body or b"")

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body=None,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """One API call; answers of 400 and up raise ContainerError."""
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        answer = await self.fetch(
            method, self.url(path, params), body=body, headers=headers, timeout=timeout
        )
        if answer.status >= 400:
            raise error_from_answer(method, path, answer, self.server.url)
        return answer

    async def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def error_from_answer(method: str, path: str, answer: Answer, server_url: str) -> ContainerError:
    try:
        data = answer.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "message" in data:
        return ContainerError(
            data.get("message") or f"HTTP {answer.status}",
            status=answer.status,
            code=data.get("code"),
            reason=data.get("reason"),
        )
    hint = ""
    if answer.status == 404:
        hint = f" (is the jupyter-container-manager extension enabled on {server_url}?)"
    elif answer.status == 403:
        hint = " (the server refused the token)"
    return ContainerError(
        f"{method} /{path.lstrip('/')}: HTTP {answer.status}{hint}", status=answer.status
    )
