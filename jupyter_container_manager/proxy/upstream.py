"""Connections from the Jupyter server to a port inside a container.

``UpstreamExchange`` is one HTTP/1.1 request spoken with Tornado's own HTTP/1 protocol
machinery (``HTTP1Connection`` in client mode), so request and response bodies stream
in both directions with flow control: a chunk is read from one side only when the other
side has taken the previous one. ``relay_upgrade`` joins two byte streams after a
protocol upgrade (WebSocket), untouched. ``PreviewConnections`` remembers what is open
per container so that removing a container ends its previews, and where each container
was found a moment ago.

No Docker here: the caller hands in the container's address.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from tornado import httputil
from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.iostream import IOStream, StreamClosedError

from ..core.errors import UpstreamClosed

CHUNK = 64 * 1024
MAX_HEADER = 64 * 1024
NO_BODY_LIMIT = 2**62  # the body is streamed, never held: no reason to cap it
CHUNKED_BY_TORNADO = ("POST", "PUT", "PATCH")

log = logging.getLogger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


class ResponseSink(Protocol):
    """Where an upstream answer goes: each method may return an awaitable (flow control)."""

    def answer_started(
        self, start_line: httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None]: ...

    def answer_data(self, chunk: bytes) -> Awaitable[None]: ...


class _ResponseDelegate(httputil.HTTPMessageDelegate):
    def __init__(self, sink: ResponseSink):
        self.sink = sink
        self.started = False
        self.finished = False

    def headers_received(self, start_line, headers):
        if 100 <= start_line.code < 200:
            return None  # interim answers (103 Early Hints...) are not forwarded
        self.started = True
        return self.sink.answer_started(start_line, headers)

    def data_received(self, chunk):
        return self.sink.answer_data(chunk)

    def finish(self):
        self.finished = True


class UpstreamExchange:
    """One request to a container port: write the body as it comes, read the answer."""

    def __init__(self, stream: IOStream, method: str, frame_chunks: bool):
        self.stream = stream
        self.method = method
        self._frame_chunks = frame_chunks
        self.connection = HTTP1Connection(
            stream,
            is_client=True,
            params=HTTP1ConnectionParameters(
                no_keep_alive=True,
                chunk_size=CHUNK,
                max_header_size=MAX_HEADER,
                max_body_size=NO_BODY_LIMIT,
                decompress=False,
            ),
        )

    @classmethod
    async def open(
        cls,
        stream: IOStream,
        *,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: str,
    ) -> UpstreamExchange:
        """Send the request head on a connected ``stream``. ``body`` is ``"none"``,
        ``"length"`` (the headers carry Content-Length) or ``"chunked"`` (length unknown)."""
        outgoing = httputil.HTTPHeaders()
        for name, value in headers:
            outgoing.add(name, value)
        frame = body == "chunked" and method not in CHUNKED_BY_TORNADO
        if frame:
            outgoing["Transfer-Encoding"] = "chunked"
        elif body == "none" and method in CHUNKED_BY_TORNADO:
            outgoing["Content-Length"] = "0"
        exchange = cls(stream, method, frame)
        try:
            await exchange.connection.write_headers(
                httputil.RequestStartLine(method, target, "HTTP/1.1"), outgoing
            )
        except StreamClosedError as err:
            raise UpstreamClosed("connection closed") from err
        return exchange

    def write(self, chunk: bytes) -> Awaitable[None]:
        if self._frame_chunks and chunk:
            chunk = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        return self.connection.write(chunk)

    def finish(self) -> None:
        if self._frame_chunks:
            self.connection.write(b"0\r\n\r\n")
        try:
            self.connection.finish()
        except (StreamClosedError, httputil.HTTPOutputError):
            self.close()

    async def relay_response(self, sink: ResponseSink) -> bool:
        """Read the answer into ``sink``; True when it arrived whole. UpstreamClosed when
        the port closed before any answer."""
        delegate = _ResponseDelegate(sink)
        try:
            await self.connection.read_response(delegate)
        except StreamClosedError:
            pass
        if not delegate.started:
            raise UpstreamClosed("closed the connection without answering")
        return delegate.finished

    def close(self) -> None:
        self.connection.close()


async def read_head(stream: IOStream, timeout: float) -> tuple[str, list[tuple[str, str]]]:
    """Read an HTTP response head (status line and headers) from a raw stream."""
    try:
        data = await asyncio.wait_for(
            stream.read_until_regex(b"\r?\n\r?\n", max_bytes=MAX_HEADER), timeout
        )
    except (StreamClosedError, TimeoutError) as err:
        raise UpstreamClosed("closed the connection without answering") from err
    text = data.decode("latin1").lstrip("\r\n")
    status_line, _, rest = text.partition("\n")
    headers = httputil.HTTPHeaders.parse(rest)
    return status_line.rstrip("\r"), list(headers.get_all())


def format_head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin1")


async def relay_upgrade(
    client: IOStream, upstream: IOStream, on_traffic: Callable[[], None] | None = None
) -> None:
    """Copy bytes both ways until either side closes; then close both."""

    async def pump(source: IOStream, sink: IOStream) -> None:
        try:
            while True:
                data = await source.read_bytes(CHUNK, partial=True)
                if on_traffic is not None:
                    on_traffic()
                await sink.write(data)
        except StreamClosedError:
            pass
        finally:
            source.close()
            sink.close()

    await asyncio.gather(pump(client, upstream), pump(upstream, client))


class RecentAddresses:
    """Where containers were found in the last ``ttl`` seconds (whatever the caller keeps:
    their description), so that a page loading a hundred modules does not ask the engine a
    hundred times. The caller drops an entry when connecting to it fails and looks again
    (the container may have stopped or moved)."""

    def __init__(self, ttl: float = 2.0):
        self.ttl = ttl
        self._found: dict[str, tuple[object, float]] = {}

    def get(self, container_id: str):
        found = self._found.get(container_id)
        if found is None or found[1] < time.monotonic():
            self._found.pop(container_id, None)
            return None
        return found[0]

    def put(self, container_id: str, address) -> None:
        self._found[container_id] = (address, time.monotonic() + self.ttl)

    def drop(self, container_id: str) -> None:
        self._found.pop(container_id, None)


class PreviewConnections:
    """Open proxy connections per container, ended together when it is removed."""

    def __init__(self) -> None:
        self._open: dict[str, set[Closable]] = {}
        self.addresses = RecentAddresses()

    def add(self, container_id: str, connection: Closable) -> None:
        self._open.setdefault(container_id, set()).add(connection)

    def discard(self, container_id: str, connection: Closable) -> None:
        found = self._open.get(container_id)
        if found is not None:
            found.discard(connection)
            if not found:
                del self._open[container_id]

    def count(self, container_id: str) -> int:
        return len(self._open.get(container_id, ()))

    def close_container(self, container_id: str) -> None:
        self.addresses.drop(container_id)
        for connection in self._open.pop(container_id, set()):
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing one must not stop the others
                log.debug("closing a preview connection failed", exc_info=True)
