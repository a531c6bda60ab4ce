"""Input for one process or terminal: written in arrival order by one task, bounded in bytes.

Requests that carry keystrokes or stdin return at once (they only queue); the feeding
task writes, waiting while the process's pipe or tty is full. A process that stops reading
its input makes the next write answer EAGAIN instead of growing server memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .errors import Conflict

LIMIT = 1024**2  # bytes waiting for the process


class InputQueue:
    def __init__(self, what: str, limit: int = LIMIT):
        self.what = what
        self.limit = limit
        self.size = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    def put(self, data: str) -> None:
        raw = data.encode("utf-8")
        if self.size + len(raw) > self.limit:
            raise Conflict(f"{self.what} is not reading its input; wait and retry",
                           code="EAGAIN")
        self.size += len(raw)
        self._queue.put_nowait(raw)

    async def feed(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        """Write everything queued, in order, until ``write`` fails (input closed)."""
        while True:
            raw = await self._queue.get()
            self.size -= len(raw)
            try:
                await write(raw)
            except Exception:  # noqa: BLE001 - the input is closed: the rest has nowhere to go
                return
