"""A long-lived exec running a constant polling script that prints NUL-ended records.

The watchers of ports and files each keep one such exec per container (or watched path).
The script's first record is its own pid, so stopping it kills it inside the container
instead of leaving a loop behind; every later record goes to ``on_record``. When the exec
ends on its own (container stopped or removed, script killed), ``on_end`` is called.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

from ..tasks import TaskOwner
from .backend import EngineBackend

log = logging.getLogger(__name__)

MAX_RECORD = 64 * 1024**2  # a record this long is not our script's output

# Prepended to every polling script: print the pid, then go on with the script.
PID_PREAMBLE = "printf '%s\\0' \"$$\"\n"

RecordHandler = Callable[[bytes], Awaitable[None] | None]
EndHandler = Callable[[], Awaitable[None] | None]


async def _call(fn, *args) -> None:
    result = fn(*args)
    if inspect.isawaitable(result):
        await result


class PollingExec:
    """Runs ``sh -c <PID_PREAMBLE + script> <name> <args...>`` in a container."""

    def __init__(self, engine: EngineBackend, docker_id: str, script: str, args: list[str], *,
                 name: str, on_record: RecordHandler, on_end: EndHandler, tasks: TaskOwner):
        self.engine = engine
        self.tasks = tasks  # the kill after a stop outlives this poller
        self.docker_id = docker_id
        self.argv = ["sh", "-c", PID_PREAMBLE + script, name, *args]
        self.name = name
        self.pid: int | None = None
        self._on_record = on_record
        self._on_end = on_end
        self._stream = None
        self._task: asyncio.Task | None = None
        self._stopped = False

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            exec_id = await self.engine.exec_create(self.docker_id, self.argv)
            if self._stopped:
                return
            self._stream = await self.engine.exec_start(exec_id)
            pending = bytearray()
            while (frame := await self._stream.read()) is not None:
                pending += frame[1]
                if b"\0" not in frame[1]:
                    if len(pending) > MAX_RECORD:
                        log.warning("%s printed an overlong record; stopping it", self.name)
                        break
                    continue
                *records, rest = bytes(pending).split(b"\0")
                pending = bytearray(rest)
                for record in records:
                    if self.pid is None:
                        self.pid = int(record) if record.isdigit() else 0
                    elif not self._stopped:
                        await _call(self._on_record, record)
                if self._stopped and self.pid is not None:
                    await self._kill()
                    break
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - engine trouble ends the poller
            log.debug("%s in %s ended: %r", self.name, self.docker_id[:12], err)
        finally:
            if self._stream is not None:
                self._stream.close()
        if not self._stopped:
            self._stopped = True
            await _call(self._on_end)

    def stop(self) -> None:
        """Stop reading and kill the script in the container (in the background)."""
        if self._stopped:
            return
        self._stopped = True
        if self.pid is not None:  # else the reader kills it once it has read the pid
            if self._stream is not None:
                self._stream.close()
            self.tasks.spawn(self._kill(), f"end {self.name} in {self.docker_id[:12]}")

    async def _kill(self) -> None:
        try:
            await self.engine.exec_run(self.docker_id, ["kill", str(self.pid)])
        except Exception:  # noqa: BLE001 - the container may be gone already
            pass
