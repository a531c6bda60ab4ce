"""The owner of the extension's background tasks.

Work that outlives the call that started it (the idle reaper, the warm pool, sweeps of
leftover temporaries, kills a closing request leaves behind, a wait for the engine to
come back) is started here and nowhere else: the owner keeps a reference to each task
(asyncio keeps only weak ones), logs a task that fails, and cancels what still runs when
the server stops. Tasks that a structure awaits or cancels itself (an exec's reader, a
socket's writer) are that structure's own and stay with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class TaskOwner:
    """Keeps every task it starts until it ends; :meth:`close` cancels the rest."""

    def __init__(self, log: logging.Logger | None = None):
        self.log = log or logging.getLogger("jupyter_container_manager")
        self._tasks: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        """Run ``coro`` in the background as a task named ``name``. Its failure is logged
        with its traceback; cancelling it is not a failure."""
        task = asyncio.ensure_future(coro)
        task.set_name(f"jcm: {name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.log.error("background task %r failed", task.get_name(),
                           exc_info=(type(error), error, error.__traceback__))

    async def close(self, timeout: float = 5.0) -> None:
        """Cancel every task still running and wait (at most ``timeout`` seconds) for
        them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
