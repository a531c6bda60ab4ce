"""The ``/container`` WebSocket, joined to one container: requests with ids, and pushes.

Frames are ``{"event", "id"?, "data"}`` JSON both ways; the socket offers the protocol's
versioned subprotocols, highest first (``protocol_generated.SUBPROTOCOLS``). From version
2 on the server sends process and terminal output as binary frames; they are decoded
here into the same ``process-output`` / ``pty-output`` pushes (``data`` a string), with
one streaming UTF-8 decoder per process and terminal, so a character split between two
frames comes out whole. A request with an ``id`` gets
exactly one reply with that ``id`` (its result event, ``ok`` or ``error``); every frame
without a pending ``id`` is a push and goes to ``on_push(event, data)``, called on the
event loop. When the socket closes, pending requests fail and ``on_push("close", {})``
runs once.
"""

from __future__ import annotations

import asyncio
import codecs
import itertools
import json
from collections.abc import Callable

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from . import protocol_generated as events
from .errors import error_for
from .transport import Transport

MAX_MESSAGE = 64 * 1024**2

PushHandler = Callable[[str, dict], None]


class Gateway:
    """One WebSocket to ``/container``, joined to ``container_id`` (None: joined to
    nothing, for server-wide pushes such as ``image-pull``)."""

    def __init__(self, transport: Transport, container_id: str | None, on_push: PushHandler):
        self.transport = transport
        self.container_id = container_id
        self.on_push = on_push
        self.joined: dict = {}
        self.join_options: dict = {}  # more join-container fields (metrics: true)
        self._conn: WebSocketClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._connecting: asyncio.Future | None = None
        self._output = OutputFrames()

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> dict:
        """Open and join (once; concurrent callers share the attempt). Returns the
        ``joined-container`` data: ``{containerId, status, cwd, terminals}``."""
        if self._conn is not None:
            return self.joined
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        attempt = self._connecting
        try:
            return await asyncio.shield(attempt)
        finally:
            if attempt.done() and self._connecting is attempt:
                self._connecting = None

    async def join(self) -> dict:
        """Join again (or connect): fresh ``joined-container`` data (status, cwd...)."""
        if self._conn is None:
            return await self.connect()
        _, data = await self.request(events.JOIN_CONTAINER,
                                     {"containerId": self.container_id, **self.join_options})
        self.joined = data
        return data

    async def _open(self) -> dict:
        request = HTTPRequest(
            self.transport.ws_url("container"),
            headers=self.transport.headers,
            connect_timeout=30.0,
            request_timeout=30.0,
        )
        try:
            conn = await websocket_connect(
                request, max_message_size=MAX_MESSAGE, subprotocols=list(events.SUBPROTOCOLS)
            )
        except HTTPClientError as err:
            hint = {403: " (the server refused the token)",
                    404: " (does this server have the /container WebSocket?)"}.get(err.code, "")
            raise error_for(
                f"WebSocket {request.url}: HTTP {err.code}{hint}", status=err.code
            ) from err
        except OSError as err:
            raise error_for(
                f"Cannot reach the Jupyter server at {self.transport.server.url}: {err}",
                code="ECONNREFUSED",
            ) from err
        self._conn = conn
        self._output.clear()
        self._reader = asyncio.ensure_future(self._read(conn))
        if self.container_id is None:
            return {}
        try:
            event, data = await self.request(
                events.JOIN_CONTAINER, {"containerId": self.container_id, **self.join_options}
            )
        except BaseException:
            await self.close()
            raise
        self.joined = data
        return data

    async def request(
        self, event: str, data: dict, *, timeout: float | None = None
    ) -> tuple[str, dict]:
        """Send a request and wait for its reply: ``(event, data)``; ``error`` raises."""
        if self._conn is None:
            await self.connect()
        request_id = f"py{next(self._ids)}"
        reply: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        try:
            await self._send({"event": event, "id": request_id, "data": data})
            answer_event, answer = await asyncio.wait_for(
                reply, timeout or self.transport.timeout
            )
        except asyncio.TimeoutError:
            raise error_for(f"No reply to {event} in time", code="ETIMEDOUT") from None
        finally:
            self._pending.pop(request_id, None)
        if answer_event == events.ERROR:
            raise error_for(
                answer.get("message") or f"{event} failed", code=answer.get("code"),
                status=answer.get("status"),
            )
        return answer_event, answer

    async def _send(self, frame: dict) -> None:
        conn = self._conn
        if conn is None:
            raise error_for("The WebSocket is closed", code="ECONNRESET")
        try:
            await conn.write_message(json.dumps(frame))
        except WebSocketClosedError:
            raise error_for("The WebSocket is closed", code="ECONNRESET") from None

    async def _read(self, conn: WebSocketClientConnection) -> None:
        try:
            while True:
                message = await conn.read_message()
                if message is None:
                    break
                self._dispatch(message)
        finally:
            if self._conn is conn:
                self._conn = None
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(
                        error_for("The WebSocket closed before the reply", code="ECONNRESET")
                    )
            self.on_push("close", {})

    def _dispatch(self, message) -> None:
        if isinstance(message, bytes):
            push = self._output.decode(message)
            if push is not None:
                self.on_push(*push)
            return
        try:
            frame = json.loads(message)
            event = frame["event"]
            data = frame.get("data") or {}
        except (ValueError, TypeError, KeyError):
            return  # not ours to judge: the server speaks the protocol
        reply = self._pending.get(str(frame.get("id"))) if frame.get("id") is not None else None
        if reply is not None and not reply.done():
            reply.set_result((event, data))
            return
        tail = self._output.ended(event, data)  # the rest of its output first
        if tail is not None:
            self.on_push(*tail)
        self.on_push(event, data)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 5)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing anyway
                self._reader.cancel()
            self._reader = None


class OutputFrames:
    """Binary output frames (version 2) as the pushes their text frames would be: one
    streaming UTF-8 decoder per process and terminal (invalid bytes replaced, as the
    server does for version 1)."""

    def __init__(self):
        self._decoders: dict[tuple[str, int | str], codecs.IncrementalDecoder] = {}

    def clear(self) -> None:
        """A new connection: nothing is pending."""
        self._decoders.clear()

    def decode(self, message: bytes) -> tuple[str, dict] | None:
        """``(event, data)`` of a binary frame; None when it gives nothing yet (the start
        of a character) or is of a kind this client does not know."""
        try:
            event, data, payload = parse_output_frame(message)
        except ValueError:
            return None
        key = (event, data[_ENDS_FIELD[event]])
        if data.get("replay"):
            self._decoders.pop(key, None)  # a replay starts the terminal's output afresh
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = codecs.getincrementaldecoder("utf-8")("replace")
        data["data"] = decoder.decode(payload)
        if not data["data"] and len(data) == 2:
            return None
        return event, data

    def ended(self, event: str, data) -> tuple[str, dict] | None:
        """For a ``process-exit`` or ``pty-exit``: the output push of the bytes its
        decoder still holds (an incomplete character at the end), if any."""
        ends = _ENDS.get(event)
        if ends is None or not isinstance(data, dict):
            return None
        output, field = ends
        decoder = self._decoders.pop((output, data.get(field)), None)
        tail = decoder.decode(b"", final=True) if decoder is not None else ""
        return (output, {field: data.get(field), "data": tail}) if tail else None


# The pushes that end an output, and the field naming whose.
_ENDS = {events.PROCESS_EXIT: (events.PROCESS_OUTPUT, "pid"),
         events.PTY_EXIT: (events.PTY_OUTPUT, "terminalId")}
_ENDS_FIELD = {output: field for output, field in _ENDS.values()}
_KINDS = {events.BINARY_PROCESS_OUTPUT: events.PROCESS_OUTPUT,
          events.BINARY_PTY_OUTPUT: events.PTY_OUTPUT}


def parse_output_frame(frame: bytes) -> tuple[str, dict, bytes]:
    """``(event, fields, payload)`` of a binary output frame (the layout in
    ``protocol_generated``): the fields of its text form but ``data``, and the undecoded
    output. ValueError for a frame that is not one."""
    if len(frame) < 4 or frame[0] not in _KINDS or frame[2] == 0:
        raise ValueError("not a binary output frame")
    event, flags, end = _KINDS[frame[0]], frame[1], 3 + frame[2]
    if len(frame) < end:
        raise ValueError("the frame ends inside its id")
    target = frame[3:end].decode("utf-8")
    data: dict = {_ENDS_FIELD[event]: int(target) if event == events.PROCESS_OUTPUT else target}
    if flags & events.FLAG_DROPPED:
        data["dropped"] = int.from_bytes(frame[end:end + 8], "big")
        end += 8
    if flags & events.FLAG_REPLAY:
        data["replay"] = True
    return event, data, frame[end:]
