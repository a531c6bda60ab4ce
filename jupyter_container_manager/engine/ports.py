"""Listening TCP ports inside a container, read from ``/proc/net/tcp`` and ``tcp6``.

``listening_ports`` answers once; ``PortWatcher`` keeps one exec per container that prints
the listening sockets whenever they change (a constant script, polling every
``interval`` seconds), and reports the ports that opened and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable

from ..core.models import ContainerInfo
from ..tasks import TaskOwner
from .backend import EngineBackend
from .containers import KEEP_ALIVE
from .docker_backend import STDERR
from .pollers import PollingExec

PROC_FILES = ["/proc/net/tcp", "/proc/net/tcp6"]
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's ``st`` column

# Prints the listening lines of /proc/net/tcp{,6} each time they change, each reading
# ended by a NUL. "$1" is the interval. No caller text is part of the script.
WATCH_SCRIPT = r"""
prev=x
while :; do
  cur=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep ' 0A ')
  if [ "$cur" != "$prev" ]; then printf '%s\n\0' "$cur"; prev=$cur; fi
  sleep "$1" || exit 0
done
"""

PortsChanged = Callable[[set[int], set[int]], Awaitable[None] | None]
WatcherEnded = Callable[[], Awaitable[None] | None]


def parse_listeners(text: str) -> dict[int, frozenset[str]]:
    """Port -> inodes of its listening sockets, from ``/proc/net/tcp``-style text (pure).
    A server that restarts listens on a new socket: same port, another inode."""
    found: dict[int, set[str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[3] != LISTEN or ":" not in parts[1]:
            continue
        try:
            port = int(parts[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
        if 0 < port < 65536:
            found.setdefault(port, set()).add(parts[9] if len(parts) > 9 else "")
    return {port: frozenset(inodes) for port, inodes in found.items()}


def parse_listening(text: str) -> set[int]:
    """The local ports in state LISTEN of ``/proc/net/tcp``-style text (pure)."""
    return set(parse_listeners(text))


def port_changes(before: dict[int, frozenset[str]], now: dict[int, frozenset[str]]
                 ) -> tuple[set[int], set[int]]:
    """(opened, closed) between two readings (pure); a port whose sockets were all
    replaced (a restart between the two) is in both."""
    restarted = {port for port in set(before) & set(now)
                 if before[port] and now[port] and not before[port] & now[port]}
    return set(now) - set(before) | restarted, set(before) - set(now) | restarted


def host_listening_ports(info: ContainerInfo, proc: str = "/proc") -> set[int] | None:
    """The listening ports of the container, read from the host (see host_listeners)."""
    found = host_listeners(info, proc)
    return None if found is None else set(found)


def host_listeners(info: ContainerInfo, proc: str = "/proc") -> dict[int, frozenset[str]] | None:
    """Read the tables from the engine's host, without an exec, when this server runs on
    that host: ``/proc/<pid>/net`` of the container's init is its network namespace. The
    process must be our container's init (docker-init running KEEP_ALIVE), else None
    (another host, another pid namespace, or no permission): ask inside instead."""
    net = host_net(info, proc)
    if net is None:
        return None
    if tcp_in_use(net) == 0:
        return {}  # no TCP socket at all: none listens
    return read_tables(net)


async def host_listeners_soon(info: ContainerInfo) -> dict[int, frozenset[str]] | None:
    """As :func:`host_listeners`, the event loop never held up: the checks (microseconds)
    here, the tables, when a TCP socket is in use, in a worker thread."""
    net = host_net(info)
    if net is None:
        return None
    if tcp_in_use(net) == 0:
        return {}
    return await asyncio.to_thread(read_tables, net)


def host_net(info: ContainerInfo, proc: str = "/proc") -> str | None:
    """``/proc/<pid>/net`` of the container's init, when it is ours to read; else None."""
    if info.pid <= 0:
        return None
    try:
        with open(f"{proc}/{info.pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
        if [part.decode() for part in argv[-3:-1]] != KEEP_ALIVE:
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return f"{proc}/{info.pid}/net"


def read_tables(net: str) -> dict[int, frozenset[str]] | None:
    """The listening sockets of ``net``'s ``tcp`` and ``tcp6`` (milliseconds: the kernel
    walks every TCP socket of the host to print a namespace's)."""
    text = []
    try:
        for name in ("tcp", "tcp6"):
            with contextlib.suppress(FileNotFoundError), \
                    open(f"{net}/{name}", encoding="ascii", errors="replace") as f:
                text.append(f.read())
    except OSError:
        return None
    return parse_listeners("".join(text))


def tcp_in_use(net: str) -> int | None:
    """TCP sockets (IPv4 and IPv6) in use in a network namespace, from its ``sockstat``
    and ``sockstat6`` under ``net`` (``/proc/<pid>/net``), or None when they do not say.
    Those counts are the namespace's own and cost microseconds to read, where its tables
    cost milliseconds (the kernel walks every TCP socket of the host to print them)."""
    total = 0
    for name, prefix in (("sockstat", "TCP:"), ("sockstat6", "TCP6:")):
        try:
            with open(f"{net}/{name}", encoding="ascii", errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            if name == "sockstat6":
                continue  # no IPv6 in this kernel
            return None
        except OSError:
            return None
        for line in lines:
            parts = line.split()
            if parts[:1] == [prefix] and "inuse" in parts[:-1]:
                value = parts[parts.index("inuse") + 1]
                if not value.isdigit():
                    return None
                total += int(value)
                break
        else:
            return None
    return total


# Reading a network namespace's /proc tables walks the kernel's whole TCP hash table
# (milliseconds on a large host): a listing of many containers reads each at most once a
# second, and those it reads in one worker thread together: the event loop waits once per
# listing, not once per container (each wait is a handover of the GIL, which takes long
# while other threads are busy, as during many creates).
HOST_READ_TTL = 1.0
_host_reads: dict[int, tuple[float, set[int] | None]] = {}
# Reads asked for and not begun, per event loop: pid -> (container, its answer).
_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_readers: set[asyncio.Task] = set()


async def _host_listening_ports_cached(info: ContainerInfo) -> set[int] | None:
    cached = _host_reads.get(info.pid)
    if cached is not None and time.monotonic() - cached[0] < HOST_READ_TTL:
        return cached[1]
    loop = asyncio.get_running_loop()
    batch = _batches.setdefault(loop, {})
    if info.pid not in batch:
        if not batch:  # the first of this round: read once the others have asked too
            loop.call_soon(_read_batch, loop)
        batch[info.pid] = (info, loop.create_future())
    return await asyncio.shield(batch[info.pid][1])


def _read_batch(loop: asyncio.AbstractEventLoop) -> None:
    batch = _batches.pop(loop, {})

    async def read() -> None:
        try:
            found = await asyncio.to_thread(
                lambda: {pid: host_listening_ports(info) for pid, (info, _) in batch.items()})
        except Exception as err:  # noqa: BLE001 - each waiter gets it
            for _, answer in batch.values():
                if not answer.done():
                    answer.set_exception(err)
            return
        if len(_host_reads) > 1024:
            _host_reads.clear()
        now = time.monotonic()
        for pid, (_, answer) in batch.items():
            _host_reads[pid] = (now, found[pid])
            if not answer.done():
                answer.set_result(found[pid])

    # Its waiters await it (through their answers); kept here until it ends.
    reader = loop.create_task(read())
    _readers.add(reader)
    reader.add_done_callback(_readers.discard)


async def listening_ports(engine: EngineBackend, info: ContainerInfo) -> list[int]:
    """The ports something in the container listens on now ([] if it cannot tell): from
    the host's /proc when possible (microseconds), else one exec that prints the tables
    (its exit code is not needed, so it is not asked)."""
    if info.status != "running":
        return []
    found = await _host_listening_ports_cached(info)
    if found is not None:
        return sorted(found)
    output = bytearray()
    try:
        stream = await engine.exec_start(
            await engine.exec_create(info.docker_id, ["cat", *PROC_FILES]))
        try:
            while (frame := await stream.read()) is not None and len(output) < 4 * 1024**2:
                if frame[0] != STDERR:
                    output += frame[1]
        finally:
            stream.close()
    except Exception:  # noqa: BLE001 - gone or stopped meanwhile: nothing listens
        return []
    return sorted(parse_listening(output.decode("ascii", errors="replace")))


class PortWatcher:
    """Reports ports opening and closing in one container, within ``interval`` seconds.

    On the engine's host it reads the container's tables from the host's /proc (nothing
    runs in the container); elsewhere one exec polls inside. ``on_change(opened, closed)``
    is called for every change (the first reading's ports count as opened). ``on_end()``
    is called when watching ends on its own: the container stopped or went away (its init
    process is gone), or someone killed the polling script.
    """

    def __init__(self, engine: EngineBackend, info: ContainerInfo, interval: float,
                 on_change: PortsChanged, on_end: WatcherEnded, *, tasks: TaskOwner):
        self.engine = engine
        self.tasks = tasks
        self.info = info
        self.interval = interval
        self.ports: set[int] = set()
        self.listeners: dict[int, frozenset[str]] = {}
        self.has_read = False  # True once ``ports`` holds a reading
        self._on_change = on_change
        self._on_end = on_end
        self._exec: PollingExec | None = None
        self._task: asyncio.Task | None = None

    @property
    def in_container(self) -> bool:
        """True when the polling runs as an exec in the container."""
        return self._exec is not None

    def start(self) -> None:
        if host_listening_ports(self.info) is not None:
            self._task = self.tasks.spawn(self._poll_host(), f"watch the ports of {self.info.id}")
            return
        self._exec = PollingExec(self.engine, self.info.docker_id, WATCH_SCRIPT,
                                 [str(self.interval)], name="jcm-ports",
                                 on_record=self._reading, on_end=self._on_end,
                                 tasks=self.tasks)
        self._exec.start()

    def stop(self) -> None:
        if self._exec is not None:
            self._exec.stop()
        if self._task is not None:
            self._task.cancel()

    async def _poll_host(self) -> None:
        while (found := await host_listeners_soon(self.info)) is not None:
            await self._apply(found)
            await asyncio.sleep(self.interval)
        result = self._on_end()
        if asyncio.iscoroutine(result):
            await result

    async def _reading(self, record: bytes) -> None:
        await self._apply(parse_listeners(record.decode("ascii", "replace")))

    async def _apply(self, listeners: dict[int, frozenset[str]]) -> None:
        opened, closed = port_changes(self.listeners, listeners)
        self.listeners = listeners
        self.ports = set(listeners)
        self.has_read = True
        if opened or closed:
            result = self._on_change(opened, closed)
            if asyncio.iscoroutine(result):
                await result
