"""Reading an exec whose stdout starts with status lines from our own constant script.

The scripts (fs_scripts.py, the spawn wrapper in processes.py) print a status line before
any data. Docker copies stdout and stderr on separate pipes, so a stderr frame may arrive
first: it is kept (bounded) and handed out in arrival order after the status line when the
caller wants merged output, or kept aside as the error text when it does not.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable

from ..core.errors import ContainerManagerError, ContainerNotFound, ContainerNotRunning
from ..core.models import ContainerInfo
from .agent import Agent
from .backend import BackendConflict, BackendNotFound, BackendRefused, EngineBackend
from .docker_backend import STDERR, ExecStartError, ExecStream
from .fs_scripts import KILL_GROUP

MAX_STATUS_LINE = 4096
MAX_KEPT_STDERR = 64 * 1024


class StatusLineError(Exception):
    """The exec did not start with a status line (the script could not run)."""


class ScriptOutput:
    """An exec's output: ``status_line()`` then ``chunk()`` until None."""

    def __init__(self, stream: ExecStream, *, merge_stderr: bool = False):
        self.stream = stream
        self.merge_stderr = merge_stderr
        self.stderr = bytearray()  # kept when not merged (the reason a tool failed)
        self._early: deque[bytes] = deque()  # data read before the caller asked for it
        self._line = bytearray()
        self.ended = False

    async def _frame(self) -> tuple[int, bytes] | None:
        frame = await self.stream.read()
        if frame is None:
            self.ended = True
        return frame

    def _keep_stderr(self, data: bytes) -> None:
        room = MAX_KEPT_STDERR - len(self.stderr)
        if room > 0:
            self.stderr += data[:room]

    async def status_line(self, *, crlf: bool = False) -> str | None:
        """The next line of stdout (without its newline), None at the end of output.
        Bytes after the line stay for :meth:`chunk`."""
        while b"\n" not in self._line:
            frame = await self._frame()
            if frame is None:
                if self._line:
                    text = bytes(self._line).decode("utf-8", errors="replace")
                    self._line.clear()
                    raise StatusLineError(text)
                return None
            kind, data = frame
            if kind == STDERR and not self.stream.tty:
                if self.merge_stderr:
                    self._early.append(data)
                else:
                    self._keep_stderr(data)
                continue
            self._line += data
            if len(self._line) > MAX_STATUS_LINE and b"\n" not in self._line:
                raise StatusLineError(bytes(self._line[:200]).decode("utf-8", errors="replace"))
        line, _, rest = bytes(self._line).partition(b"\n")
        self._line.clear()
        if rest:
            self._line += rest
        if crlf and line.endswith(b"\r"):
            line = line[:-1]
        return line.decode("utf-8", errors="replace")

    def take_rest(self) -> None:
        """Hand out the bytes read past the last status line as data from now on."""
        if self._line:
            self._early.append(bytes(self._line))
            self._line.clear()

    async def chunk(self) -> bytes | None:
        """The next piece of data (stdout, plus stderr when merged), None at the end."""
        self.take_rest()
        if self._early:
            return self._early.popleft()
        while (frame := await self._frame()) is not None:
            kind, data = frame
            if kind == STDERR and not self.stream.tty and not self.merge_stderr:
                self._keep_stderr(data)
                continue
            return data
        return None

    async def drain(self) -> None:
        """Read to the end, keeping only stderr."""
        while await self.chunk() is not None:
            pass

    def close(self) -> None:
        self.stream.close()


async def start_script(
    engine: EngineBackend,
    info: ContainerInfo,
    argv: list[str],
    *,
    stdin: bool = False,
    tty: bool = False,
    env: dict[str, str] | None = None,
    merge_stderr: bool = False,
    agent: Agent | None = None,
) -> ScriptOutput:
    """Run ``argv`` in a running container of ours: through its resident ``agent`` when
    there is one (no TTY), else as a docker exec, whose refusals become the service's
    errors (gone: 404, not running: 409)."""
    if agent is not None and not tty and agent.alive:

        def fallback() -> Awaitable[ExecStream]:
            return open_exec(engine, info, argv, stdin=stdin, env=env)

        return ScriptOutput(agent.open(argv, env, fallback), merge_stderr=merge_stderr)
    stream = await open_exec(engine, info, argv, stdin=stdin, tty=tty, env=env)
    return ScriptOutput(stream, merge_stderr=merge_stderr)


async def open_exec(
    engine: EngineBackend,
    info: ContainerInfo,
    argv: list[str],
    *,
    stdin: bool = False,
    tty: bool = False,
    env: dict[str, str] | None = None,
) -> ExecStream:
    """Create and start a docker exec; Docker's refusals become the service's errors."""
    try:
        exec_id = await engine.exec_create(info.docker_id, argv, stdin=stdin, tty=tty, env=env)
        return await engine.exec_start(exec_id, tty=tty)
    except BackendNotFound as err:
        raise ContainerNotFound(info.id) from err
    except (BackendConflict, BackendRefused, ExecStartError) as err:
        status = getattr(err, "status", 409)  # a BackendConflict is the engine's 409
        message = str(getattr(err, "message", "") or err)
        if status == 404 or _being_removed(message):
            raise ContainerNotFound(info.id) from err
        # Docker answers 500 "Container ... is not running: Exited (143)..." to a start
        # racing a stop or restart (the container may run again by the time we ask).
        if status == 409 or "is not running" in message or "is restarting" in message:
            raise ContainerNotRunning(info.id, "stopped") from err
        lost = await lost_container(engine, info, wait=0)
        if lost is not None:
            raise lost from err
        raise

def _being_removed(message: str) -> bool:
    """Docker's answer (500 or 409) for a container a concurrent delete is removing."""
    return "removal in progress" in message.lower() or "marked for removal" in message.lower()


async def lost_container(
    engine: EngineBackend, info: ContainerInfo, *, wait: float = 1.0
) -> ContainerManagerError | None:
    """Why an exec ended without its answer when its container is the reason: removed or
    being removed (ContainerNotFound), stopped (ContainerNotRunning); None while it runs.
    A container being killed still reads as running for a moment: it is asked again for
    up to ``wait`` seconds (only on this failure path)."""

    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            attrs = await engine.inspect(info.docker_id)
        except BackendConflict:  # being removed
            return ContainerNotFound(info.id)
        current = None if attrs is None else attrs.get("State") or {}
        if current is None or current.get("Dead") or current.get("Status") == "removing":
            return ContainerNotFound(info.id)
        if not current.get("Running") or current.get("Restarting"):
            return ContainerNotRunning(info.id, current.get("Status") or "stopped")
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(0.05)


async def kill_group(
    engine: EngineBackend, info: ContainerInfo, signal: str, group: str, agent: Agent | None
) -> None:
    """Send ``signal`` to a process group and its session (fs_scripts.KILL_GROUP), through
    the container's agent when it has one (no docker exec to wait for), else an exec.
    A container that is gone or stopped has nothing left to kill."""
    argv = ["sh", "-c", KILL_GROUP, "sh", signal, group]
    try:
        if agent is not None and agent.alive:
            out = await start_script(engine, info, argv, agent=agent)
            try:
                await out.drain()
            finally:
                out.close()
            return
        await engine.exec_run(info.docker_id, argv)
    except Exception:  # noqa: BLE001 - gone or stopped meanwhile: so are its processes
        pass
