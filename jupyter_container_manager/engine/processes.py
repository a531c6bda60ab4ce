"""Processes in a container: spawn argv, stream output, write stdin, kill the whole group.

Docker has no API to kill an exec'd process, so every process starts through one constant
wrapper script (``sh -c WRAPPER sh <workdir> <cwd> <cols> <rows> <command> <args>...``;
a cwd a symlink leads out of the workdir is refused with EACCES; the size,
empty without a terminal, is set on the tty before the command starts, so it never sees
another). Docker's exec already
makes the exec'd process a session and process-group leader (runc calls setsid; checked
here through /proc/$$/stat, with ``setsid`` as the fallback for a runtime that does not),
so the wrapper only changes into the cwd, prints ``JCM <pid>`` as its first line of stdout
and ``exec``s the command, which keeps that pid. Everything the command starts inherits
the group, and ``kill -s SIG -- -<pid>`` in another exec ends them all.

Output is pull-based: nothing is read from the engine until the caller asks, so a slow
reader stops the process at its pipe and server memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

from ..core.errors import FileSystemError, Unprocessable
from ..core.models import ContainerInfo
from ..core.paths import resolve
from ..core.process_io import TIMEOUT_EXIT_CODE, check_argv, check_env, follow, signal_name
from .agent import Agents
from .backend import EngineBackend
from .exec_output import ScriptOutput, StatusLineError, kill_group, start_script

WRAPPER = r"""
w=$(cd -- "$1" 2>/dev/null && pwd -P)
if ! cd -- "$2" 2>/dev/null; then
  if [ -e "$2" ]; then printf 'JCM ENOTDIR\n'; else printf 'JCM ENOENT\n'; fi
  exit 127
fi
case "$(pwd -P)/" in "${w%/}/"*) ;; *) printf 'JCM EACCES\n'; exit 126;; esac
[ -n "$3" ] && stty cols "$3" rows "$4" 2>/dev/null
shift 4
g=
read -r _ _ _ _ g _ < /proc/$$/stat 2>/dev/null
printf 'JCM %s\n' "$$"
if ! command -v "$1" >/dev/null 2>&1; then
  printf '%s: command not found\n' "$1" >&2
  exit 127
fi
[ "$g" = "$$" ] && exec "$@"
exec setsid "$@"
"""

class Process:
    """One running process (and its group) in a container."""

    def __init__(
        self,
        owner: ContainerProcesses,
        pid: int,
        info: ContainerInfo,
        out: ScriptOutput,
        group: int,
        argv: list[str],
        terminal: bool,
    ):
        self.pid = pid  # ours: stable, shown to callers
        self.container_id = info.id
        self.argv = argv
        self.terminal = terminal
        self._owner = owner
        self._info = info
        self._out = out
        self._group = group  # the process-group id inside the container
        self._reading = 0  # reads in progress (one at a time)
        self._ended = asyncio.Event()
        self.exit_code: int | None = None

    # --- output -------------------------------------------------------------------

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self._ended.is_set():
            raise StopAsyncIteration
        self._reading += 1
        try:
            chunk = await self._out.chunk()
        finally:
            self._reading -= 1
        if chunk is None:
            await self._finish()
            raise StopAsyncIteration
        return chunk

    async def _finish(self) -> None:
        if self._ended.is_set():
            return
        try:
            self.exit_code = await self._out.stream.exit_code()
        finally:
            self._out.close()
            self._owner._forget(self)
            self._ended.set()

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    async def wait(self) -> int:
        """The exit code once the output has ended. Output nobody is reading is read and
        dropped here, so the process cannot block on a full pipe."""
        while not self._ended.is_set():
            if self._reading:  # someone else reads: let them, and look again soon
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._ended.wait(), 0.1)
                continue
            with contextlib.suppress(StopAsyncIteration):
                await self.__anext__()
        return self.exit_code if self.exit_code is not None else -1

    # --- input and control ----------------------------------------------------------

    async def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        await self._out.stream.write(data)

    def close_stdin(self) -> None:
        self._out.stream.close_stdin()

    async def kill(self, signal: str | int = "KILL") -> None:
        """Send ``signal`` to the whole process group (the command and all it started)."""
        name = signal_name(signal)
        if not self.running:
            return
        owner = self._owner
        agent = await owner.agents.get(self._info.docker_id) if owner.agents else None
        await kill_group(owner.engine, self._info, name, str(self._group), agent)

    async def resize(self, cols: int, rows: int) -> None:
        if self.terminal and self.running:
            await self._out.stream.resize(rows=rows, cols=cols)

    def close(self) -> None:
        """Drop the connection (the process goes on until it writes to a closed pipe)."""
        self._out.close()


class ContainerProcesses:
    """Spawns processes and knows the running ones, per container."""

    def __init__(self, engine: EngineBackend, agents: Agents | None = None):
        self.engine = engine
        self.agents = agents  # the containers' resident agents (engine/agent.py)
        self._pids = itertools.count(1)
        self._running: dict[str, dict[int, Process]] = {}

    def get(self, container_id: str, pid: int) -> Process | None:
        return self._running.get(container_id, {}).get(pid)

    def list(self, container_id: str) -> list[Process]:
        return list(self._running.get(container_id, {}).values())

    async def spawn(
        self,
        info: ContainerInfo,
        command: str,
        args: list[str] | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        terminal: dict | None = None,
    ) -> Process:
        """Start ``command args...`` (argv, no shell) in ``cwd`` (workdir-relative). A
        missing cwd raises ENOENT; an unknown command runs and exits 127."""
        argv = check_argv(command, args)
        env = check_env(env)
        directory = resolve(info.workdir, cwd or "", "chdir")
        tty = terminal is not None
        size = ["", ""]
        if tty:  # a terminal of unknown size is 80x24, as a terminal emulator's first
            size = [str(int(terminal.get("cols") or 80)), str(int(terminal.get("rows") or 24))]
        agent = None
        if self.agents is not None and not tty:  # a terminal needs a docker exec's TTY
            agent = await self.agents.get(info.docker_id)
        out = await start_script(
            self.engine,
            info,
            ["sh", "-c", WRAPPER, "sh", info.workdir, directory, *size, *argv],
            stdin=True,
            tty=tty,
            env=env or None,
            merge_stderr=True,
            agent=agent,
        )
        try:
            line = await out.status_line(crlf=tty)
        except StatusLineError as err:
            out.close()
            raise Unprocessable(f"The process could not start: {err}") from err
        if line is None or not line.startswith("JCM "):
            out.close()
            raise Unprocessable(f"The process could not start: {line or 'no answer'}")
        value = line[4:]
        if not value.isdigit():
            out.close()
            raise FileSystemError(value if value.startswith("E") else "EIO", "chdir", directory)
        process = Process(self, next(self._pids), info, out, int(value), argv, tty)
        self._running.setdefault(info.id, {})[process.pid] = process
        return process

    async def run(
        self,
        info: ContainerInfo,
        command: str,
        args: list[str] | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        output_limit: int | None = None,
        started: Callable[[Process], object] | None = None,
    ) -> dict:
        """Run to the end: ``{exitCode, output}`` (stdout and stderr merged in arrival
        order), ``truncated: true`` past ``output_limit`` bytes (the rest is read and
        dropped), and past ``timeout`` seconds the group is killed: ``exitCode`` 124,
        ``timedOut: true``. ``started(process)`` is called once it runs (to kill it
        when the caller goes away)."""
        process = await self.spawn(info, command, args, cwd=cwd, env=env)
        if started is not None:
            started(process)
        process.close_stdin()
        collected = bytearray()
        truncated = False

        def keep(chunk: bytes) -> None:
            nonlocal truncated
            if output_limit is not None and len(collected) + len(chunk) > output_limit:
                chunk = chunk[: max(0, output_limit - len(collected))]
                truncated = True
            collected.extend(chunk)

        timed_out = await follow(process, keep, timeout)
        result: dict = {
            "exitCode": TIMEOUT_EXIT_CODE if timed_out else await process.wait(),
            "output": collected.decode("utf-8", errors="replace"),
        }
        if timed_out:
            result["timedOut"] = True
        if truncated:
            result["truncated"] = True
        return result

    async def kill_all(self, container_id: str, signal: str = "KILL") -> None:
        """Kill every process this server started in the container."""
        processes = self.list(container_id)
        await asyncio.gather(*(p.kill(signal) for p in processes), return_exceptions=True)

    def forget_container(self, container_id: str) -> None:
        """The container is gone: drop its processes (a removal hook)."""
        for process in self._running.pop(container_id, {}).values():
            process.close()
            process._ended.set()

    def _forget(self, process: Process) -> None:
        processes = self._running.get(process.container_id)
        if processes is not None:
            processes.pop(process.pid, None)
            if not processes:
                self._running.pop(process.container_id, None)
