"""Stop containers nobody has used for ``idle_timeout`` seconds, and remove those it
stopped once they have stayed stopped for ``idle_remove_timeout`` seconds.

Activity is any API operation that names a container: where requests arrive (REST,
the /container socket, the preview proxy) they call ``ContainerManager.touch``. The clock of a container nobody has
touched since this server started begins at the server's start, so a restart never stops
a container early. Stopped containers keep their files; starting one again resumes it.

Which stopped containers are the reaper's must survive a server restart, and labels
cannot change after create; so the reaper stops a container by sending its keep-alive
process SIGUSR1 (``docker kill -s USR1``) instead of SIGTERM: Docker then records exit
code 138 and the time in ``State.FinishedAt``. Only a container whose last stop was that
one is ever removed, never one stopped through the API, killed, crashed or stopped by
hand (143, 137, ...). Starting a container again clears the mark (it runs), and any use of
a stopped one (even GET) puts its removal off by another ``idle_remove_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from ..tasks import TaskOwner

IDLE_STOP_SIGNAL = "SIGUSR1"
IDLE_STOP_EXIT_CODE = 128 + 10  # the keep-alive process ended by SIGUSR1


def parse_docker_time(value: str) -> float | None:
    """``2026-11-30T18:15:46.396041054Z`` (nanoseconds, Z) -> seconds since the epoch;
    None for Docker's zero time or anything unreadable."""
    if not value or value.startswith("0001-"):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, sep, rest = text.partition(".")
    if sep:  # at most 6 digits of fraction for fromisoformat
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


class IdleReaper:
    def __init__(
        self,
        lifecycle,
        idle_timeout: int,
        log: logging.Logger,
        *,
        remove_timeout: int = 0,
        remove: Callable[[str], Awaitable[None]] | None = None,
    ):
        self.lifecycle = lifecycle
        self.idle_timeout = idle_timeout
        self.remove_timeout = remove_timeout if remove is not None else 0
        self.remove = remove
        self.log = log
        self._since = time.monotonic()
        self._last_used: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def touch(self, container_id: str) -> None:
        if self.idle_timeout > 0 or self.remove_timeout > 0:
            self._last_used[container_id] = time.monotonic()

    def idle_for(self, container_id: str) -> float:
        return time.monotonic() - self._last_used.get(container_id, self._since)

    async def sweep(self) -> tuple[list[str], list[str]]:
        """Stop every running container idle past ``idle_timeout``, remove every one the
        reaper stopped that stayed unused past ``idle_remove_timeout``: their ids."""
        stopped, removed = [], []
        listed_at = time.monotonic()
        infos = await self.lifecycle.list()
        known = {info.id for info in infos}
        for container_id, used in list(self._last_used.items()):
            if container_id not in known and used < listed_at:  # gone, or never ours
                del self._last_used[container_id]
        for info in infos:
            if info.status == "running":
                if self.idle_timeout > 0 and self.idle_for(info.id) >= self.idle_timeout:
                    self.log.info("stopping container %s (%s): idle for %ds", info.id,
                                  info.name, int(self.idle_for(info.id)))
                    with contextlib.suppress(Exception):
                        await self.lifecycle.idle_stop(info)
                        stopped.append(info.id)
                        self._last_used.pop(info.id, None)
            elif self.remove_timeout > 0 and info.status == "stopped":
                with contextlib.suppress(Exception):
                    if await self._remove_if_due(info):
                        removed.append(info.id)
        return stopped, removed

    async def _remove_if_due(self, info) -> bool:
        finished = await self.lifecycle.idle_stopped_at(info.id)
        if finished is None or time.time() - finished < self.remove_timeout:
            return False
        if info.id in self._last_used and self.idle_for(info.id) < self.remove_timeout:
            return False  # used since it stopped (looked at, or started and stopped)
        # Look again right before: a start since the list clears the mark.
        if await self.lifecycle.idle_stopped_at(info.id) != finished:
            return False
        self.log.info("removing container %s (%s): stopped for idleness %ds ago",
                      info.id, info.name, int(time.time() - finished))
        await self.remove(info.id)
        self._last_used.pop(info.id, None)
        return True

    def start(self, tasks: TaskOwner) -> None:
        """Sweep every little while, as a task of ``tasks`` (only with a timeout set)."""
        if (self.idle_timeout > 0 or self.remove_timeout > 0) and self._task is None:
            self._task = tasks.spawn(self._run(), "idle reaper")

    async def _run(self) -> None:
        timeouts = [t for t in (self.idle_timeout, self.remove_timeout) if t > 0]
        interval = min(60.0, max(1.0, min(timeouts) / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception as err:  # noqa: BLE001 - task boundary: the engine may be down
                self.log.warning("idle sweep failed: %s", err)  # for a while; again later

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
