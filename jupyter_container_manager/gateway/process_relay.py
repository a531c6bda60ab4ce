"""A process spawned over a socket: its stdin in arrival order, its output to the socket.

A resize or a signal waits until the input sent before it has been written, so a process
sees them in the order the client sent them.

Output is relayed by two tasks: one reads the process's output into a small buffer
(at most ``BUFFER`` bytes: past it, it stops reading, so the process blocks at its pipe
and server memory stays bounded), the other sends whatever the buffer holds as one
``process-output`` frame once the socket has taken the frames before it (``ready``).
Under load, chunks gather into large frames (few frames, high throughput); when idle,
each chunk goes out at once (a keystroke echo is not delayed). With ``send_bytes`` (a socket that takes
binary frames) the bytes go as they came, without decoding; otherwise they are decoded
as UTF-8 incrementally (a character split between two reads is sent whole).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Awaitable, Callable

from ..core.input_queue import InputQueue

log = logging.getLogger(__name__)

Send = Callable[[str, dict], Awaitable[None]]
SendBytes = Callable[[int, list[bytes]], Awaitable[None]]  # (pid, chunks)


class ProcessRelay:
    BUFFER = 1024**2  # bytes of output read ahead of the socket

    def __init__(self, process, send: Send, send_bytes: SendBytes | None = None,
                 ready: Callable[[], Awaitable[None]] | None = None):
        self.process = process
        self._ready = ready  # returns once the socket took what was queued before
        self.pid: int = process.pid
        self._send = send
        self._send_bytes = send_bytes
        self._input = InputQueue(f"Process {self.pid}")
        self._output: list[bytes] = []
        self._output_size = 0
        self._has_output = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()
        self._ended = False
        self._tasks: list[asyncio.Task] = []

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    def start(self, on_done: Callable[[ProcessRelay], None]) -> None:
        self._tasks = [asyncio.ensure_future(self._read()),
                       asyncio.ensure_future(self._relay(on_done)),
                       asyncio.ensure_future(self._feed())]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    # --- input ---------------------------------------------------------------------

    def write(self, data: str) -> None:
        """Queue input for the process, in order (never waits)."""
        self._input.put(data)

    async def kill(self, signal: str) -> None:
        """Signal the process group, after the input queued before it has been written."""
        await self._input.written()
        await self.process.kill(signal)

    async def resize(self, cols: int, rows: int) -> None:
        """Resize its terminal, after the input queued before it has been written."""
        await self._input.written()
        await self.process.resize(cols, rows)

    async def _feed(self) -> None:
        await self._input.feed(self.process.write)

    # --- output --------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for chunk in self.process:
                while self._output_size >= self.BUFFER:
                    self._has_room.clear()
                    await self._has_room.wait()
                self._output.append(chunk)
                self._output_size += len(chunk)
                self._has_output.set()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the engine went away
            log.debug("process %s output ended: %r", self.pid, err)
        finally:
            self._ended = True
            self._has_output.set()

    async def _relay(self, on_done: Callable[[ProcessRelay], None]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            while True:
                await self._has_output.wait()
                if self._ready is not None:
                    await self._ready()  # what comes meanwhile joins this frame
                self._has_output.clear()
                chunks, self._output, self._output_size = self._output, [], 0
                self._has_room.set()
                if self._send_bytes is not None:
                    if any(chunks):
                        await self._send_bytes(self.pid, chunks)
                else:
                    text = decoder.decode(b"".join(chunks),
                                          final=self._ended and not self._output)
                    if text:
                        await self._send("process-output", {"pid": self.pid, "data": text})
                if self._ended and not self._output:
                    break
            try:
                code = await self.process.wait()
            except Exception:  # noqa: BLE001 - the engine went away
                code = -1
            await self._send("process-exit", {"pid": self.pid, "exitCode": code})
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the socket closed
            log.debug("process %s relay ended: %r", self.pid, err)
        finally:
            for task in self._tasks:
                if task is not asyncio.current_task():
                    task.cancel()
            on_done(self)
