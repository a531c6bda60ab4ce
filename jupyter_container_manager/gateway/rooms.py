"""Live state of the containers that sockets have joined: one Room per container.

A Room holds what lives longer than one request: the sockets joined to the container,
its PTY sessions, its file watchers and its port watcher. It ends when the container is
deleted or lost (stopped, killed, removed behind our back): every joined socket gets
``container-status``, terminals get ``pty-exit``, watchers stop, and the next operation
on that container answers with an error. A Room also ends once it has neither sockets
nor terminals.

Clients are sockets with ``push(event, data, droppable=False) -> bool`` (never blocks).
Processes are the sockets' own (``process_relay.py``): their output ends with the
container, and their exit follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..core import paths
from ..core.errors import (
    Conflict,
    ContainerNotFound,
    EngineUnavailable,
    FileSystemError,
    QuotaExceeded,
)
from ..core.models import ContainerInfo
from ..core.preview_links import PreviewLinks
from ..manager import ContainerManager

if TYPE_CHECKING:  # the types of what the manager hands out; made by the manager only
    from ..engine.metrics import MetricsStream
    from ..engine.ports import PortWatcher
    from ..engine.terminals import PtySession
    from ..engine.watch import TreeWatcher

log = logging.getLogger(__name__)

WATCH_READY_TIMEOUT = 10.0
PORT_WATCHER_RESTARTS = 5  # restarts of a watcher whose script someone killed
WATCHER_RESTARTS = 5
ENGINE_RETRY = 1.0  # seconds between looks at an engine that stopped answering


class Watch:
    """One watched absolute path and the clients that watch it."""

    def __init__(self, watcher: TreeWatcher):
        self.watcher = watcher
        self.clients: set = set()
        self.restarts = 0
        self.options: tuple = ()  # (path, exclude globs, include globs)


class Room:
    def __init__(self, rooms: ContainerRooms, info: ContainerInfo):
        self.rooms = rooms
        self.info = info
        self.clients: set = set()
        self.ptys: dict[str, PtySession] = {}
        self.watches: dict[str, Watch] = {}
        self.ports: PortWatcher | None = None
        self.metrics: MetricsStream | None = None  # while some client subscribes
        self.metrics_clients: set = set()
        self.closed = False
        self._port_restarts = 0

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def settings(self) -> ContainerManager:
        return self.rooms.settings

    # --- sockets -------------------------------------------------------------------

    def add_client(self, client) -> None:
        self.clients.add(client)
        if self.ports is None:
            self._start_port_watcher()
        if getattr(client, "wants_metrics", False):
            self.subscribe_metrics(client)

    def remove_client(self, client) -> None:
        self.clients.discard(client)
        self.unsubscribe_metrics(client)
        for pty in self.ptys.values():
            pty.detach(client)
        for path in [p for p, w in self.watches.items() if client in w.clients]:
            self._unsubscribe(path, client)
        if not self.clients and self.ports is not None:
            self.ports.stop()
            self.ports = None
        self.rooms.close_if_idle(self)

    def broadcast(self, event: str, data: dict) -> None:
        for client in list(self.clients):
            client.push(event, data)

    # --- ports ---------------------------------------------------------------------

    def _start_port_watcher(self) -> None:
        self.ports = self.rooms.manager.watch_ports(self.info, self._ports_changed,
                                                    self._port_watcher_ended)

    def _push_port(self, event: str, port: int, data: dict) -> None:
        """Push a port event to every socket, each with a preview URL of its own (a grant
        is single-use, and each socket's browser may reach the server by another name)."""
        for client in list(self.clients):
            url = self.rooms.preview_url_for(client, self.id, port)
            client.push(event, {"port": port, **data, "url": url})

    async def _ports_changed(self, opened: set[int], closed: set[int]) -> None:
        """Ports that opened, closed, or were opened anew (a server restarted between two
        looks: both). ``server-ready`` only once a preview really reaches the port."""
        for port in sorted(closed):
            self._push_port("port", port, {"type": "close"})
        for port in sorted(opened):
            self._push_port("port", port, {"type": "open"})
        for port in sorted(opened):
            if await self._reachable(port) and self.ports is not None and port in self.ports.ports:
                self._push_port("server-ready", port, {})

    async def _reachable(self, port: int) -> bool:
        """Whether a preview reaches ``port`` (a server bound to the container's loopback
        is reached through the agent), trying for a moment: a server may announce its
        socket a little before it accepts."""
        for attempt in range(5):
            try:
                if await self.rooms.manager.port_reachable(self.info, port):
                    return True
            except Exception:  # noqa: BLE001 - the container went meanwhile
                return False
            await asyncio.sleep(0.05 * (attempt + 1))
        return False

    async def _port_watcher_ended(self) -> None:
        """The port watcher's exec ended: the container stopped or went, or someone
        killed the script. Find out which."""
        if self.closed:
            return
        self.ports = None
        await self.rooms.check(self.id)
        if not self.closed:  # still running, maybe restarted: its init has a new pid
            with contextlib.suppress(Exception):
                self.info = await self.rooms.manager.get_container(self.id)
        if not self.closed and self.clients and self._port_restarts < PORT_WATCHER_RESTARTS:
            self._port_restarts += 1
            await asyncio.sleep(0.2 * self._port_restarts)
            if not self.closed and self.clients and self.ports is None:
                self._start_port_watcher()

    # --- metrics -------------------------------------------------------------------

    def subscribe_metrics(self, client) -> None:
        """``client`` gets ``metrics`` pushes; the first subscriber starts the container's
        one engine stats stream."""
        self.metrics_clients.add(client)
        if self.metrics is None and not self.closed:
            self.metrics = self.rooms.manager.stream_metrics(self.info, self._push_metrics,
                                                             self._metrics_ended)

    def unsubscribe_metrics(self, client) -> None:
        """The last subscriber to go stops the stream."""
        self.metrics_clients.discard(client)
        if not self.metrics_clients and self.metrics is not None:
            self.metrics.stop()
            self.metrics = None

    def _push_metrics(self, metrics: dict) -> None:
        data = {"containerId": self.id, **metrics}
        for client in list(self.metrics_clients):
            client.push("metrics", data, droppable=True)

    async def _metrics_ended(self) -> None:
        """The stats stream ended on its own: the container stopped (the room closes)
        or the engine went; started again while someone still subscribes."""
        self.metrics = None
        await asyncio.sleep(ENGINE_RETRY)
        if not self.closed and self.metrics_clients and self.metrics is None:
            self.metrics = self.rooms.manager.stream_metrics(self.info, self._push_metrics,
                                                             self._metrics_ended)

    # --- terminals -----------------------------------------------------------------

    async def open_pty(self, cols: int, rows: int) -> PtySession:
        limit = self.settings.max_terminals_per_container
        if limit and len(self.ptys) >= limit:
            raise QuotaExceeded(
                f"Container {self.id} has {limit} terminals open, the most allowed "
                "(c.ContainerManager.max_terminals_per_container); close one first."
            )
        session = self.rooms.manager.pty_session(self.info, cols=cols, rows=rows,
                                                 on_exit=self._pty_exited)
        self.ptys[session.id] = session  # counts against the limit while it starts
        try:
            await session.start()
        except BaseException:
            self.ptys.pop(session.id, None)
            raise
        if self.closed:
            session.close()
            raise ContainerNotFound(self.id)
        return session

    def _pty_exited(self, session: PtySession) -> None:
        self.ptys.pop(session.id, None)
        if session.exit_code == -1 and not self.closed:
            # Its exec went without an exit code: the engine stopped answering (its
            # connection broke) or the container went. Find out which, as when a watcher
            # ends, so joined sockets are told even when no watcher runs an exec (the
            # port watcher reads the host's /proc when it can).
            self.rooms.manager.background(self.rooms.check(self.id),
                                          f"look at {self.id} after its terminal ended")
        self.rooms.close_if_idle(self)

    # --- watch ---------------------------------------------------------------------

    async def watch(self, client, api_path: str, exclude: list[str] | None = None,
                    include: list[str] | None = None) -> None:
        path = paths.resolve(self.info.workdir, api_path, "watch")
        default = list(self.settings.watch_ignore)
        exclude = default if exclude is None else list(exclude)
        include = list(include or [])
        options = (path, exclude, include)
        # One watcher per path and globs: the path alone is the key of the default globs.
        absolute = path if (exclude, include) == (default, []) else f"{path}\0{options}"
        watch = self.watches.get(absolute)
        if watch is None:
            limit = self.settings.max_watches_per_container
            if limit and len(self.watches) >= limit:
                raise QuotaExceeded(
                    f"Container {self.id} has {limit} watched paths, the most allowed "
                    "(c.ContainerManager.max_watches_per_container); unwatch one first."
                )
            watch = self.watches[absolute] = Watch(self._watcher(absolute, options))
            watch.options = options
        watch.clients.add(client)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watch.watcher.ready.wait(), WATCH_READY_TIMEOUT)
        if self.closed:
            raise ContainerNotFound(self.id)
        if watch.watcher.error is not None:
            self._unsubscribe(absolute, client)
            raise FileSystemError(watch.watcher.error, "watch", options[0])

    def unwatch(self, client, api_path: str) -> None:
        absolute = paths.resolve(self.info.workdir, api_path, "unwatch")
        for key in [k for k in self.watches if k.split("\0", 1)[0] == absolute]:
            self._unsubscribe(key, client)

    def _unsubscribe(self, absolute: str, client) -> None:
        watch = self.watches.get(absolute)
        if watch is None:
            return
        watch.clients.discard(client)
        if not watch.clients:
            watch.watcher.stop()
            del self.watches[absolute]

    def _changes(self, absolute: str, changes: list[tuple[str, str]]) -> None:
        watch = self.watches.get(absolute)
        if watch is None:
            return
        for path, kind in changes:
            try:  # (a watcher's key is its path, then its globs after a NUL)
                api_path = paths.relative(self.info.workdir, path)
            except ValueError:
                api_path = path  # a watch of the workdir's parent is refused; never here
            for client in list(watch.clients):
                client.push("fs-change", {"path": api_path, "kind": kind}, droppable=True)

    async def _watch_ended(self, absolute: str) -> None:
        watch = self.watches.get(absolute)
        if self.closed or watch is None or watch.watcher.error is not None:
            return  # a refused path ends its script: watch() answers the error
        del self.watches[absolute]
        await self.rooms.check(self.id)
        if watch is not None and not self.closed and watch.restarts < WATCHER_RESTARTS:
            # The container is fine: someone killed the script. Watch again.
            watch.restarts += 1
            await asyncio.sleep(0.2 * watch.restarts)
            if not self.closed and watch.clients and absolute not in self.watches:
                watch.watcher = self._watcher(absolute, watch.options)
                self.watches[absolute] = watch

    def _watcher(self, absolute: str, options: tuple) -> TreeWatcher:
        path, exclude, include = options
        return self.rooms.manager.watch_tree(
            self.info, path,
            lambda changes: self._changes(absolute, changes),
            lambda: self._watch_ended(absolute),
            exclude=exclude, include=include,
        )

    # --- end -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop everything this room runs (its container is gone, or it is idle)."""
        self.closed = True
        if self.ports is not None:
            self.ports.stop()
            self.ports = None
        if self.metrics is not None:
            self.metrics.stop()
            self.metrics = None
        for watch in self.watches.values():
            watch.watcher.stop()
        self.watches.clear()
        for session in list(self.ptys.values()):
            for client in session.clients:
                client.push("pty-exit", {"terminalId": session.id, "exitCode": -1})
            session.close()
        self.ptys.clear()


class ContainerRooms:
    """The rooms of one server, and which sockets joined which container."""

    def __init__(self, manager: ContainerManager, links: PreviewLinks):
        self.manager = manager
        self.settings: ContainerManager = manager
        self.links = links
        self.line_terminal = manager.line_terminal
        self._rooms: dict[str, Room] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._members: dict[str, set] = {}  # container id -> joined clients
        self._told: dict[str, str] = {}  # container id -> the status last pushed
        self._recovering: dict[str, asyncio.Task] = {}  # waiting for the engine
        self.sockets: set = set()  # every open socket, joined or not (server-wide pushes)
        manager.on_container_removed(self.container_removed)
        manager.on_pull_progress(self._pull_progress)

    async def room(self, container_id: str) -> Room:
        """The live room of a running container (made on first use); errors otherwise."""
        room = self._rooms.get(container_id)
        if room is not None and not room.closed:
            return room
        lock = self._opening.setdefault(container_id, asyncio.Lock())
        async with lock:
            room = self._rooms.get(container_id)
            if room is not None and not room.closed:
                return room
            info = await self.manager.require_running(container_id)
            room = Room(self, info)
            self._rooms[container_id] = room
            if self._told.pop(container_id, "running") != "running":
                for client in list(self._members.get(container_id, ())):
                    client.push("container-status",
                                {"containerId": container_id, "status": info.status})
            await self.manager.end_orphan_shells(info)
            for client in self._members.get(container_id, ()):
                room.add_client(client)
            return room

    def preview_url_for(self, client, container_id: str, port: int) -> str:
        """The preview URL of ``port`` for one socket: by the scheme and host its browser
        used to reach this server (``client.preview_origin``)."""
        scheme, host = getattr(client, "preview_origin", None) or ("http", "")
        return self.links.url(container_id, port, scheme=scheme, host=host)

    def live_room(self, container_id: str) -> Room | None:
        """The room of a container if it is live now (no waiting, no engine call)."""
        room = self._rooms.get(container_id)
        return room if room is not None and not room.closed else None

    async def join(self, client, info: ContainerInfo) -> Room | None:
        """``client`` hears this container's pushes from now on; its room if it runs."""
        self._members.setdefault(info.id, set()).add(client)
        if info.status != "running":
            return None  # joined: it gets container-status pushes once it runs
        room = await self.room(info.id)
        room.add_client(client)
        return room

    def leave(self, client, container_id: str) -> None:
        members = self._members.get(container_id)
        if members is not None:
            members.discard(client)
            if not members:
                del self._members[container_id]
        room = self._rooms.get(container_id)
        if room is not None:
            room.remove_client(client)

    def files_changed(self, container_id: str, changes: list[dict]) -> None:
        """Tell the sockets joined to a running container that files changed (a
        checkpoint's restore): one ``fs-change`` ``{path, kind}`` each."""
        room = self.live_room(container_id)
        for client in list(room.clients) if room is not None else ():
            for change in changes:
                client.push("fs-change", {"path": change["path"], "kind": change["kind"]},
                            droppable=True)

    def live_terminals(self, container_id: str) -> list[str]:
        room = self._rooms.get(container_id)
        return list(room.ptys) if room is not None and not room.closed else []

    async def listening_ports(self, infos: list[ContainerInfo]) -> dict[str, list[int]]:
        """The ports something listens on in each container: from the port watcher of a
        joined container, else by one look into /proc/net/tcp (running containers only)."""

        async def one(info: ContainerInfo) -> list[int]:
            room = self.live_room(info.id)
            if room is not None and room.ports is not None and room.ports.has_read:
                private = self.manager.private_ports(info.id)
                return sorted(port for port in room.ports.ports if port not in private)
            return await self.manager.listening_ports(info)

        found = await asyncio.gather(*(one(info) for info in infos))
        return {info.id: ports for info, ports in zip(infos, found, strict=True)}

    def close_if_idle(self, room: Room) -> None:
        if room.closed or room.clients or room.ptys or room.watches:
            return
        room.close()
        if self._rooms.get(room.id) is room:
            del self._rooms[room.id]

    # --- the container went ----------------------------------------------------------

    async def check(self, container_id: str) -> None:
        """After one of its execs ended: end the room if the container no longer runs.
        A container being removed looks dead for a moment; look again before telling."""
        for attempt in range(4):
            try:
                info = await self.manager.get_container(container_id)
                status = info.status
            except ContainerNotFound:
                status = "removed"
            except EngineUnavailable as err:
                self.engine_lost(container_id, err)
                return
            except Exception:  # noqa: BLE001 - another engine hiccup: keep the room for now
                return
            if status == "lost":  # its swarm node does not answer: as an engine outage
                self.engine_lost(container_id, EngineUnavailable(info.reason), status="lost")
                return
            if status not in ("error", "creating"):
                break
            await asyncio.sleep(0.25 * (attempt + 1))
        if status != "running":
            self.container_ended(container_id, status)

    def engine_lost(self, container_id: str, err: EngineUnavailable,
                    status: str = "unknown") -> None:
        """The engine stopped answering while this container's room was live: its execs
        (terminals, watchers, the port watcher) are gone with their connections. End the
        room, tell the joined sockets (``container-status`` ``unknown``, with the error's
        code and message), and look again every second until the engine answers; then
        they get the real status (``running`` re-opens the room for them). ``status``
        "lost": the same for a container whose swarm node does not answer."""
        room = self._rooms.pop(container_id, None)
        if room is not None:
            room.close()
        if self._told.get(container_id) != status:
            self._told[container_id] = status
            for client in list(self._members.get(container_id, ())):
                client.push("container-status", {"containerId": container_id,
                                                 "status": status, "code": err.code,
                                                 "message": err.message})
        if container_id not in self._recovering:
            self._recovering[container_id] = self.manager.background(
                self._await_engine(container_id), f"wait for the engine ({container_id})")

    async def _await_engine(self, container_id: str) -> None:
        try:
            while container_id in self._members:
                await asyncio.sleep(ENGINE_RETRY)
                try:
                    info = await self.manager.get_container(container_id)
                except ContainerNotFound:
                    self.container_removed(container_id)
                    return
                except Exception:  # noqa: BLE001 - still down
                    continue
                if info.status == "lost":  # its swarm node: still down
                    continue
                if info.status == "running" and container_id in self._members:
                    with contextlib.suppress(Exception):
                        await self.room(container_id)  # pushes "running", re-adds members
                        return
                self.container_ended(container_id, info.status)
                return
        finally:
            self._recovering.pop(container_id, None)

    def container_removed(self, container_id: str) -> None:
        """Removal hook (ContainerManager.on_container_removed): the container was deleted."""
        self.container_ended(container_id, "removed")
        self._members.pop(container_id, None)
        self._told.pop(container_id, None)
        self._opening.pop(container_id, None)
        self.line_terminal.forget(container_id)

    def container_ended(self, container_id: str, status: str) -> None:
        room = self._rooms.pop(container_id, None)
        if room is not None:
            room.close()
        if self._told.get(container_id) == status:
            return
        self._told[container_id] = status
        for client in list(self._members.get(container_id, ())):
            client.push("container-status", {"containerId": container_id, "status": status})

    def _pull_progress(self, record: dict) -> None:
        """An image pull's progress, to every open socket (a create is not joined to
        anything yet); progress records may be dropped, the end never is."""
        droppable = record.get("status") == "pulling"
        for client in list(self.sockets):
            client.push("image-pull", record, droppable=droppable)

    def close(self) -> None:
        for task in list(self._recovering.values()):
            task.cancel()
        self._recovering.clear()
        for room in list(self._rooms.values()):
            room.close()
        self._rooms.clear()
        self._members.clear()
        self._told.clear()


def require_pty(room: Room, terminal_id: str) -> PtySession:
    session = room.ptys.get(terminal_id)
    if session is None or not session.alive:
        raise Conflict(f"No live terminal {terminal_id!r} in container {room.id}",
                       code="ENOTERMINAL")
    return session
