"""AsyncWebContainer: ``@webcontainer/api``'s ``WebContainer`` in Python naming, async.

REST for files, mount, export, ``run`` and teardown; the ``/container`` WebSocket, opened
on first need, for ``spawn`` (streamed processes), the line terminal and the
``server-ready`` / ``port`` events.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping

from . import protocol_generated as events
from .code import Execution, open_kernel, run_code
from .discovery import ServerInfo, find_server
from .errors import ContainerError
from .fs import AsyncFileSystem
from .gateway import Gateway
from .live import AsyncPty, LiveTable
from .models import ContainerInfo, LineResult, Metrics, SpawnResult
from .previews import proxy_path
from .process import AsyncProcess, ProcessTable
from .snapshots import Checkpoint, ContainerSaves, Snapshot
from .transport import Answer, Transport
from .tree import tree_from_wire, tree_to_wire

log = logging.getLogger(__name__)

# event -> how its push data becomes the listener's arguments (as in @webcontainer/api)
EVENTS: dict[str, Callable[[dict], tuple]] = {
    events.SERVER_READY: lambda d: (d.get("port"), d.get("url")),
    events.PORT: lambda d: (d.get("port"), d.get("type"), d.get("url")),
    events.ERROR: lambda d: (d,),
    events.CONTAINER_STATUS: lambda d: (d.get("status"),),
    events.METRICS: lambda d: (Metrics.from_json(d),),
}

Listener = Callable[..., object]


def connect(
    url: str | None = None, token: str | None = None, server: ServerInfo | None = None,
    timeout: float = 120.0,
) -> Transport:
    """A Transport to the given server, or to the one found (see ``discovery``)."""
    return Transport(server or find_server(url, token), timeout=timeout)


class AsyncWebContainer:
    """One container, as ``@webcontainer/api`` shows it; make one with ``boot()``."""

    def __init__(
        self, transport: Transport, container_id: str, workdir: str, *, owns_transport: bool
    ):
        self.id = container_id
        self.workdir = workdir
        self._transport = transport
        self._owns_transport = owns_transport
        self._listeners: dict[str, list[Listener]] = {event: [] for event in EVENTS}
        self._processes = ProcessTable()
        self._gateway = Gateway(transport, container_id, self._on_push)
        self._live = LiveTable(self._gateway.request)
        self.fs = AsyncFileSystem(transport, container_id, self._live)
        self._joining: asyncio.Task | None = None
        self._listener_tasks: set[asyncio.Task] = set()  # coroutine listeners still running
        self._torn_down = False

    # --- making one -------------------------------------------------------------------

    @classmethod
    async def boot(
        cls,
        files: Mapping | None = None,
        workdir_name: str | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        server: ServerInfo | None = None,
    ) -> AsyncWebContainer:
        """Create a container (``POST /webcontainer/boot``), with ``files`` mounted in its
        workdir; ``workdir_name`` puts the workdir at ``/home/<workdir_name>``."""
        transport = connect(url, token, server)
        try:
            return await boot_on(transport, files, workdir_name, owns_transport=True)
        except BaseException:
            await transport.close()
            raise

    @classmethod
    async def attach(
        cls, container_id: str, *, url: str | None = None, token: str | None = None,
        server: ServerInfo | None = None,
    ) -> AsyncWebContainer:
        """An existing container (made by ``boot``, the Direct API or the panel)."""
        transport = connect(url, token, server)
        try:
            return await attach_on(transport, container_id, owns_transport=True)
        except BaseException:
            await transport.close()
            raise

    # --- files --------------------------------------------------------------------------

    async def snapshot(self, name: str | None = None) -> Snapshot:
        """Save this container's file system: ``create(snapshot=...)`` starts from it."""
        return await ContainerSaves(self._transport, self.id).snapshot(name)

    async def fork(self, count: int = 1) -> list[ContainerInfo]:
        """``count`` new running copies of this container's file system."""
        return await ContainerSaves(self._transport, self.id).fork(count)

    async def checkpoint(self) -> Checkpoint:
        """Record the workdir's files changed since the last checkpoint."""
        return await ContainerSaves(self._transport, self.id).checkpoint()

    async def checkpoints(self) -> list[Checkpoint]:
        return await ContainerSaves(self._transport, self.id).checkpoints()

    async def restore_checkpoint(self, checkpoint: str | Checkpoint,
                                 paths: list[str] | None = None) -> dict[str, str]:
        """The workdir (or ``paths``) as at ``checkpoint``; what changed."""
        return await ContainerSaves(self._transport, self.id).restore(checkpoint, paths)

    async def mount(self, tree: Mapping, mount_point: str | None = None) -> None:
        """Write a FileSystemTree (contents ``str`` or ``bytes``) at ``mount_point``."""
        body: dict = {"tree": tree_to_wire(tree)}
        if mount_point is not None:
            body["mountPoint"] = mount_point
        await self._transport.request("POST", f"webcontainer/{self.id}/mount", json_body=body)

    async def export(self, path: str = "/", format: str = "json") -> dict | bytes:
        """The tree under ``path``: a FileSystemTree (binary files as ``bytes``), or the
        bytes of a zip with ``format="zip"``."""
        if format not in ("json", "zip"):
            raise ValueError(f"format must be 'json' or 'zip', not {format!r}")
        answer = await self._transport.request(
            "GET", f"webcontainer/{self.id}/export", params={"path": path, "format": format}
        )
        return tree_from_wire(answer.json()) if format == "json" else answer.body

    # --- processes ----------------------------------------------------------------------

    async def spawn(
        self,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        terminal: Mapping[str, int] | None = None,
    ) -> AsyncProcess:
        """Start ``command`` with ``args`` (argv: no shell). The process streams its output
        (``async for chunk in process.output``), takes stdin and ends with ``wait()``."""
        data: dict = {"type": "spawn", "command": command, "args": [str(a) for a in args]}
        if cwd is not None:
            data["cwd"] = cwd
        if env is not None:
            data["env"] = dict(env)
        if terminal is not None:
            data["terminal"] = {"cols": int(terminal["cols"]), "rows": int(terminal["rows"])}
        result = await self._operate(data)
        process = AsyncProcess(int(result["pid"]), self._operate)
        self._processes.add(process)
        return process

    async def _operate(self, data: dict) -> dict:
        _, result = await self._gateway.request(events.PROCESS_OPERATION, data)
        return result

    async def run(
        self,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SpawnResult:
        """Run ``command`` to its end over REST: exit code and merged output. Past
        ``timeout`` seconds it is killed (exit code 124, ``timed_out``)."""
        body: dict = {"command": command, "args": [str(a) for a in args]}
        if cwd is not None:
            body["cwd"] = cwd
        if env is not None:
            body["env"] = dict(env)
        if timeout is not None:
            body["timeout"] = timeout
        answer = await self._transport.request(
            "POST", f"webcontainer/{self.id}/spawn", json_body=body,
            timeout=None if timeout is None else max(self._transport.timeout, timeout + 30),
        )
        return SpawnResult.from_json(answer.json())

    async def run_code(self, code: str, *, language: str = "python",
                       timeout: float | None = None, on_stdout=None, on_stderr=None,
                       on_result=None, on_error=None) -> Execution:
        """Run ``code`` in this container's warm kernel (its state is kept between calls):
        stdout, stderr, results (MIME bundles) and the error, as E2B's ``run_code``.
        Callbacks, when given, get the output as it comes."""
        return await run_code(self._transport, self.id, code, language=language,
                              timeout=timeout, on_stdout=on_stdout, on_stderr=on_stderr,
                              on_result=on_result, on_error=on_error)

    async def open_kernel(self, path: str | None = None) -> dict:
        """Start a Jupyter kernel in this container (cwd its workdir); with ``path``, a
        notebook session for it: ``{containerId, kernel, session, path}``."""
        return await open_kernel(self._transport, self.id, path)

    async def run_line(self, line: str) -> LineResult:
        """One command line in the line terminal: it runs in the container's remembered
        cwd, and ``cd`` moves that cwd for the next line (and for every other client)."""
        _, data = await self._gateway.request(events.TERMINAL_INPUT, {"input": line})
        return LineResult.from_json(data)

    # --- previews and events ------------------------------------------------------------

    async def preview_url(self, port: int) -> str:
        """The proxied preview URL of ``port`` (a path from the server root)."""
        answer = await self._transport.request(
            "GET", f"webcontainer/{self.id}/url", params={"port": port}
        )
        return answer.json()["url"]

    async def fetch(
        self, url: str, method: str = "GET", body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float | None = None,
    ) -> Answer:
        """Fetch a preview URL (as ``server-ready`` gives it) through the server, with this
        client's credentials. Any status is returned, not raised. A URL of a preview origin
        (``http://5173-<id>.localhost:8888/...``, for browsers) is fetched through the same
        preview's path proxy, which this client's token opens."""
        proxied = proxy_path(url, self._transport.server.url)
        return await self._transport.fetch(
            method, self._transport.absolute(proxied or url), body=body,
            headers=dict(headers or {}), timeout=timeout,
        )

    def absolute_url(self, url: str) -> str:
        """A path from the server root -> the full URL (for a browser tab, add the token)."""
        return self._transport.absolute(url)

    def on(self, event: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on each ``event``: ``"server-ready"`` (port, url), ``"port"``
        (port, type, url), ``"error"`` (data), ``"container-status"`` (status) or
        ``"metrics"`` (a Metrics, about one a second while the container runs).
        Returns the function that unsubscribes it. Opens the WebSocket if needed."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {', '.join(EVENTS)}")
        loop = asyncio.get_running_loop()  # RuntimeError outside the loop: use WebContainer
        self._listeners[event].append(listener)
        if event == events.METRICS:
            self._want_metrics(True)
        if not self._gateway.connected and (self._joining is None or self._joining.done()):
            self._joining = loop.create_task(self._join_for_events())

        def unsubscribe() -> None:
            if listener in self._listeners[event]:
                self._listeners[event].remove(listener)
                if event == events.METRICS and not self._listeners[event]:
                    self._want_metrics(False)

        return unsubscribe

    def _want_metrics(self, on: bool) -> None:
        """Metrics pushes on or off: in every join from now on, and on the open socket."""
        if self._gateway.join_options.get("metrics", False) == on:
            return
        self._gateway.join_options["metrics"] = on
        if self._gateway.connected:
            task = asyncio.ensure_future(
                self._gateway.request(events.METRICS_SUBSCRIBE, {"on": on}))
            self._listener_tasks.add(task)
            task.add_done_callback(self._listener_done)

    async def connect(self, fresh: bool = True) -> dict:
        """Open the WebSocket and join this container (done on first need anyway).
        Returns ``{containerId, status, cwd, workdir, terminals}``, asked again unless
        ``fresh=False`` (then as the first join saw it)."""
        if fresh:
            return await self._gateway.join()
        return await self._gateway.connect()

    async def _join_for_events(self) -> None:
        try:
            await self._gateway.connect()
        except ContainerError as err:
            self._emit(events.ERROR, {"message": err.message, "code": err.code})

    def _on_push(self, event: str, data: dict) -> None:
        if event in (events.PROCESS_OUTPUT, events.PROCESS_EXIT):
            self._processes.dispatch(event, data)
        elif self._live.dispatch(event, data):
            pass
        elif event == "close":
            self._processes.lose_all("The WebSocket closed while the process ran")
            self._live.lose_all()
        elif event in EVENTS:
            self._emit(event, data)

    def _emit(self, event: str, data: dict) -> None:
        for listener in list(self._listeners[event]):
            try:
                result = listener(*EVENTS[event](data))
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._listener_tasks.add(task)
                    task.add_done_callback(self._listener_done)
            except Exception:  # a listener's bug must not break the socket
                log.exception("%s listener %r failed", event, listener)

    def _listener_done(self, task: asyncio.Task) -> None:
        self._listener_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("listener failed", exc_info=task.exception())

    # --- state and the end ------------------------------------------------------------

    async def pty(self, *, cols: int = 80, rows: int = 24,
                  on_data: Callable[[str], object] | None = None,
                  terminal_id: str | None = None) -> AsyncPty:
        """A terminal (a shell on a real tty) in the container, over its WebSocket:
        ``on_data(text)`` gets its output; with ``terminal_id``, attach to a live one
        (its recent output is replayed first), e.g. one the JupyterLab panel opened."""
        return await self._live.pty(cols=cols, rows=rows, on_data=on_data,
                                    terminal_id=terminal_id)

    async def info(self) -> ContainerInfo:
        answer = await self._transport.request("GET", f"containers/{self.id}")
        return ContainerInfo.from_json(answer.json())

    async def metrics(self) -> Metrics:
        """CPU, memory, processes, disk and network use now (about a second)."""
        answer = await self._transport.request("GET", f"containers/{self.id}/metrics")
        return Metrics.from_json(answer.json())

    async def close(self) -> None:
        """Close the WebSocket (and the connection if this object made it); the
        container keeps running."""
        if self._joining is not None and not self._joining.done():
            self._joining.cancel()
        await self._gateway.close()
        if self._owns_transport:
            await self._transport.close()

    async def teardown(self) -> None:
        """Remove the container (``DELETE /webcontainer/{id}``) and close the connection.
        Removing one that is already gone is not an error."""
        if self._torn_down:
            return
        try:
            await self._gateway.close()
            await self._transport.request("DELETE", f"webcontainer/{self.id}")
        except ContainerError as err:
            if err.status != 404:
                raise
        finally:
            self._torn_down = True
            await self.close()

    async def __aenter__(self) -> AsyncWebContainer:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.teardown()

    def __repr__(self) -> str:
        return f"<AsyncWebContainer {self.id} workdir={self.workdir!r}>"


async def boot_on(
    transport: Transport, files: Mapping | None, workdir_name: str | None, *, owns_transport: bool
) -> AsyncWebContainer:
    body: dict = {}
    if files is not None:
        body["files"] = tree_to_wire(files)
    if workdir_name is not None:
        body["workdirName"] = workdir_name
    answer = await transport.request("POST", "webcontainer/boot", json_body=body)
    data = answer.json()
    return AsyncWebContainer(
        transport, data["containerId"], data.get("workdir", ""), owns_transport=owns_transport
    )


async def attach_on(
    transport: Transport, container_id: str, *, owns_transport: bool
) -> AsyncWebContainer:
    answer = await transport.request("GET", f"containers/{container_id}")
    info = ContainerInfo.from_json(answer.json())
    return AsyncWebContainer(transport, info.id, info.workdir, owns_transport=owns_transport)
