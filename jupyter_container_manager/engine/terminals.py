"""Terminals of a container: the line terminal and PTY sessions that outlive sockets.

The **line terminal** runs one command line at a time in the container's remembered cwd.
The cwd is kept INSIDE the container (``/tmp/.jcm/cwd``), so it survives reconnects and a
server restart. The line is the user's own shell line: a constant script gets it as an
argument and runs it with ``eval`` in that cwd, so ``cd`` moves the remembered cwd exactly
as in a shell (``cd x && make`` too), and a failing ``cd`` does not.

A **PTY session** is a shell on a real tty (docker exec with a tty). It keeps the sockets
attached to it and a replay buffer bounded in bytes; a socket that reopens its id is
re-attached and gets the replay. It ends when its shell exits or its container goes.

A client (a socket) is anything with ``push(event, data, droppable=False) -> bool``,
which never blocks: a droppable push may be refused when that client reads too slowly.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable

from ..core.errors import BadRequest, Conflict
from ..core.input_queue import InputQueue
from ..core.models import ContainerInfo
from .backend import EngineBackend

log = logging.getLogger(__name__)

STATE_DIR = "/tmp/.jcm"
CWD_FILE = f"{STATE_DIR}/cwd"
PTY_PID_DIR = f"{STATE_DIR}/pty"

# "$1": workdir, "$2": the user's command line. Prints its pid and a NUL first; then the
# line's output (stderr merged into stdout in arrival order); at exit, a NUL and the cwd,
# which it also stores in /tmp/.jcm/cwd. The exit status is the line's.
LINE_SCRIPT = r"""
printf '%s\0' "$$"
cwd=$(cat /tmp/.jcm/cwd 2>/dev/null)
cd -- "${cwd:-$1}" 2>/dev/null || cd -- "$1" 2>/dev/null || cd /
exec 2>&1
trap 'jcm_cwd=$(pwd)
mkdir -p /tmp/.jcm 2>/dev/null
printf "%s" "$jcm_cwd" > /tmp/.jcm/cwd.$$ 2>/dev/null &&
  mv -f /tmp/.jcm/cwd.$$ /tmp/.jcm/cwd 2>/dev/null
printf "\0%s" "$jcm_cwd"' EXIT
eval "$2"
"""

# "$1": terminal id, "$2" cols, "$3" rows, "$4" workdir. Records the shell's pid (to end
# it later), applies the size, starts in the remembered cwd, runs bash (else sh).
PTY_SCRIPT = r"""
mkdir -p /tmp/.jcm/pty 2>/dev/null && printf '%s' "$$" > "/tmp/.jcm/pty/$1" 2>/dev/null
stty cols "$2" rows "$3" 2>/dev/null
cwd=$(cat /tmp/.jcm/cwd 2>/dev/null)
cd -- "${cwd:-$4}" 2>/dev/null || cd -- "$4" 2>/dev/null || cd /
if command -v bash >/dev/null 2>&1; then exec bash -i; fi
exec sh -i
"""

# "$1": terminal id. Hangs up its shell (bash passes the hangup to its jobs), then kills.
PTY_KILL_SCRIPT = r"""
f="/tmp/.jcm/pty/$1"
[ -f "$f" ] || exit 0
pid=$(cat "$f"); rm -f "$f"
case "$pid" in ''|*[!0-9]*) exit 0;; esac
case "$(cat "/proc/$pid/comm" 2>/dev/null)" in bash|sh|dash|ash) ;; *) exit 0;; esac
kill -HUP "$pid" 2>/dev/null; sleep 0.2; kill -KILL "$pid" 2>/dev/null
exit 0
"""

# Ends shells that no live session owns (left by a server that stopped).
PTY_ORPHANS_SCRIPT = r"""
for f in /tmp/.jcm/pty/*; do
  [ -f "$f" ] || continue
  pid=$(cat "$f"); rm -f "$f"
  case "$pid" in ''|*[!0-9]*) continue;; esac
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in bash|sh|dash|ash) ;; *) continue;; esac
  kill -HUP "$pid" 2>/dev/null
done
exit 0
"""


def _tail_after_nul(output: bytes) -> tuple[bytes, str | None]:
    """Split the line script's output into (user output, cwd); cwd None when the script
    was killed before its exit trap printed it. (pure)"""
    head, sep, tail = output.rpartition(b"\0")
    if not sep or not tail.startswith(b"/"):
        return output, None
    return head, tail.decode("utf-8", "replace")


class LineTerminal:
    """The seed's line terminal, one per server: each line a short exec."""

    def __init__(self, engine: EngineBackend, *, timeout: float, output_limit: int):
        self.engine = engine
        self.timeout = timeout
        self.output_limit = output_limit
        self._locks: dict[str, asyncio.Lock] = {}

    async def cwd(self, info: ContainerInfo) -> str:
        """The container's remembered cwd (its workdir until a ``cd``)."""
        result = await self.engine.exec_run(info.docker_id, ["cat", CWD_FILE], limit=8192)
        text = result.stdout.decode("utf-8", "replace")
        return text if result.exit_code == 0 and text.startswith("/") else info.workdir

    async def run(self, info: ContainerInfo, line: str) -> dict:
        """Run one line; ``{output, exitCode, cwd}``. Lines of one container run one at a
        time (each sees the cwd the previous one left)."""
        if "\0" in line:
            raise BadRequest("'input' must not contain NUL characters")
        lock = self._locks.setdefault(info.id, asyncio.Lock())
        async with lock:
            return await self._run(info, line)

    async def _run(self, info: ContainerInfo, line: str) -> dict:
        argv = ["sh", "-c", LINE_SCRIPT, "jcm-terminal", info.workdir, line]
        exec_id = await self.engine.exec_create(info.docker_id, argv)
        stream = await self.engine.exec_start(exec_id)
        output = bytearray()
        pid: int | None = None
        truncated = False

        async def collect():
            nonlocal pid, truncated
            while (frame := await stream.read()) is not None:
                data = frame[1]
                if pid is None:
                    output.extend(data)
                    head, sep, rest = bytes(output).partition(b"\0")
                    if not sep:
                        continue
                    pid = int(head) if head.isdigit() else 0
                    output[:] = rest
                    continue
                room = self.output_limit - len(output)
                if len(data) > room:
                    data, truncated = data[: max(room, 0)], True
                output.extend(data)

        timed_out = False
        try:
            await asyncio.wait_for(collect(), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            if pid:
                with contextlib.suppress(Exception):
                    await self.engine.exec_run(info.docker_id, ["kill", "-KILL", "--", f"-{pid}"])
        finally:
            stream.close()
        text, cwd = _tail_after_nul(bytes(output))
        exit_code = 124 if timed_out else -1
        try:
            if cwd is None:
                cwd = await self.cwd(info)
            if not timed_out:
                exit_code = await stream.exit_code()
        except Exception:  # noqa: BLE001 - the container went away during the line
            cwd = cwd or info.workdir
        answer = {"output": text.decode("utf-8", "replace"), "exitCode": exit_code, "cwd": cwd}
        if truncated:
            answer["truncated"] = True
        if timed_out:
            answer["timedOut"] = True
        return answer

    def forget(self, container_id: str) -> None:
        self._locks.pop(container_id, None)


class ReplayBuffer:
    """The most recent terminal output, at most ``limit`` bytes (UTF-8). (pure)"""

    def __init__(self, limit: int):
        self.limit = limit
        self._chunks: deque[tuple[str, int]] = deque()
        self.size = 0

    def append(self, text: str) -> None:
        size = len(text.encode("utf-8"))
        self._chunks.append((text, size))
        self.size += size
        while self.size > self.limit and self._chunks:
            oldest, oldest_size = self._chunks[0]
            excess = self.size - self.limit
            if oldest_size <= excess:
                self._chunks.popleft()
                self.size -= oldest_size
                continue
            kept = oldest.encode("utf-8")[excess:].decode("utf-8", "ignore")
            kept_size = len(kept.encode("utf-8"))
            self._chunks[0] = (kept, kept_size)
            self.size -= oldest_size - kept_size

    def text(self) -> str:
        return "".join(text for text, _ in self._chunks)


class PtySession:
    """One shell on a tty in a container, outliving the sockets that watch it."""

    def __init__(self, engine: EngineBackend, info: ContainerInfo, *, cols: int, rows: int,
                 replay_limit: int, on_exit: Callable[[PtySession], object]):
        self.engine = engine
        self.info = info
        self.id = uuid.uuid4().hex
        self.cols, self.rows = cols, rows
        self.replay = ReplayBuffer(replay_limit)
        self.exit_code: int | None = None
        self._clients: dict[object, int] = {}  # client -> bytes it missed (dropped)
        self._on_exit = on_exit
        self._stream = None
        self._input = InputQueue(f"Terminal {self.id}")
        self._tasks: list[asyncio.Task] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    async def start(self) -> None:
        argv = ["sh", "-c", PTY_SCRIPT, "jcm-pty", self.id, str(self.cols), str(self.rows),
                self.info.workdir]
        env = {"TERM": "xterm-256color", "COLUMNS": str(self.cols), "LINES": str(self.rows)}
        exec_id = await self.engine.exec_create(self.info.docker_id, argv, stdin=True, tty=True,
                                                env=env)
        self._stream = await self.engine.exec_start(exec_id, tty=True)
        self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._write())]
        with contextlib.suppress(Exception):  # the script applied the size already
            await self._stream.resize(rows=self.rows, cols=self.cols)

    @property
    def alive(self) -> bool:
        return self.exit_code is None

    # --- clients -------------------------------------------------------------------

    def attach(self, client) -> str:
        """Attach a client; answers the replay of recent output."""
        self._clients.setdefault(client, 0)
        return self.replay.text()

    def detach(self, client) -> None:
        self._clients.pop(client, None)

    @property
    def clients(self) -> list:
        return list(self._clients)

    # --- the shell -----------------------------------------------------------------

    def write(self, data: str) -> None:
        """Queue keystrokes for the shell, in order (never waits)."""
        if not self.alive:
            raise Conflict(f"Terminal {self.id} has ended", code="ETERMINALENDED")
        self._input.put(data)

    async def resize(self, cols: int, rows: int) -> None:
        """Resize the tty, after the keystrokes queued before it have been written."""
        await self._input.written()
        self.cols, self.rows = cols, rows
        if self.alive and self._stream is not None:
            await self._stream.resize(rows=rows, cols=cols)

    async def kill(self) -> None:
        """End the shell (and its jobs), after the keystrokes queued before it have been
        written; pty-exit follows when its output ends."""
        await self._input.written()
        with contextlib.suppress(Exception):
            await self.engine.exec_run(
                self.info.docker_id, ["sh", "-c", PTY_KILL_SCRIPT, "jcm-pty-kill", self.id]
            )

    def close(self) -> None:
        """Stop serving the session (its container is gone or the server stops)."""
        if self._stream is not None:
            self._stream.close()
        for task in self._tasks:
            task.cancel()
        if self.exit_code is None:
            self.exit_code = -1

    async def _write(self) -> None:
        await self._input.feed(self._stream.write)

    async def _read(self) -> None:
        try:
            while (frame := await self._stream.read()) is not None:
                text = self._decoder.decode(frame[1])
                if text:
                    self._publish(text)
            tail = self._decoder.decode(b"", final=True)
            if tail:
                self._publish(tail)
            code = await self._stream.exit_code()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the engine went away
            log.debug("pty %s ended: %r", self.id, err)
            code = -1
        self.exit_code = code
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for client in list(self._clients):
            client.push("pty-exit", {"terminalId": self.id, "exitCode": code})
        self._on_exit(self)
        with contextlib.suppress(Exception):  # its pid must not be taken for an orphan's
            await self.engine.exec_run(
                self.info.docker_id, ["rm", "-f", f"{PTY_PID_DIR}/{self.id}"]
            )

    def _publish(self, text: str) -> None:
        self.replay.append(text)
        size = len(text.encode("utf-8")) if self._clients else 0
        for client, missed in list(self._clients.items()):
            data = {"terminalId": self.id, "data": text}
            if missed:
                data["dropped"] = missed
            if client.push("pty-output", data, droppable=True):
                self._clients[client] = 0
            elif client in self._clients:
                self._clients[client] = missed + size


async def end_orphan_shells(engine: EngineBackend, info: ContainerInfo) -> None:
    """End pty shells in the container that no session of this server owns."""
    with contextlib.suppress(Exception):
        await engine.exec_run(info.docker_id, ["sh", "-c", PTY_ORPHANS_SCRIPT, "jcm-pty-orphans"])
