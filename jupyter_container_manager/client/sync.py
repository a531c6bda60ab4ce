"""The synchronous client: WebContainer, Containers, FileSystem and Process.

Each call runs the matching async call on the client's private loop thread (``runner``)
and blocks until it is done, so it works in scripts and in notebook cells alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .code import Execution
from .containers import AsyncContainers
from .discovery import ServerInfo
from .live import AsyncPty, AsyncWatcher
from .models import ContainerInfo, DirEnt, LineResult, Metrics, PullProgress, SpawnResult
from .process import AsyncProcess
from .runner import LoopThread
from .snapshots import Checkpoint, Snapshot, Snapshots
from .transport import Answer
from .webcontainer import AsyncWebContainer


class Watcher:
    """A watch of ``wc.fs.watch``: ``close()`` stops it."""

    def __init__(self, watcher: AsyncWatcher, runner: LoopThread):
        self._watcher = watcher
        self._run = runner.run
        self.path = watcher.path

    def close(self) -> None:
        self._run(self._watcher.close())


class Pty:
    """A terminal of ``wc.pty()``: ``write``, ``resize``, ``wait``, ``close`` (detach;
    the shell keeps running), ``kill``; ``terminal_id`` attaches to it again."""

    def __init__(self, pty: AsyncPty, runner: LoopThread):
        self._pty = pty
        self._run = runner.run
        self.terminal_id = pty.terminal_id

    @property
    def output(self) -> list[str]:
        """Its output so far, when it was opened without ``on_data``."""
        return self._pty.output

    def write(self, data: str) -> None:
        self._run(self._pty.write(data))

    def resize(self, cols: int, rows: int) -> None:
        self._run(self._pty.resize(cols, rows))

    def wait(self, timeout: float | None = None) -> int:
        return self._run(self._pty.wait(timeout))

    def close(self) -> None:
        self._run(self._pty.close())

    def kill(self) -> None:
        self._run(self._pty.kill())


class FileSystem:
    """``wc.fs``: read_file, write_file, readdir, mkdir, rm, rename (Node's names, in
    Python naming). Errors raise ContainerError with Node's ``code``."""

    def __init__(self, fs, runner: LoopThread):
        self._fs = fs
        self._run = runner.run
        self._runner = runner

    def upload(self, source, path: str, *, on_progress=None) -> int:
        """Stream a local file (path or binary file object) into ``path``;
        ``on_progress(sent, total)`` runs on the listener thread. The bytes sent."""
        listener = self._runner.in_listener_thread(on_progress) if on_progress else None
        return self._run(self._fs.upload(source, path, on_progress=listener))

    def download(self, path: str, target, *, on_progress=None) -> int:
        """Stream the file at ``path`` into a local path or binary file object;
        ``on_progress(received, total)`` runs on the listener thread."""
        listener = self._runner.in_listener_thread(on_progress) if on_progress else None
        return self._run(self._fs.download(path, target, on_progress=listener))

    def read_file(self, path: str, encoding: str | None = None) -> bytes | str:
        """The file's bytes, or its text with ``encoding="utf-8"``."""
        return self._run(self._fs.read_file(path, encoding))

    def write_file(self, path: str, data: str | bytes, encoding: str | None = None) -> None:
        """Write text (``str``) or bytes; the parent directory must exist (``ENOENT``)."""
        return self._run(self._fs.write_file(path, data, encoding))

    def readdir(self, path: str = "/", with_file_types: bool = False) -> list[str] | list[DirEnt]:
        return self._run(self._fs.readdir(path, with_file_types))

    def mkdir(self, path: str, recursive: bool = False) -> None:
        return self._run(self._fs.mkdir(path, recursive))

    def rm(self, path: str, recursive: bool = False, force: bool = False) -> None:
        return self._run(self._fs.rm(path, recursive, force))

    def rename(self, old_path: str, new_path: str) -> None:
        return self._run(self._fs.rename(old_path, new_path))

    def watch(self, path: str, listener: Callable[[str, str], object], *,
              exclude: list[str] | None = None) -> Watcher:
        """Call ``listener(kind, path)`` (on the listener thread) for each change under
        ``path``; the watch is live when this returns; ``.close()`` stops it."""
        wrapped = self._runner.in_listener_thread(listener)
        return Watcher(self._run(self._fs.watch(path, wrapped, exclude=exclude)),
                       self._runner)


class ProcessOutput:
    """``for chunk in process.output``: output chunks until the process ends."""

    def __init__(self, output, runner: LoopThread):
        self._output = output
        self._run = runner.run

    @property
    def dropped(self) -> int:
        """Characters dropped because nobody read them (the unread buffer is bounded)."""
        return self._output.dropped

    def __iter__(self):
        return self

    def __next__(self) -> str:
        chunk = self._run(self._output.next_chunk())
        if chunk is None:
            raise StopIteration
        return chunk


class ProcessInput:
    def __init__(self, process: Process):
        self._process = process

    def write(self, data: str) -> None:
        self._process.write(data)


class Process:
    """A process in the container: ``output`` iterator, ``input.write`` / ``write``,
    ``kill()``, ``resize()`` and ``wait()`` -> exit code."""

    def __init__(self, process: AsyncProcess, runner: LoopThread):
        self._process = process
        self._runner = runner
        self.pid = process.pid
        self.output = ProcessOutput(process.output, runner)
        self.input = ProcessInput(self)

    @property
    def exit_code(self) -> int | None:
        return self._process.exit_code

    def write(self, data: str) -> None:
        self._runner.run(self._process.write(data))

    def kill(self, signal: str | None = None) -> None:
        self._runner.run(self._process.kill(signal))

    def resize(self, cols: int, rows: int) -> None:
        self._runner.run(self._process.resize(cols, rows))

    def wait(self, timeout: float | None = None) -> int:
        """Block until the process ends; its exit code (TimeoutError past ``timeout``)."""
        return self._runner.run(self._process.wait(timeout))

    def __repr__(self) -> str:
        return f"<Process pid={self.pid} exit_code={self.exit_code}>"


class WebContainer:
    """``@webcontainer/api``'s WebContainer on a real container, synchronously::

        wc = WebContainer.boot(files={"index.js": {"file": {"contents": "console.log(1)"}}})
        process = wc.spawn("node", ["index.js"])
        print("".join(process.output), process.wait())
        wc.teardown()
    """

    def __init__(self, container: AsyncWebContainer, runner: LoopThread | None = None):
        self._container = container
        self._runner = runner or LoopThread.shared()
        self._run = self._runner.run
        self.fs = FileSystem(container.fs, self._runner)

    @property
    def id(self) -> str:
        return self._container.id

    @property
    def workdir(self) -> str:
        return self._container.workdir

    @classmethod
    def boot(
        cls,
        files: Mapping | None = None,
        workdir_name: str | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        server: ServerInfo | None = None,
    ) -> WebContainer:
        """Create a container with ``files``; the server is found unless given."""
        runner = LoopThread.shared()
        container = runner.run(
            AsyncWebContainer.boot(files, workdir_name, url=url, token=token, server=server)
        )
        return cls(container, runner)

    @classmethod
    def attach(
        cls, container_id: str, *, url: str | None = None, token: str | None = None,
        server: ServerInfo | None = None,
    ) -> WebContainer:
        """An existing container (from the Direct API, the panel or another boot)."""
        runner = LoopThread.shared()
        container = runner.run(
            AsyncWebContainer.attach(container_id, url=url, token=token, server=server)
        )
        return cls(container, runner)

    def snapshot(self, name: str | None = None) -> Snapshot:
        return self._run(self._container.snapshot(name))

    def fork(self, count: int = 1) -> list[ContainerInfo]:
        return self._run(self._container.fork(count))

    def checkpoint(self) -> Checkpoint:
        return self._run(self._container.checkpoint())

    def checkpoints(self) -> list[Checkpoint]:
        return self._run(self._container.checkpoints())

    def restore_checkpoint(self, checkpoint: str | Checkpoint,
                           paths: list[str] | None = None) -> dict[str, str]:
        return self._run(self._container.restore_checkpoint(checkpoint, paths))

    def mount(self, tree: Mapping, mount_point: str | None = None) -> None:
        self._run(self._container.mount(tree, mount_point))

    def export(self, path: str = "/", format: str = "json") -> dict | bytes:
        return self._run(self._container.export(path, format))

    def spawn(
        self,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        terminal: Mapping[str, int] | None = None,
    ) -> Process:
        """Start ``command`` with ``args`` (argv, no shell) over the WebSocket."""
        process = self._run(
            self._container.spawn(command, args, cwd=cwd, env=env, terminal=terminal)
        )
        return Process(process, self._runner)

    def run(
        self,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SpawnResult:
        """Run ``command`` to its end; exit code and merged output."""
        return self._run(self._container.run(command, args, cwd=cwd, env=env, timeout=timeout))

    def run_code(self, code: str, *, language: str = "python", timeout: float | None = None,
                 on_stdout=None, on_stderr=None, on_result=None, on_error=None) -> Execution:
        """Run ``code`` in this container's warm kernel (state kept between calls); the
        callbacks, when given, get the output as it comes (on the client's loop thread)."""
        return self._run(self._container.run_code(
            code, language=language, timeout=timeout, on_stdout=on_stdout,
            on_stderr=on_stderr, on_result=on_result, on_error=on_error))

    def open_kernel(self, path: str | None = None) -> dict:
        """Start a Jupyter kernel in this container; with ``path``, a notebook session."""
        return self._run(self._container.open_kernel(path))

    def run_line(self, line: str) -> LineResult:
        """One line in the line terminal (the container's remembered cwd; ``cd`` moves it)."""
        return self._run(self._container.run_line(line))

    def preview_url(self, port: int) -> str:
        return self._run(self._container.preview_url(port))

    def fetch(
        self, url: str, method: str = "GET", body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float | None = None,
    ) -> Answer:
        """Fetch a preview URL through the server with this client's credentials."""
        return self._run(self._container.fetch(url, method, body, headers, timeout))

    def absolute_url(self, url: str) -> str:
        return self._container.absolute_url(url)

    def on(self, event: str, listener: Callable[..., object]) -> Callable[[], None]:
        """Call ``listener`` on ``"server-ready"`` (port, url), ``"port"`` (port, type,
        url), ``"error"`` (data), ``"container-status"`` (status) or ``"metrics"`` (a
        Metrics, about one a second while the container runs); it runs on the
        client's listener thread. Returns the unsubscribe function. The subscription is
        live when this returns."""
        wrapped = self._runner.in_listener_thread(listener)
        unsubscribe = self._run(self._subscribe(event, wrapped))

        async def remove() -> None:
            unsubscribe()

        def off() -> None:  # once this returns, no new push is handed to the listener
            self._run(remove())

        return off

    async def _subscribe(self, event: str, listener: Callable[..., object]):
        unsubscribe = self._container.on(event, listener)
        try:
            await self._container.connect(fresh=False)
        except BaseException:
            unsubscribe()
            raise
        return unsubscribe

    def connect(self, fresh: bool = True) -> dict:
        """Open the WebSocket and join; ``{containerId, status, cwd, workdir, terminals}``."""
        return self._run(self._container.connect(fresh))

    def info(self) -> ContainerInfo:
        return self._run(self._container.info())

    def pty(self, *, cols: int = 80, rows: int = 24,
            on_data: Callable[[str], object] | None = None,
            terminal_id: str | None = None) -> Pty:
        """A terminal in the container; ``on_data(text)`` runs on the listener thread
        (without it, ``pty.output`` collects the text). ``terminal_id``: attach to a
        live one, its recent output replayed first."""
        listener = self._runner.in_listener_thread(on_data) if on_data else None
        return Pty(self._run(self._container.pty(cols=cols, rows=rows, on_data=listener,
                                                 terminal_id=terminal_id)), self._runner)

    def metrics(self) -> Metrics:
        """CPU, memory, processes, disk and network use now (about a second)."""
        return self._run(self._container.metrics())

    def close(self) -> None:
        """Close the connection; the container keeps running."""
        self._run(self._container.close())

    def teardown(self) -> None:
        """Remove the container and close the connection."""
        self._run(self._container.teardown())

    def __enter__(self) -> WebContainer:
        return self

    def __exit__(self, *exc) -> None:
        self.teardown()

    def __repr__(self) -> str:
        return f"<WebContainer {self.id} workdir={self.workdir!r}>"


class Containers:
    """The Direct API, synchronously: ``list``, ``create``, ``get``, ``delete``, ``start``,
    ``stop``, ``restart``; ``boot`` / ``attach`` give WebContainers on this connection."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        server: ServerInfo | None = None,
        timeout: float = 120.0,
    ):
        self._runner = LoopThread.shared()
        self._run = self._runner.run
        self._containers = AsyncContainers(url, token, server=server, timeout=timeout)
        self.snapshots = Snapshots(self._containers.snapshots, self._runner)

    @property
    def server(self) -> ServerInfo:
        return self._containers.server

    def list(self) -> list[ContainerInfo]:
        return self._run(self._containers.list())

    def create(
        self,
        name: str | None = None,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        files: Mapping | None = None,
        ports: list[int] | None = None,
        snapshot: str | Snapshot | None = None,
        on_pull: Callable[[PullProgress], object] | None = None,
    ) -> ContainerInfo:
        """Create and start a container (from a snapshot when ``snapshot`` names one);
        ``on_pull(progress)`` (on the listener thread) follows an image pull the server
        makes for it."""
        listener = self._runner.in_listener_thread(on_pull) if on_pull is not None else None
        return self._run(self._containers.create(name, image=image, env=env, files=files,
                                                 ports=ports, snapshot=snapshot,
                                                 on_pull=listener))

    def get(self, container_id: str) -> ContainerInfo:
        return self._run(self._containers.get(container_id))

    def delete(self, container_id: str) -> None:
        self._run(self._containers.delete(container_id))

    def start(self, container_id: str) -> ContainerInfo:
        return self._run(self._containers.start(container_id))

    def snapshot(self, container_id: str, name: str | None = None) -> Snapshot:
        return self._run(self._containers.snapshot(container_id, name))

    def fork(self, container_id: str, count: int = 1) -> list[ContainerInfo]:
        return self._run(self._containers.fork(container_id, count))

    def checkpoint(self, container_id: str) -> Checkpoint:
        return self._run(self._containers.checkpoint(container_id))

    def checkpoints(self, container_id: str) -> list[Checkpoint]:
        return self._run(self._containers.checkpoints(container_id))

    def restore_checkpoint(self, container_id: str, checkpoint: str | Checkpoint,
                           paths: list[str] | None = None) -> dict[str, str]:
        return self._run(self._containers.restore_checkpoint(container_id, checkpoint, paths))

    def stop(self, container_id: str) -> ContainerInfo:
        return self._run(self._containers.stop(container_id))

    def restart(self, container_id: str) -> ContainerInfo:
        return self._run(self._containers.restart(container_id))

    def metrics(self, container_id: str) -> Metrics:
        """CPU, memory, processes, disk and network use of a running container now."""
        return self._run(self._containers.metrics(container_id))

    def boot(self, files: Mapping | None = None, workdir_name: str | None = None) -> WebContainer:
        return WebContainer(self._run(self._containers.boot(files, workdir_name)), self._runner)

    def attach(self, container_id: str) -> WebContainer:
        return WebContainer(self._run(self._containers.attach(container_id)), self._runner)

    def close(self) -> None:
        self._run(self._containers.close())

    def __enter__(self) -> Containers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
