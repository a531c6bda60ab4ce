"""A socket's outgoing frames: one queue, bounded in bytes, drained by one writer task.

The writer waits for each frame to be handed to the network before sending the next, so
a client that reads slowly holds back the queue, never server memory. Replies and
process output wait for room (``put``: backpressure reaches the process or the request
loop); pushes that many sockets share (terminal output, file changes) are offered
(``offer``): refused while the queue is full, so one slow socket never stalls the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class OutboxClosed(Exception):
    """The socket is gone."""


class Outbox:
    def __init__(self, send: Callable[[bytes], Awaitable[None]], limit: int):
        self.limit = limit
        self.size = 0  # bytes queued, not yet handed to the network
        self.dropped = 0  # frames refused by ``offer``
        self.closed = False
        self._send = send
        self._queue: deque[tuple[bytes, int]] = deque()
        self._has_frames = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()
        self._writer = asyncio.ensure_future(self._write())

    def _fits(self, size: int) -> bool:
        return self.size == 0 or self.size + size <= self.limit

    def _enqueue(self, text: bytes, size: int) -> None:
        self._queue.append((text, size))
        self.size += size
        if self.size >= self.limit:
            self._has_room.clear()
        self._has_frames.set()

    def offer(self, text: bytes, *, droppable: bool = True) -> bool:
        """Queue a frame now; a droppable one is refused (False) while the queue is full.
        A frame that is not droppable (status pushes, a few bytes) is always queued."""
        if self.closed:
            return False
        size = len(text)
        if droppable and not self._fits(size):
            self.dropped += 1
            return False
        self._enqueue(text, size)
        return True

    async def put(self, text: bytes) -> None:
        """Queue a frame, waiting while the queue is full."""
        size = len(text)
        while not self.closed and not self._fits(size):
            self._has_room.clear()
            await self._has_room.wait()
        if self.closed:
            raise OutboxClosed()
        self._enqueue(text, size)

    async def _write(self) -> None:
        try:
            while True:
                while not self._queue:
                    self._has_frames.clear()
                    await self._has_frames.wait()
                text, size = self._queue.popleft()
                try:
                    await self._send(text)
                finally:
                    self.size -= size
                    if self._fits(1) and self.size < self.limit:
                        self._has_room.set()
        except asyncio.CancelledError:
            pass
        except Exception as err:  # noqa: BLE001 - the socket closed under us
            log.debug("outbox writer ended: %r", err)
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self.size = 0
        self._has_room.set()  # wake waiting writers: they raise OutboxClosed
        if not self._writer.done() and self._writer is not asyncio.current_task():
            self._writer.cancel()
