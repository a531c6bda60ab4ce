"""A socket's outgoing frames: one queue, bounded in bytes, drained by one writer task.

The writer waits for each frame to be handed to the network before sending the next, so
a client that reads slowly holds back the queue, never server memory. Replies and
process output wait for room (``put``: backpressure reaches the process or the request
loop); pushes that many sockets share (terminal output, file changes) are offered
(``offer``): refused while the queue is full, so one slow socket never stalls the rest.

A client that takes none of the bytes handed to the network for ``stall_timeout``
seconds (it stopped reading) is given up: the outbox closes and calls ``on_stall``,
which closes the socket. ``progress`` tells how many bytes the network has taken so far,
so a large frame going out slowly but steadily is never taken for a stall.

Frames are text (UTF-8 JSON) unless queued with ``binary=True``; ``send(frame)`` sends a
text frame, ``send(frame, True)`` a binary one (as Tornado's ``write_message``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

STALL_CHECKS = 4  # looks at the progress of a pending send per stall_timeout


class OutboxClosed(Exception):
    """The socket is gone."""


class OutboxStalled(Exception):
    """The client took nothing for the stall timeout."""


class Outbox:
    def __init__(self, send: Callable[..., Awaitable[None]], limit: int, *,
                 stall_timeout: float = 0, progress: Callable[[], int] | None = None,
                 on_stall: Callable[[], None] | None = None):
        self.limit = limit
        self.stall_timeout = stall_timeout
        self.stalled = False
        self._progress = progress
        self._on_stall = on_stall
        self.size = 0  # bytes queued, not yet handed to the network
        self.dropped = 0  # frames refused by ``offer``
        self.closed = False
        self._send = send
        self._queue: deque[tuple[bytes, int, bool]] = deque()
        self._has_frames = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()
        self._queued = 0  # frames queued so far
        self._written = 0  # of them, handed to the network (or dropped by a close)
        self._flush_waiters: deque[tuple[int, asyncio.Future]] = deque()
        self._writer = asyncio.ensure_future(self._write())

    def _fits(self, size: int) -> bool:
        return self.size == 0 or self.size + size <= self.limit

    def _enqueue(self, text: bytes, size: int, binary: bool = False) -> None:
        self._queue.append((text, size, binary))
        self._queued += 1
        self.size += size
        if self.size >= self.limit:
            self._has_room.clear()
        self._has_frames.set()

    def offer(self, text: bytes, *, droppable: bool = True, binary: bool = False) -> bool:
        """Queue a frame now; a droppable one is refused (False) while the queue is full.
        A frame that is not droppable (status pushes, a few bytes) is always queued."""
        if self.closed:
            return False
        size = len(text)
        if droppable and not self._fits(size):
            self.dropped += 1
            return False
        self._enqueue(text, size, binary)
        return True

    async def put(self, text: bytes, binary: bool = False) -> None:
        """Queue a frame, waiting while the queue is full."""
        size = len(text)
        while not self.closed and not self._fits(size):
            self._has_room.clear()
            await self._has_room.wait()
        if self.closed:
            raise OutboxClosed()
        self._enqueue(text, size, binary)

    async def flushed(self) -> None:
        """Wait until the frames queued before this call have been handed to the network
        (or the outbox closed); never for frames queued later. Output relays wait for it
        before their next frame, so what a process writes meanwhile goes out in one
        frame: few large frames under load, each chunk at once when the socket keeps up."""
        if self.closed or self._written >= self._queued:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._flush_waiters.append((self._queued, waiter))
        await waiter

    def _wake_flushed(self) -> None:
        waiters = self._flush_waiters
        while waiters and (self.closed or waiters[0][0] <= self._written):
            _, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def _write(self) -> None:
        try:
            while True:
                while not self._queue:
                    self._has_frames.clear()
                    await self._has_frames.wait()
                text, size, binary = self._queue.popleft()
                try:
                    if self.stall_timeout > 0:
                        await self._send_watched(text, binary)
                    else:
                        await self._sent(text, binary)
                finally:
                    self.size -= size
                    if self._fits(1) and self.size < self.limit:
                        self._has_room.set()
                    self._written += 1
                    self._wake_flushed()
        except asyncio.CancelledError:
            pass
        except OutboxStalled:
            self.stalled = True
            log.info("closing a socket whose client read nothing for %s s", self.stall_timeout)
        except Exception as err:  # noqa: BLE001 - the socket closed under us
            log.debug("outbox writer ended: %r", err)
        finally:
            self.close()
            if self.stalled and self._on_stall is not None:
                self._on_stall()

    def _sent(self, text: bytes, binary: bool) -> Awaitable[None]:
        return self._send(text, True) if binary else self._send(text)

    async def _send_watched(self, text: bytes, binary: bool = False) -> None:
        """Send one frame; OutboxStalled once the network took no byte for the stall
        timeout (without ``progress``: once the frame is that long on its way)."""
        loop = asyncio.get_running_loop()
        sending = asyncio.ensure_future(self._sent(text, binary))
        sending.add_done_callback(_retrieve)  # also when given up, or when we are cancelled
        last, since = self._taken(), loop.time()
        while True:
            done, _ = await asyncio.wait({sending}, timeout=self.stall_timeout / STALL_CHECKS)
            if done:
                sending.result()
                return
            taken, now = self._taken(), loop.time()
            if taken is not None and taken != last:
                last, since = taken, now
            elif now - since >= self.stall_timeout:
                raise OutboxStalled()

    def _taken(self) -> int | None:
        if self._progress is None:
            return None
        try:
            return self._progress()
        except Exception:  # noqa: BLE001 - no progress to read: judge by time alone
            return None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self.size = 0
        self._has_room.set()
        self._wake_flushed()  # released: their frames will never go  # wake waiting writers: they raise OutboxClosed
        if not self._writer.done() and self._writer is not asyncio.current_task():
            self._writer.cancel()


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
