"""HTTP to the Jupyter server, asynchronously over httpx, with the token and JSON errors.

One connection pool per Transport: connections are kept alive between requests, and the
proxy settings of the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) apply,
as for any HTTP client. Bodies can stream both ways (:meth:`Transport.upload`,
:meth:`Transport.download`) with a progress callback, so a file of any size never sits in
memory whole.

Every answer of 400 and up becomes a ContainerError (of the subclass its ``code`` names)
carrying the server's ``{message, reason, code}``; a server that cannot be reached gives
``status=None``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from .discovery import ServerInfo
from .errors import ContainerError, error_for

CHUNK = 1024 * 1024  # bytes per read and write of a streamed body
KEEP_ALIVE = 16  # idle connections kept per Transport
Progress = Callable[[int, "int | None"], object]  # (bytes done, total or None)


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
    """A workdir path as URL segments (``/src/a b.js`` -> ``src/a%20b.js``). Segments
    ``.`` and ``..`` go percent-encoded: HTTP clients resolve them in a URL's path, and the
    server must see them (it refuses a path that leaves the workdir with EACCES)."""
    segments = quote(path.lstrip("/"), safe="/").split("/")
    return "/".join(segment.replace(".", "%2E") if segment in (".", "..") else segment
                    for segment in segments)


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
        self._http: httpx.AsyncClient | None = None

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

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:  # created on the loop it will run on
            self._http = httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, trust_env=True,
                limits=httpx.Limits(max_keepalive_connections=KEEP_ALIVE),
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
        sent_headers = {**self.headers, **(headers or {})}
        with self._errors(method, url):
            if streaming_callback is None:
                response = await self._client().request(
                    method, url, content=body, headers=sent_headers,
                    timeout=timeout or self.timeout)
                return _answer(response, response.content)
            async with self._client().stream(method, url, content=body, headers=sent_headers,
                                             timeout=timeout or self.timeout) as response:
                async for chunk in response.aiter_bytes():
                    streaming_callback(chunk)
        return _answer(response, b"")

    @contextlib.contextmanager
    def _errors(self, method: str, url: str) -> Iterator[None]:
        """httpx's failures to reach the server as ContainerError."""
        try:
            yield
        except httpx.TimeoutException as err:
            raise error_for(f"{method} {url}: timed out ({err})", code="ETIMEDOUT") from err
        except httpx.TransportError as err:
            raise error_for(f"Cannot reach the Jupyter server at {self.server.url}: {err}",
                            code="ECONNREFUSED") from err

    async def upload(
        self, method: str, path: str, chunks: AsyncIterator[bytes], *, size: int | None,
        params: dict | None = None, headers: dict | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """A request whose body streams from ``chunks`` (``size`` bytes when known: sent
        as Content-Length); 400 and up raise ContainerError."""
        sent_headers = {**self.headers, **(headers or {})}
        if size is not None:
            sent_headers["Content-Length"] = str(size)
        url = self.url(path, params)
        with self._errors(method, url):
            response = await self._client().request(
                method, url, content=chunks, headers=sent_headers,
                timeout=httpx.Timeout(timeout or self.timeout, write=None))
        answer = _answer(response, response.content)
        if answer.status >= 400:
            raise error_from_answer(method, path, answer, self.server.url)
        return answer

    async def download(
        self, path: str, write: Callable[[bytes], object], *, params: dict | None = None,
        progress: Progress | None = None, timeout: float | None = None,
    ) -> int:
        """GET ``path`` and hand its body to ``write`` chunk by chunk as it arrives (a
        coroutine ``write`` is awaited); ``progress(done, total)`` after each. The bytes
        written; 400 and up raise ContainerError before anything is written."""
        url = self.url(path, params)
        client = self._client()
        with self._errors("GET", url):
            async with client.stream("GET", url, headers=self.headers,
                                     timeout=httpx.Timeout(timeout or self.timeout,
                                                           read=timeout or self.timeout)
                                     ) as response:
                if response.status_code >= 400:
                    body = await response.aread()
                    raise error_from_answer("GET", path, _answer(response, body),
                                            self.server.url)
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                async for chunk in response.aiter_bytes(CHUNK):
                    result = write(chunk)
                    if hasattr(result, "__await__"):
                        await result
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        return done

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
            http, self._http = self._http, None
            await http.aclose()


def _answer(response: httpx.Response, body: bytes) -> Answer:
    """An Answer with the headers as the server wrote their names."""
    headers = {key.decode("latin-1"): value.decode("latin-1")
               for key, value in response.headers.raw}
    return Answer(response.status_code, headers, body)


def error_from_answer(method: str, path: str, answer: Answer, server_url: str) -> ContainerError:
    try:
        data = answer.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "message" in data:
        return error_for(
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
    return error_for(
        f"{method} /{path.lstrip('/')}: HTTP {answer.status}{hint}", status=answer.status
    )
