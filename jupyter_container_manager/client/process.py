"""Processes spawned over the WebSocket: output as an async iterator, stdin, kill, wait.

``process-output {pid, data}`` and ``process-exit {pid, exitCode}`` pushes are routed by
pid through a ProcessTable; pushes that arrive before the spawn reply names the pid are
held briefly (bounded), so no early output is lost.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from . import protocol_generated as events
from .errors import ContainerError, error_for

OUTPUT_LIMIT = 16 * 1024**2  # characters kept unread per process; older ones are dropped
EARLY_LIMIT = 1024**2  # characters held for pids no process has claimed yet
EARLY_PIDS = 64

Operation = Callable[[dict], Awaitable[dict]]


class ProcessOutput:
    """The output of one process, in arrival order: ``async for chunk in proc.output``.

    Unread output is bounded: past ``limit`` characters the oldest chunks are dropped and
    counted in ``dropped``.
    """

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.dropped = 0
        self._chunks: deque[str] = deque()
        self._size = 0
        self._ended = False
        self._wakeup = asyncio.Event()

    def feed(self, data: str) -> None:
        if not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        while self._size > self.limit and len(self._chunks) > 1:
            old = self._chunks.popleft()
            self._size -= len(old)
            self.dropped += len(old)
        self._wakeup.set()

    def end(self) -> None:
        self._ended = True
        self._wakeup.set()

    async def next_chunk(self) -> str | None:
        """The next chunk, or None once the process ended and all output was read."""
        while not self._chunks:
            if self._ended:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        chunk = self._chunks.popleft()
        self._size -= len(chunk)
        return chunk

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        chunk = await self.next_chunk()
        if chunk is None:
            raise StopAsyncIteration
        return chunk


class ProcessInput:
    """stdin of a process, like WebContainer's ``process.input`` writer."""

    def __init__(self, process: AsyncProcess):
        self._process = process

    async def write(self, data: str) -> None:
        await self._process.write(data)


class AsyncProcess:
    """A process running in the container (WebContainer's ``WebContainerProcess``)."""

    def __init__(self, pid: int, operate: Operation):
        self.pid = pid
        self.output = ProcessOutput()
        self.input = ProcessInput(self)
        self.exit: asyncio.Future = asyncio.get_running_loop().create_future()
        self._operate = operate

    @property
    def exit_code(self) -> int | None:
        """The exit code once the process ended, else None."""
        if self.exit.done() and not self.exit.exception():
            return self.exit.result()
        return None

    async def write(self, data: str) -> None:
        """Send ``data`` to the process's stdin."""
        await self._operate({"type": "input", "pid": self.pid, "data": data})

    async def kill(self, signal: str | None = None) -> None:
        """End the process and everything it started (its process group)."""
        if self.exit.done():
            return
        operation = {"type": "kill", "pid": self.pid}
        if signal:
            operation["signal"] = signal
        await self._operate(operation)

    async def resize(self, cols: int, rows: int) -> None:
        """Resize the terminal of a process spawned with ``terminal=``."""
        await self._operate({"type": "resize", "pid": self.pid, "cols": cols, "rows": rows})

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to end; its exit code."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.exit), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"process {self.pid} still runs after {timeout} s") from None

    def _exited(self, code: int) -> None:
        self.output.end()
        if not self.exit.done():
            self.exit.set_result(code)

    def _lost(self, error: ContainerError) -> None:
        self.output.end()
        if not self.exit.done():
            self.exit.set_exception(error)
            self.exit.exception()  # retrieved: no "never retrieved" warning if unused

    def __repr__(self) -> str:
        return f"<AsyncProcess pid={self.pid} exit_code={self.exit_code}>"


class ProcessTable:
    """Routes process pushes to their process by pid."""

    def __init__(self):
        self._processes: dict[int, AsyncProcess] = {}
        self._early: OrderedDict[int, list[tuple[str, dict]]] = OrderedDict()
        self._early_size = 0

    def add(self, process: AsyncProcess) -> None:
        self._processes[process.pid] = process
        for event, data in self._early.pop(process.pid, []):
            self._early_size -= len(data.get("data") or "")
            self._deliver(process, event, data)

    def dispatch(self, event: str, data: dict) -> None:
        """Handle a ``process-output`` or ``process-exit`` push."""
        pid = data.get("pid")
        process = self._processes.get(pid)
        if process is not None:
            self._deliver(process, event, data)
            return
        held = self._early.setdefault(pid, [])
        held.append((event, data))
        self._early_size += len(data.get("data") or "")
        while self._early and (len(self._early) > EARLY_PIDS or self._early_size > EARLY_LIMIT):
            _, dropped = self._early.popitem(last=False)
            self._early_size -= sum(len(d.get("data") or "") for _, d in dropped)

    def _deliver(self, process: AsyncProcess, event: str, data: dict) -> None:
        if event == events.PROCESS_OUTPUT:
            process.output.feed(data.get("data") or "")
        elif event == events.PROCESS_EXIT:
            code = data.get("exitCode")
            process._exited(int(code) if code is not None else -1)
            self._processes.pop(process.pid, None)

    def lose_all(self, message: str) -> None:
        """The socket closed: every running process is out of reach."""
        for process in list(self._processes.values()):
            process._lost(error_for(message, code="ECONNRESET"))
        self._processes.clear()
        self._early.clear()
        self._early_size = 0
