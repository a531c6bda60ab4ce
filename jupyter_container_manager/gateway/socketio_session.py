"""One Socket.IO client of ``/container``: a ``SocketSession`` whose frames are events.

The adapter between Socket.IO and the one implementation of the events
(``gateway/session.py``). An event in (``socket.emit(name, payload, ack?)``) becomes the
plain socket's frame ``{"event": name, "data": payload, "id": ackId}`` and goes to the
session as any frame does: the same validation, the same bounds (``ws_max_inflight``:
past it the event is not taken until a request finishes, so the client's packets wait),
the same dispatch. A frame out becomes a Socket.IO event: a reply to a request that
asked for an acknowledgement goes to its callback as ``{event, data}`` (the plain
frame without its id); every other frame, replies and pushes alike, is emitted as the
event it names with its data as the payload.

Frames leave through the session's ``Outbox``: one at a time, and the next only once
Engine.IO has taken the last one (the client polled it, or the WebSocket wrote it to
the network), so a client that stops reading holds back its own queue, never server
memory, and is given up after ``ws_send_timeout``. Socket.IO clients speak version 1 of
the protocol: output is JSON text, never binary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from tornado.ioloop import IOLoop

from ..manager import ContainerManager
from . import protocol
from .outbox import Outbox, OutboxClosed
from .protocol import FrameError
from .rooms import ContainerRooms
from .session import SocketSession

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
    orjson = None

log = logging.getLogger(__name__)

TOO_LARGE = "EMSGSIZE"  # an event larger than the plain socket's largest frame
TIMED_OUT = "ETIMEDOUT"
CLOSE_NOTICE_TIMEOUT = 5.0  # seconds the idle notice may take before the disconnect

Emit = Callable[[str, dict], Awaitable[None]]
Ack = Callable[[int, dict], Awaitable[None]]


def request_frame(event: str | None, args: list, ack_id: int | None, max_size: int) -> bytes:
    """The plain socket's frame for a Socket.IO event, or FrameError: the payload is one
    object (or nothing), JSON (no binary attachments), and at most ``max_size`` bytes
    as a frame. (pure)"""
    request_id = ack_id if ack_id is not None and 0 <= ack_id <= protocol.MAX_SAFE_INTEGER \
        else None
    if len(args) > 1:
        raise FrameError(f"{event}: one payload object, not {len(args)} arguments",
                         protocol.BAD_DATA, request_id)
    frame = {"event": event, "data": args[0] if args else None}
    if request_id is not None:
        frame["id"] = request_id
    try:
        text = orjson.dumps(frame) if orjson is not None else json.dumps(frame).encode()
    except (TypeError, ValueError):
        raise FrameError(f"{event}: binary attachments are not read; send text (writeFile "
                         "takes base64 with encoding 'base64')", protocol.BAD_DATA,
                         request_id) from None
    if len(text) > max_size:
        raise FrameError(f"{event}: a message of {len(text)} bytes; at most {max_size} "
                         "(the largest /container frame)", TOO_LARGE, request_id)
    return text


class SocketIOConnection:
    """A Socket.IO client connected to ``/container``, served by its own SocketSession."""

    def __init__(self, manager: ContainerManager, rooms: ContainerRooms, *, emit: Emit,
                 ack: Ack, drained: Callable[[], Awaitable[None]],
                 disconnect: Callable[[bool], Awaitable[None]], max_message: int,
                 preview_origin: tuple[str, str]):
        self.manager = manager
        self._emit = emit
        self._ack = ack
        self._drained = drained
        self._disconnect = disconnect
        self.max_message = max_message
        self.outbox = Outbox(self._send, manager.ws_send_buffer,
                             stall_timeout=manager.ws_send_timeout, on_stall=self._stalled)
        self.session = SocketSession(manager, rooms, self.outbox)
        self.session.preview_origin = preview_origin
        self.closed = False
        self._last_event = IOLoop.current().time()
        self._idle_timer = None
        self._watch_idle(manager.ws_idle_timeout)

    # --- events in -------------------------------------------------------------------

    async def receive(self, event: str | None, args: list, ack_id: int | None) -> None:
        """One event from the client: served as the frame it stands for (waiting only
        for a free slot, as a plain socket's frame does)."""
        self._last_event = IOLoop.current().time()
        if self.closed:
            return
        try:
            frame = request_frame(event, args, ack_id, self.max_message)
        except FrameError as err:
            with contextlib.suppress(OutboxClosed):
                await self.outbox.put(protocol.server_frame(
                    "error", {"message": err.message, "code": err.code}, err.request_id))
            return
        await self.session.receive(frame)

    # --- frames out ------------------------------------------------------------------

    async def _send(self, frame: bytes, binary: bool = False) -> None:
        if binary:  # pragma: no cover - a version 1 session sends none
            raise ValueError("a Socket.IO client takes no binary frames")
        message = orjson.loads(frame) if orjson is not None else json.loads(frame)
        if "id" in message:
            await self._ack(message["id"], {"event": message["event"], "data": message["data"]})
        else:
            await self._emit(message["event"], message["data"])
        await self._drained()

    # --- timeouts --------------------------------------------------------------------

    def _watch_idle(self, delay: float) -> None:
        if self.manager.ws_idle_timeout > 0 and not self.closed:
            self._idle_timer = IOLoop.current().call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self.closed:
            return
        timeout = self.manager.ws_idle_timeout
        quiet = IOLoop.current().time() - self._last_event
        if self.session.processes:  # its processes run on: not idle
            self._watch_idle(timeout)
        elif quiet < timeout:
            self._watch_idle(timeout - quiet)
        else:
            log.info("closing a /container Socket.IO client idle for %.0f s", quiet)
            self.outbox.offer(protocol.server_frame("error", {
                "message": f"closing: no event for {quiet:.0f} s and nothing running "
                           "(c.ContainerManager.ws_idle_timeout)", "code": TIMED_OUT}),
                droppable=False)
            self.manager.background(self._close_soon(), "disconnect an idle Socket.IO client")

    async def _close_soon(self) -> None:
        with contextlib.suppress(Exception):  # the idle notice goes out first, if it can
            await asyncio.wait_for(self._drained(), CLOSE_NOTICE_TIMEOUT)
        await self._disconnect(False)

    def _stalled(self) -> None:
        """The client took nothing queued for it for ``ws_send_timeout``: disconnect it."""
        self.manager.background(self._disconnect(True), "disconnect a Socket.IO client that "
                                "stopped reading")

    # --- end -------------------------------------------------------------------------

    def close(self) -> None:
        """The client disconnected: the session ends (its processes with it)."""
        if self.closed:
            return
        self.closed = True
        if self._idle_timer is not None:
            IOLoop.current().remove_timeout(self._idle_timer)
            self._idle_timer = None
        self.session.close()
