"""Stop containers nobody has used for ``idle_timeout`` seconds.

Activity is any API operation that names a container (every one goes through
``ContainerLifecycle.get``, which calls ``touch``). The clock of a container nobody has
touched since this server started begins at the server's start, so a restart never stops
a container early. Stopped containers keep their files; starting one again resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time


class IdleReaper:
    def __init__(self, lifecycle, idle_timeout: int, log: logging.Logger):
        self.lifecycle = lifecycle
        self.idle_timeout = idle_timeout
        self.log = log
        self._since = time.monotonic()
        self._last_used: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def touch(self, container_id: str) -> None:
        self._last_used[container_id] = time.monotonic()

    def idle_for(self, container_id: str) -> float:
        return time.monotonic() - self._last_used.get(container_id, self._since)

    async def sweep(self) -> list[str]:
        """Stop every running container idle past the timeout; their ids."""
        stopped = []
        for info in await self.lifecycle.list():
            if info.status == "running" and self.idle_for(info.id) >= self.idle_timeout:
                self.log.info("stopping container %s (%s): idle for %ds", info.id, info.name,
                              int(self.idle_for(info.id)))
                with contextlib.suppress(Exception):
                    await self.lifecycle.stop(info.id)
                    stopped.append(info.id)
            if info.status != "running":
                self._last_used.pop(info.id, None)
        return stopped

    def start(self) -> None:
        if self.idle_timeout > 0 and self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        interval = min(60.0, max(1.0, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception as err:  # the engine may be down for a while: try again later
                self.log.warning("idle sweep failed: %s", err)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
