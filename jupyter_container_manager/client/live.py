"""What lives on the container's WebSocket besides processes: file watches (``fs-change``)
and PTY terminals (``pty-output``, ``pty-exit``), as E2B's and WebContainer's clients
offer them. Pure asyncio: the sync classes wrap these (sync.py)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

from . import protocol_generated as events

log = logging.getLogger(__name__)

Request = Callable[[str, dict], Awaitable[tuple[str, dict]]]
ChangeListener = Callable[[str, str], object]  # (kind, path from the workdir)
DataListener = Callable[[str], object]


def _call(listener: Callable, *args) -> None:
    try:
        result = listener(*args)
        if inspect.isawaitable(result):
            asyncio.ensure_future(result)
    except Exception:  # a listener's bug must not break the socket
        log.exception("listener %r failed", listener)


def watch_path(path: str) -> str:
    """A path as the server's ``fs-change`` pushes name it: from the workdir, with ``/``."""
    return "/" + path.strip("/")


class AsyncWatcher:
    """One watched path: ``listener(kind, path)`` for each change under it (``add``,
    ``change``, ``unlink``, ``addDir``, ``unlinkDir``); ``close()`` stops watching."""

    def __init__(self, table: LiveTable, path: str, listener: ChangeListener):
        self.table = table
        self.path = watch_path(path)
        self.listener = listener
        self.closed = False

    def covers(self, changed: str) -> bool:
        return self.path == "/" or changed == self.path or changed.startswith(self.path + "/")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.table.watchers.remove(self)
        if not any(w.path == self.path for w in self.table.watchers):
            await self.table.request(events.FS_OPERATION, {"type": "unwatch",
                                                           "path": self.path})


class AsyncPty:
    """A terminal in the container (a shell on a real tty): ``write`` keystrokes,
    ``resize``, ``wait()`` for its exit code; ``on_data(text)`` gets its output (on
    attach, first the recent output it replays). ``close()`` detaches (the shell keeps
    running: attach again by ``terminal_id``); ``kill()`` ends it."""

    def __init__(self, table: LiveTable, terminal_id: str, on_data: DataListener | None):
        self.table = table
        self.terminal_id = terminal_id
        self.on_data = on_data
        self.output: list[str] = []  # kept when there is no on_data
        self.exit_code: int | None = None
        self._exited = asyncio.get_running_loop().create_future()

    def _data(self, text: str) -> None:
        if self.on_data is not None:
            _call(self.on_data, text)
        else:
            self.output.append(text)

    def _exit(self, code: int) -> None:
        self.exit_code = code
        if not self._exited.done():
            self._exited.set_result(code)

    async def write(self, data: str) -> None:
        await self.table.request(events.PTY_INPUT, {"terminalId": self.terminal_id,
                                                    "data": data})

    async def resize(self, cols: int, rows: int) -> None:
        await self.table.request(events.PTY_RESIZE, {"terminalId": self.terminal_id,
                                                     "cols": cols, "rows": rows})

    async def wait(self, timeout: float | None = None) -> int:
        return await asyncio.wait_for(asyncio.shield(self._exited), timeout)

    async def close(self) -> None:
        self.table.ptys.pop(self.terminal_id, None)
        await self.table.request(events.PTY_CLOSE, {"terminalId": self.terminal_id})

    async def kill(self) -> None:
        await self.table.request(events.PTY_CLOSE, {"terminalId": self.terminal_id,
                                                    "kill": True})


class LiveTable:
    """The watchers and terminals of one container's socket, and their pushes."""

    def __init__(self, request: Request):
        self.request = request
        self.watchers: list[AsyncWatcher] = []
        self.ptys: dict[str, AsyncPty] = {}
        self._early: dict[str, list[str]] = {}  # output of a terminal not yet returned

    async def watch(self, path: str, listener: ChangeListener, *,
                    exclude: list[str] | None = None) -> AsyncWatcher:
        watcher = AsyncWatcher(self, path, listener)
        data: dict = {"type": "watch", "path": watcher.path}
        if exclude is not None:
            data["exclude"] = list(exclude)
        self.watchers.append(watcher)
        try:
            await self.request(events.FS_OPERATION, data)
        except BaseException:
            self.watchers.remove(watcher)
            raise
        return watcher

    async def pty(self, *, cols: int, rows: int, on_data: DataListener | None,
                  terminal_id: str | None) -> AsyncPty:
        data: dict = {"cols": cols, "rows": rows}
        if terminal_id:
            data["terminalId"] = terminal_id
        _, opened = await self.request(events.PTY_OPEN, data)
        pty = self.ptys.get(opened["terminalId"])
        if pty is None:
            pty = self.ptys[opened["terminalId"]] = AsyncPty(self, opened["terminalId"],
                                                             on_data)
        for text in self._early.pop(opened["terminalId"], []):
            pty._data(text)
        return pty

    def dispatch(self, event: str, data: dict) -> bool:
        """Hand a push to its watcher or terminal; False when it is not theirs."""
        if event == events.FS_CHANGE:
            for watcher in list(self.watchers):
                if watcher.covers(data.get("path", "")):
                    _call(watcher.listener, data.get("kind", ""), data.get("path", ""))
            return True
        if event == events.PTY_OUTPUT:
            pty = self.ptys.get(data.get("terminalId", ""))
            if pty is not None:
                pty._data(data.get("data", ""))
            else:  # the replay may come before pty-opened's reply is handled
                self._early.setdefault(data.get("terminalId", ""), []).append(
                    data.get("data", ""))
            return True
        if event == events.PTY_EXIT:
            pty = self.ptys.pop(data.get("terminalId", ""), None)
            if pty is not None:
                pty._exit(int(data.get("exitCode", -1)))
            return True
        return False

    def lose_all(self) -> None:
        """The socket closed: terminals end for this client (exit code -1)."""
        for pty in list(self.ptys.values()):
            pty._exit(-1)
        self.ptys.clear()
