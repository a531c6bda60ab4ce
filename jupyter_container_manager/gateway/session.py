"""One ``/container`` socket: its joined container, its processes, and the ONE table
``{event: coroutine}`` that serves its requests.

Each frame is validated against ``protocol`` first; a bad frame gets an ``error`` and the
socket lives on. Requests run concurrently (at most ``ws_max_inflight`` at once, queued
ones included; past that the socket stops reading, which pushes back on the client),
except that requests about one target (one terminal id, one pid) apply in the order they
were sent: each target has a FIFO, served by one task, while other targets and the rest
go on meanwhile. So ``pty-resize`` then ``pty-input`` reaches the shell in that order,
and a kill follows the input sent before it. A request with an ``id`` gets exactly one
reply with that id.

Every frame out, replies and pushes alike, is checked against the same table
(``protocol.server_frame``; the rooms and terminals push through ``push``). A socket that
speaks version 2 gets process and terminal output as binary frames
(``protocol.binary_frame``): a process's bytes pass through undecoded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ..core.errors import BadRequest, Conflict, ContainerManagerError, ContainerNotRunning, TooLarge
from ..manager import ContainerManager
from . import protocol
from .outbox import Outbox, OutboxClosed
from .process_relay import ProcessRelay
from .protocol import FrameError, Request
from .rooms import ContainerRooms, Room, require_pty

log = logging.getLogger(__name__)

INTERNAL = "EINTERNAL"
NOT_JOINED = "ENOTJOINED"


@dataclass
class Reply:
    """What an event coroutine answers: the reply's data, and what to do right after the
    reply is queued (attach to a terminal, start streaming a process)."""

    data: dict
    then: Callable[[], None] | None = None


class SocketSession:
    def __init__(self, manager: ContainerManager, rooms: ContainerRooms, outbox: Outbox):
        self.manager = manager
        self.rooms = rooms
        self.outbox = outbox
        self.settings = manager
        self.container_id: str | None = None
        self.wants_metrics = False  # metrics pushes of the joined container (rooms.py)
        rooms.sockets.add(self)
        self.processes: dict[int, ProcessRelay] = {}
        self._slots = asyncio.Semaphore(self.settings.ws_max_inflight)
        self._tasks: set[asyncio.Task] = set()
        self._chains: dict[Hashable, deque[Request]] = {}  # per target, in arrival order
        self._joining = asyncio.Lock()  # operations sent right after a join wait for it
        self.closed = False
        self.version = protocol.BASE_VERSION  # the handler sets the negotiated one
        self.table = {
            "join-container": self.join_container,
            "fs-operation": self.fs_operation,
            "process-operation": self.process_operation,
            "terminal-input": self.terminal_input,
            "pty-open": self.pty_open,
            "pty-input": self.pty_input,
            "pty-resize": self.pty_resize,
            "pty-close": self.pty_close,
            "metrics-subscribe": self.metrics_subscribe,
        }

    # --- frames in -------------------------------------------------------------------

    async def receive(self, text: str | bytes) -> None:
        """Take one frame: it is queued (waiting only for a free slot), then served."""
        try:
            request = protocol.parse_frame(text)
        except FrameError as err:
            with contextlib.suppress(OutboxClosed):
                await self._send("error", {"message": err.message, "code": err.code},
                                 err.request_id)
            return
        await self._slots.acquire()
        if self.closed:
            self._slots.release()
            return
        target = _target(request)
        if target is None:
            self._start(self._serve_one(request))
            return
        chain = self._chains.get(target)
        if chain is None:  # idle target: a task serves its FIFO until it is empty
            chain = self._chains[target] = deque()
            self._start(self._serve_chain(target, chain))
        chain.append(request)

    def _start(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a socket request task failed", exc_info=task.exception())

    async def _serve_one(self, request: Request) -> None:
        try:
            await self._serve(request)
        finally:
            self._slots.release()

    async def _serve_chain(self, target: Hashable, chain: deque[Request]) -> None:
        """Serve one target's requests one after another, in arrival order."""
        try:
            while chain:
                try:
                    await self._serve(chain[0])
                finally:
                    chain.popleft()
                    self._slots.release()
        finally:
            if self._chains.get(target) is chain:
                del self._chains[target]

    async def _serve(self, request: Request) -> None:
        if self.container_id is not None:
            self.manager.touch(self.container_id)
        try:
            try:
                reply = await self.table[request.event](request.data)
            except ContainerManagerError as err:
                await self._send("error", {"message": err.message, "code": err.code},
                                 request.id)
                return
            except Exception:  # a bug: say so, keep the socket
                log.exception("%s failed", request.event)
                await self._send("error", {"message": f"{request.event} failed on the server; "
                                           "see the server log", "code": INTERNAL}, request.id)
                return
            event = protocol.reply_event(request.event)
            if request.id is not None or event != "ok":
                await self._send(event, reply.data, request.id)
            if reply.then is not None:
                reply.then()
        except OutboxClosed:
            for relay in list(self.processes.values()):  # spawned, but nobody to tell
                if not relay.started:
                    self.processes.pop(relay.pid, None)
                    await _quietly(relay.process.kill("KILL"))

    async def _send(self, event: str, data: dict, request_id=None) -> None:
        await self.outbox.put(protocol.server_frame(event, data, request_id))

    # --- pushes out (called by rooms and terminals) -----------------------------------

    def push(self, event: str, data: dict, droppable: bool = False) -> bool:
        if event == "pty-output" and self.version >= protocol.BINARY_VERSION:
            fields = {name: value for name, value in data.items() if name != "data"}
            frame = protocol.binary_frame(event, fields, data["data"].encode("utf-8"))
            return self.outbox.offer(frame, droppable=droppable, binary=True)
        return self.outbox.offer(protocol.server_frame(event, data), droppable=droppable)

    async def _send_output(self, pid: int, chunks: list[bytes]) -> None:
        """A process's output as it came, in one binary frame (version 2 on)."""
        await self.outbox.put(protocol.binary_frame("process-output", {"pid": pid}, chunks),
                              binary=True)

    # --- the joined container ------------------------------------------------------------

    async def _joined(self) -> None:
        if self._joining.locked():
            async with self._joining:
                pass

    async def _room(self) -> Room:
        await self._joined()
        if self.container_id is None:
            raise Conflict("Join a container first (join-container {containerId})",
                           code=NOT_JOINED)
        return await self.rooms.room(self.container_id)

    async def join_container(self, data: dict) -> Reply:
        async with self._joining:  # taken before the first await: frames after it wait
            if data.get("metrics") is not None:
                self.wants_metrics = data["metrics"]
            return await self._join(data["containerId"])

    async def _join(self, container_id: str) -> Reply:
        info = await self.manager.get_container(container_id)  # 404 before anything
        if self.container_id is not None and self.container_id != container_id:
            self.rooms.leave(self, self.container_id)
        self.container_id = container_id
        room = await self.rooms.join(self, info)
        cwd = info.workdir
        if room is not None:
            info = room.info
            with contextlib.suppress(ContainerManagerError):
                cwd = await self.rooms.line_terminal.cwd(info)
        return Reply({
            "containerId": info.id,
            "status": info.status,
            "cwd": cwd,
            "workdir": info.workdir,
            "terminals": self.rooms.live_terminals(container_id),
        })

    # --- files ---------------------------------------------------------------------------

    async def fs_operation(self, data: dict) -> Reply:
        room = await self._room()
        info, files, kind = room.info, self.manager, data["type"]
        path = data.get("path")
        result = None
        if kind == "readFile":
            reader = await files.stream_file(info, path)
            limit = self.settings.ws_max_file_size
            if reader.size > limit:
                reader.close()
                raise TooLarge(f"{path} has {reader.size} bytes; over the socket at most "
                               f"{limit} (c.ContainerManager.ws_max_file_size). Read it with "
                               "GET /webcontainer/{id}/fs/readFile/{path}.")
            contents = b"".join([chunk async for chunk in reader])
            result = _file_contents(contents, data.get("encoding"))
        elif kind == "writeFile":
            await files.write_file(info, path, _file_bytes(data["contents"], data.get("encoding")))
        elif kind == "readdir":
            result = await files.readdir(info, path, bool(data.get("withFileTypes")))
        elif kind == "mkdir":
            await files.mkdir(info, path, bool(data.get("recursive")))
        elif kind == "rm":
            await files.rm(info, path, bool(data.get("recursive")), bool(data.get("force")))
        elif kind == "rename":
            old = data.get("oldPath") if data.get("oldPath") is not None else path
            if old is None:
                raise BadRequest("fs-operation rename: 'path' (or 'oldPath') is required",
                                 code=protocol.BAD_DATA)
            await files.rename(info, old, data["newPath"])
        elif kind == "stat":
            result = await files.stat(info, path)
        elif kind == "watch":
            await room.watch(self, path, data.get("exclude"), data.get("include"))
        elif kind == "unwatch":
            room.unwatch(self, path)
        return Reply({"type": kind, "result": result})

    # --- processes -----------------------------------------------------------------------

    async def process_operation(self, data: dict) -> Reply:
        kind = data["type"]
        if kind == "spawn":
            return await self._spawn(data)
        relay = self.processes.get(data["pid"])
        if relay is None:
            raise Conflict(f"No running process {data['pid']} spawned by this socket",
                           code="ESRCH")
        if kind == "input":
            relay.write(data["data"])
        elif kind == "kill":
            await relay.kill(data.get("signal") or "KILL")
        elif kind == "resize":
            await relay.resize(data["cols"], data["rows"])
        return Reply({"type": kind, "pid": relay.pid})

    async def _spawn(self, data: dict) -> Reply:
        room = await self._room()
        limit = self.settings.ws_max_processes
        if limit and len(self.processes) >= limit:
            raise Conflict(f"This socket runs {limit} processes, the most allowed "
                           "(c.ContainerManager.ws_max_processes)", code="EAGAIN")
        spawning = asyncio.ensure_future(self.manager.spawn(
            room.info, data["command"], data.get("args") or [], cwd=data.get("cwd"),
            env=data.get("env"), terminal=data.get("terminal"),
        ))
        try:
            process = await asyncio.shield(spawning)
        except asyncio.CancelledError:  # the socket closed meanwhile: end it once it runs
            spawning.add_done_callback(self._kill_spawned)
            raise
        if self.closed:
            await _quietly(process.kill("KILL"))
            raise OutboxClosed()
        relay = ProcessRelay(process, self._send, self._send_output
                             if self.version >= protocol.BINARY_VERSION else None,
                             ready=self.outbox.flushed)
        self.processes[relay.pid] = relay

        def relay_done(done: ProcessRelay) -> None:
            self.processes.pop(done.pid, None)
            if done.process.running:  # the relay ended because the socket went away
                self.manager.background(_quietly(done.process.kill("KILL")),
                                        "kill a process whose socket went")

        def start_relay():
            relay.start(on_done=relay_done)

        return Reply({"type": "spawn", "pid": relay.pid}, then=start_relay)

    # --- terminals -----------------------------------------------------------------------

    async def terminal_input(self, data: dict) -> Reply:
        room = await self._room()
        return Reply(await self.rooms.line_terminal.run(room.info, data["input"]))

    async def pty_open(self, data: dict) -> Reply:
        room = await self._room()
        cols, rows = data["cols"], data["rows"]
        session = room.ptys.get(data.get("terminalId") or "")
        reattached = session is not None and session.alive
        if reattached:
            if (session.cols, session.rows) != (cols, rows):
                await session.resize(cols, rows)
        else:
            session = await room.open_pty(cols, rows)

        def attach():
            replay = session.attach(self)
            if replay:
                self.push("pty-output", {"terminalId": session.id, "data": replay,
                                         "replay": True})

        return Reply({"terminalId": session.id, "reattached": reattached}, then=attach)

    async def _live_room(self) -> Room:
        """The joined container's room without an engine call (a terminal's requests are
        served in order, so nothing here may wait long)."""
        await self._joined()
        if self.container_id is None:
            raise Conflict("Join a container first (join-container {containerId})",
                           code=NOT_JOINED)
        room = self.rooms.live_room(self.container_id)
        if room is None:
            raise ContainerNotRunning(self.container_id, "not running")
        return room

    async def pty_input(self, data: dict) -> Reply:
        require_pty(await self._live_room(), data["terminalId"]).write(data["data"])
        return Reply({})

    async def pty_resize(self, data: dict) -> Reply:
        session = require_pty(await self._live_room(), data["terminalId"])
        await session.resize(data["cols"], data["rows"])
        return Reply({})

    async def pty_close(self, data: dict) -> Reply:
        session = require_pty(await self._live_room(), data["terminalId"])
        session.detach(self)
        if data.get("kill"):
            await session.kill()
        return Reply({})

    # --- metrics -------------------------------------------------------------------------

    async def metrics_subscribe(self, data: dict) -> Reply:
        """Metrics pushes on or off; they flow while the joined container runs."""
        await self._joined()
        if self.container_id is None:
            raise Conflict("Join a container first (join-container {containerId})",
                           code=NOT_JOINED)
        self.wants_metrics = data["on"]
        room = self.rooms.live_room(self.container_id)
        if room is not None:
            if self.wants_metrics:
                room.subscribe_metrics(self)
            else:
                room.unsubscribe_metrics(self)
        return Reply({})

    # --- end -----------------------------------------------------------------------------

    def _kill_spawned(self, spawning: asyncio.Future) -> None:
        """A spawn that the closing socket no longer waited for: end it once it runs."""
        if not spawning.cancelled() and spawning.exception() is None:
            self.manager.background(_quietly(spawning.result().kill("KILL")),
                                    "kill a process whose socket went")

    def close(self) -> None:
        """The socket closed: detach from everything; end the processes it spawned."""
        if self.closed:
            return
        self.closed = True
        self.rooms.sockets.discard(self)
        if self.container_id is not None:
            self.rooms.leave(self, self.container_id)
        for task in list(self._tasks):
            task.cancel()
        self._chains.clear()
        for _ in range(self.settings.ws_max_inflight):  # a frame waiting for a slot ends
            self._slots.release()
        for relay in list(self.processes.values()):
            relay.stop()
            self.manager.background(_quietly(relay.process.kill("KILL")),
                                    "kill a process whose socket went")
        self.processes.clear()
        self.outbox.close()


def _target(request: Request) -> Hashable | None:
    """The terminal or process a request is about, if any: requests about one target
    apply in the order they were sent. (pure)"""
    event, data = request.event, request.data
    if event in ("pty-input", "pty-resize", "pty-close") or (
        event == "pty-open" and data.get("terminalId")
    ):
        return ("pty", data["terminalId"])
    if event == "process-operation" and data["type"] != "spawn":
        return ("pid", data["pid"])
    return None


async def _quietly(coro) -> None:
    with contextlib.suppress(Exception):
        await coro




def _file_contents(contents: bytes, encoding: str | None) -> dict:
    """readFile's result: text when asked for or when the bytes are UTF-8, else base64."""
    if encoding != "base64":
        try:
            return {"contents": contents.decode("utf-8"), "encoding": "utf-8"}
        except UnicodeDecodeError:
            if encoding in ("utf-8", "utf8"):
                return {"contents": contents.decode("utf-8", "replace"), "encoding": "utf-8"}
    return {"contents": base64.b64encode(contents).decode("ascii"), "encoding": "base64"}


def _file_bytes(contents: str, encoding: str | None) -> bytes:
    if encoding == "base64":
        try:
            return base64.b64decode(contents, validate=True)
        except (binascii.Error, ValueError) as err:
            raise BadRequest(f"'contents' is not valid base64: {err}",
                             code=protocol.BAD_DATA) from None
    return contents.encode("utf-8")
