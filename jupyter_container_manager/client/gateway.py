"""The ``/container`` WebSocket, joined to one container: requests with ids, and pushes.

Frames are ``{"event", "id"?, "data"}`` JSON both ways; the socket offers the protocol's
versioned subprotocol (``protocol_generated.SUBPROTOCOL``). A request with an ``id`` gets
exactly one reply with that ``id`` (its result event, ``ok`` or ``error``); every frame
without a pending ``id`` is a push and goes to ``on_push(event, data)``, called on the
event loop. When the socket closes, pending requests fail and ``on_push("close", {})``
runs once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from . import protocol_generated as events
from .errors import ContainerError
from .transport import Transport

MAX_MESSAGE = 64 * 1024**2

PushHandler = Callable[[str, dict], None]


class Gateway:
    """One WebSocket to ``/container``, joined to ``container_id``."""

    def __init__(self, transport: Transport, container_id: str, on_push: PushHandler):
        self.transport = transport
        self.container_id = container_id
        self.on_push = on_push
        self.joined: dict = {}
        self._conn: WebSocketClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._connecting: asyncio.Future | None = None

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
        _, data = await self.request(events.JOIN_CONTAINER, {"containerId": self.container_id})
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
                request, max_message_size=MAX_MESSAGE, subprotocols=[events.SUBPROTOCOL]
            )
        except HTTPClientError as err:
            hint = {403: " (the server refused the token)",
                    404: " (does this server have the /container WebSocket?)"}.get(err.code, "")
            raise ContainerError(
                f"WebSocket {request.url}: HTTP {err.code}{hint}", status=err.code
            ) from err
        except OSError as err:
            raise ContainerError(
                f"Cannot reach the Jupyter server at {self.transport.server.url}: {err}",
                code="ECONNREFUSED",
            ) from err
        self._conn = conn
        self._reader = asyncio.ensure_future(self._read(conn))
        try:
            event, data = await self.request(
                events.JOIN_CONTAINER, {"containerId": self.container_id}
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
            raise ContainerError(f"No reply to {event} in time", code="ETIMEDOUT") from None
        finally:
            self._pending.pop(request_id, None)
        if answer_event == events.ERROR:
            raise ContainerError(
                answer.get("message") or f"{event} failed", code=answer.get("code"),
                status=answer.get("status"),
            )
        return answer_event, answer

    async def _send(self, frame: dict) -> None:
        conn = self._conn
        if conn is None:
            raise ContainerError("The WebSocket is closed", code="ECONNRESET")
        try:
            await conn.write_message(json.dumps(frame))
        except WebSocketClosedError:
            raise ContainerError("The WebSocket is closed", code="ECONNRESET") from None

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
                        ContainerError("The WebSocket closed before the reply", code="ECONNRESET")
                    )
            self.on_push("close", {})

    def _dispatch(self, message) -> None:
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
