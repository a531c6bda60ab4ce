"""Input for one process or terminal: written in arrival order by one task, bounded in bytes.

Requests that carry keystrokes or stdin return at once (they only queue); the feeding
task writes, waiting while the process's pipe or tty is full. A process that stops reading
its input makes the next write answer EAGAIN instead of growing server memory.

A control request about the same target (a resize, a kill) first waits until the input
queued before it has been written (``written``), so it applies in the order it was sent;
that wait is bounded, so a process that never reads its input can still be killed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .errors import Conflict

LIMIT = 1024**2  # bytes waiting for the process
ORDER_WAIT = 2.0  # seconds a control request waits for the input sent before it


class InputQueue:
    def __init__(self, what: str, limit: int = LIMIT):
        self.what = what
        self.limit = limit
        self.size = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._pending = 0  # chunks queued and not yet written (the one being written too)
        self._idle = asyncio.Event()
        self._idle.set()
        self._ended = False

    def put(self, data: str) -> None:
        raw = data.encode("utf-8")
        if self.size + len(raw) > self.limit:
            raise Conflict(f"{self.what} is not reading its input; wait and retry",
                           code="EAGAIN")
        self.size += len(raw)
        if not self._ended:
            self._pending += 1
            self._idle.clear()
        self._queue.put_nowait(raw)

    async def written(self, timeout: float = ORDER_WAIT) -> bool:
        """Wait until everything queued so far has been written (or can never be);
        False if that took longer than ``timeout`` seconds."""
        if self._idle.is_set():
            return True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        return self._idle.is_set()

    def _done(self, count: int = 1) -> None:
        self._pending = max(self._pending - count, 0)
        if self._pending == 0:
            self._idle.set()

    async def feed(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        """Write everything queued, in order, until ``write`` fails (input closed)."""
        try:
            while True:
                raw = await self._queue.get()
                self.size -= len(raw)
                try:
                    await write(raw)
                except Exception:  # noqa: BLE001 - the input is closed: the rest has nowhere to go
                    return
                finally:
                    self._done()
        finally:  # nothing more will be written: nobody waits for it
            self._ended = True
            self._done(self._pending)
