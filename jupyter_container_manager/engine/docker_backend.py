"""The async face of the Docker engine: blocking docker-py calls on a bounded thread pool,
and exec streams spoken directly over the engine's socket with asyncio.

Nothing here knows about containers of ours, HTTP handlers or Tornado. Everything that
blocks runs on ``self._pool`` (several workers: a slow call never holds up the others);
exec streams (stdin, stdout, stderr, TTYs) are asyncio streams on their own connection, so
they need no thread at all and get asyncio's flow control for free.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import struct
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import docker
import docker.errors
import requests.exceptions

from ..core.errors import EngineUnavailable
from ..core.models import LABEL_DISK, LABEL_ID, ContainerInfo
from .backend import (
    STATE_EVENTS,
    SUBSCRIBED,
    BackendConflict,
    BackendNotFound,
    BackendRefused,
    ContainerSpec,
)
from .disk import DiskQuota
from .engine_address import EngineAddress, close_docker_stream, resolve_engine
from .engine_streams import open_engine_stream

if TYPE_CHECKING:
    from .docker_create import DockerCreation

T = TypeVar("T")

STDOUT, STDERR = 1, 2
_DOCKER_HEADER = struct.Struct(">BxxxL")  # a multiplexed frame's: stream, size
_READ_SIZE = 64 * 1024  # most bytes of joined frames one read() returns, by default
_RECV_SIZE = 256 * 1024  # bytes asked of the connection per read
# The reader's buffer limit (it stops reading from the socket at twice this): as large as
# a read, not larger; a larger buffer measured slower (its copies leave the CPU's cache).
_STREAM_LIMIT = 256 * 1024


def _hint(url: str) -> str:
    return (
        f"The Docker engine at {url} does not answer (or refused the connection). "
        "Start it (for example "
        "`sudo systemctl start docker`; to install Docker see "
        "https://docs.docker.com/engine/install/), or point "
        "c.ContainerManager.docker_url (or DOCKER_HOST, with DOCKER_TLS_VERIFY and "
        "DOCKER_CERT_PATH for TLS, or a Docker context) at a running engine."
    )


READ_WORKERS = 4


class DockerBackend:
    """The EngineBackend of one Docker engine (backend.py): one shared docker-py client
    behind a bounded pool of worker threads. ``creation`` makes containers
    (docker_create.py); without it the backend runs everything but :meth:`create`."""

    def __init__(self, url: str | EngineAddress = "", *, workers: int = 8,
                 timeout: float = 60.0, creation: DockerCreation | None = None):
        self.address = url if isinstance(url, EngineAddress) else resolve_engine(url)
        self.url = self.address.url
        self._creation = creation
        self.timeout = timeout
        self._workers = max(2, workers)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="jcm-docker")
        # Reads (list, inspect) have their own threads, so a burst of slow creates,
        # starts and removals never keeps GET /containers waiting in the queue.
        self._read_pool = ThreadPoolExecutor(READ_WORKERS, thread_name_prefix="jcm-docker-read")
        self._client: docker.DockerClient | None = None
        self._client_lock = threading.Lock()
        self._version: str | None = None

    # --- blocking calls, on the pool ------------------------------------------------

    def client(self) -> docker.DockerClient:
        """The shared client, made on first use (in a worker thread: it pings the engine)."""
        with self._client_lock:
            if self._client is None:
                try:
                    self._client = self.address.client(
                        version="auto",
                        timeout=self.timeout,
                        max_pool_size=self._workers + READ_WORKERS + 2,
                    )
                except docker.errors.DockerException as err:
                    raise EngineUnavailable(f"{_hint(self.address.shown)} ({err})") from err
            return self._client

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like :meth:`run`, on the threads kept for quick reads (list, inspect)."""
        return await self.run(fn, *args, _pool=self._read_pool, **kwargs)

    async def run(
        self, fn: Callable[..., T], *args: Any, _pool: ThreadPoolExecutor | None = None,
        **kwargs: Any,
    ) -> T:
        """Run ``fn(client, *args, **kwargs)`` on the pool; engine outages become
        :class:`EngineUnavailable`. Docker's own API errors pass through for the caller."""

        def call():
            client = self.client()
            try:
                return fn(client, *args, **kwargs)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
                raise EngineUnavailable(
                    f"{_hint(self.address.shown)} ({err.__class__.__name__})") from err

        return await asyncio.get_running_loop().run_in_executor(
            _pool or self._pool, functools.partial(call)
        )

    async def api_version(self) -> str:
        """The engine API version the client speaks (asked once)."""
        if self._version is None:
            self._version = await self.run(lambda c: c.api._version)
        return self._version

    async def _call(self, method: str, path: str) -> None:
        """A request without a body whose answer is only a status, spoken directly on the
        engine's socket (no worker thread: one less handover of the GIL, which a busy
        server pays in milliseconds). Refusals as :meth:`_translated` makes them."""
        version = await self.api_version()
        reader, writer = await self._open_connection()
        try:
            writer.write((f"{method} /v{version}{path} HTTP/1.1\r\nHost: docker\r\n"
                          "Content-Length: 0\r\nConnection: close\r\n\r\n").encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            status = int(head.split(b" ", 2)[1])
            detail = b"" if status < 300 else await asyncio.wait_for(reader.read(), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError,
                IndexError) as err:
            raise EngineUnavailable(
                f"{_hint(self.address.shown)} ({method} {path}: {err!r})") from err
        finally:
            writer.close()
        if status < 300:
            return
        text = detail.decode(errors="replace")  # JSON, plain or in chunks
        start, end = text.find("{"), text.rfind("}")
        try:
            message = json.loads(text[start:end + 1]).get("message", text) if start >= 0 else text
        except ValueError:
            message = text
        message = str(message).strip() or f"engine answered {status}"
        if status == 404:
            raise BackendNotFound(message)
        if status == 409 or "removal" in message.lower():
            raise BackendConflict(message)
        raise BackendRefused(message, status)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._read_pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.get_running_loop().run_in_executor(None, client.close)

    # --- exec ---------------------------------------------------------------------

    async def exec_create(
        self,
        ref: str,
        argv: list[str],
        *,
        stdin: bool = False,
        tty: bool = False,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
        user: str = "",
    ) -> str:
        @self._translated
        def create(client):
            answer = client.api.exec_create(
                ref,
                argv,
                stdout=True,
                stderr=True,
                stdin=stdin,
                tty=tty,
                environment=env or None,
                workdir=workdir,
                user=user,
            )
            return answer["Id"]

        return await self.run(create)

    async def exec_inspect(self, exec_id: str) -> dict:
        return await self.read(lambda c: c.api.exec_inspect(exec_id))

    async def exec_resize(self, exec_id: str, *, rows: int, cols: int) -> None:
        await self.run(lambda c: c.api.exec_resize(exec_id, height=rows, width=cols))

    async def exec_start(self, exec_id: str, *, tty: bool = False) -> ExecStream:
        """Start a created exec and return its attached, hijacked stream."""
        reader, writer = await self._open_connection()
        body = json.dumps({"Detach": False, "Tty": tty}).encode()
        version = await self.api_version()
        request = (
            f"POST /v{version}/exec/{exec_id}/start HTTP/1.1\r\n"
            "Host: docker\r\n"
            "Content-Type: application/json\r\n"
            "Connection: Upgrade\r\n"
            "Upgrade: tcp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        writer.write(request)
        try:
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as err:
            writer.close()
            raise EngineUnavailable(f"{_hint(self.address.shown)} (exec start: {err!r})") from err
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        if status not in (101, 200):
            headers = dict(
                line.split(":", 1) for line in header_lines if ":" in line
            )
            length = int(headers.get("Content-Length", "0").strip() or 0)
            detail = (await reader.readexactly(length)).decode(errors="replace") if length else ""
            writer.close()
            raise ExecStartError(status, detail)
        return ExecStream(self, exec_id, reader, writer, tty=tty)

    async def _open_connection(self):
        """A new raw connection to the engine, over its own transport (unix, tcp, TLS,
        ssh: engine_streams.py)."""
        try:
            return await open_engine_stream(self.address, limit=_STREAM_LIMIT,
                                            timeout=self.timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as err:
            raise EngineUnavailable(f"{_hint(self.address.shown)} ({err!r})") from err

    async def exec_run(
        self,
        ref: str,
        argv: list[str],
        *,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
        limit: int | None = None,
    ) -> ExecResult:
        """Run argv to the end; collect stdout and stderr apart (each cut at ``limit``)."""
        exec_id = await self.exec_create(
            ref, argv, stdin=stdin is not None, env=env, workdir=workdir
        )
        stream = await self.exec_start(exec_id)
        out, err = bytearray(), bytearray()
        truncated = False

        async def collect():
            nonlocal truncated
            while (frame := await stream.read()) is not None:
                kind, data = frame
                target = err if kind == STDERR else out
                if limit is not None and len(target) + len(data) > limit:
                    data = data[: max(0, limit - len(target))]
                    truncated = True
                target += data

        collector = asyncio.ensure_future(collect())
        try:
            if stdin is not None:
                await stream.write(stdin)
                stream.close_stdin()
            await collector
        finally:
            collector.cancel()
            stream.close()
        return ExecResult(await stream.exit_code(), bytes(out), bytes(err), truncated)


    # --- containers: the rest of the EngineBackend seam (engine/backend.py) -----------

    async def create(self, spec: ContainerSpec) -> dict:
        """Create, prepare and start the container of ``spec`` (docker_create.py)."""
        if self._creation is None:
            raise BackendRefused("this backend was built without a way to create containers")
        return await self.run(self._creation.create_and_start, spec)

    async def list(self, labels: dict[str, str | None]) -> list[dict]:
        filters = {"label": [k if v is None else f"{k}={v}" for k, v in labels.items()]}
        return await self.read(lambda c: c.api.containers(all=True, filters=filters))

    async def inspect(self, ref: str) -> dict | None:
        def inspect(client):
            try:
                return client.api.inspect_container(ref)
            except docker.errors.NotFound:
                return None

        return await self.read(self._translated(inspect))

    async def start(self, ref: str) -> None:
        def start(client):
            self._mount_disk(client, ref)
            client.api.start(ref)

        await self.run(self._translated(start))

    async def stop(self, ref: str, timeout: float) -> None:
        await self.run(self._translated(lambda c: c.api.stop(ref, timeout=timeout)))

    async def restart(self, ref: str, timeout: float) -> None:
        def restart(client):
            self._mount_disk(client, ref)
            client.api.restart(ref, timeout=timeout)

        await self.run(self._translated(restart))

    async def kill(self, ref: str, signal: str) -> None:
        await self.run(self._translated(lambda c: c.api.kill(ref, signal=signal)))

    async def remove(self, ref: str) -> None:
        """Remove the container, its anonymous volumes and its disk (disk_limit)."""
        def remove(client):
            labels = self._labels(client, ref)
            client.api.remove_container(ref, force=True, v=True)
            if labels.get(LABEL_DISK) == "loop" and labels.get(LABEL_ID):
                DiskQuota.release(client, labels[LABEL_ID])

        await self.run(self._translated(remove))

    async def sweep_disks(self, owner: str) -> int:
        """Remove the disks (disk.py) of ``owner``'s containers that are gone: a server
        stopped between removing a container and its disk. How many."""
        if self._creation is None:
            return 0
        return await self.run(self._translated(lambda c: self._creation.disk.sweep(c, owner)))

    @staticmethod
    def _labels(client, ref: str) -> dict[str, str]:
        try:
            return client.api.inspect_container(ref)["Config"]["Labels"] or {}
        except docker.errors.NotFound:
            return {}

    def _mount_disk(self, client, ref: str) -> None:
        """Before a start: mount the container's disk again if the engine's host lost
        the mount (a reboot); nothing for a container without one."""
        labels = self._labels(client, ref)
        if labels.get(LABEL_DISK) == "loop" and labels.get(LABEL_ID):
            DiskQuota.ensure_mounted(client, labels[LABEL_ID])

    async def rename(self, ref: str, name: str) -> None:
        # On the warm pool's hand-out path: spoken directly, no worker thread.
        await self._call(
            "POST", f"/containers/{quote(ref, safe='')}/rename?name={quote(name, safe='')}")

    async def put_archive(self, ref: str, path: str, data: bytes) -> None:
        await self.run(self._translated(lambda c: c.api.put_archive(ref, path, data)))

    async def get_archive(self, ref: str, path: str) -> bytes:
        def get(client):
            stream, _ = client.api.get_archive(ref, path)
            return b"".join(stream)

        return await self.run(self._translated(get))

    async def events(self, labels: dict[str, str | None]) -> AsyncIterator[dict]:
        filters = {"type": "container", "event": list(STATE_EVENTS),
                   "label": [k if v is None else f"{k}={v}" for k, v in labels.items()]}
        # The engine's stream blocks: it is read on a thread of its own, never the pool's
        # (nor asyncio's default one, which it would hold for good).
        reader = ThreadPoolExecutor(1, thread_name_prefix="jcm-docker-events")
        loop = asyncio.get_running_loop()
        try:
            # docker-py answers once the engine has sent its headers: it has the
            # subscription then.
            stream = await loop.run_in_executor(
                reader, lambda: self.client().events(decode=True, filters=filters))
        except BaseException:
            reader.shutdown(wait=False)
            raise
        try:
            yield {"status": SUBSCRIBED}
            while True:
                event = await loop.run_in_executor(reader, next, stream, None)
                if event is None:
                    return
                yield event
        finally:
            close_docker_stream(stream)
            reader.shutdown(wait=False)

    async def stats(self, ref: str, *, stream: bool = True) -> AsyncIterator[dict]:
        """The engine's stats readings of the container (about one a second while
        ``stream``; else one, with its previous reading filled in), spoken directly on
        the engine's socket: a stream costs no thread. Ends when the container stops."""
        version = await self.api_version()
        reader, writer = await self._open_connection()
        try:
            writer.write((f"GET /v{version}/containers/{quote(ref, safe='')}/stats?stream="
                          f"{int(stream)} HTTP/1.1\r\nHost: docker\r\n\r\n").encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            status = int(head.split(b" ", 2)[1])
            chunked = b"transfer-encoding: chunked" in head.lower()
            if status >= 300:
                detail = (await _read_body(reader, chunked, self.timeout)).decode(
                    errors="replace")
                try:
                    message = json.loads(detail).get("message", detail)
                except (ValueError, AttributeError):
                    message = detail
                if status == 404:
                    raise BackendNotFound(message)
                raise BackendRefused(message, status)
            pending = b""
            while True:
                if chunked:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    data = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    pending += data[:-2]
                else:
                    data = await reader.read(_READ_SIZE)
                    if not data:
                        break
                    pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
            if pending.strip():
                yield json.loads(pending)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError,
                IndexError) as err:
            if isinstance(err, asyncio.IncompleteReadError):
                return  # the engine ended the stream (the container stopped)
            raise EngineUnavailable(f"{_hint(self.address.shown)} (stats: {err!r})") from err
        finally:
            writer.close()

    async def logs(self, ref: str, *, tail: int | None = None) -> bytes:
        """The output of the container's main process, stdout and stderr merged."""
        return await self.run(self._translated(lambda c: c.api.logs(
            ref, stdout=True, stderr=True, tail="all" if tail is None else tail)))

    async def disk_size(self, ref: str) -> int | None:
        """Bytes the container wrote to its own layer (``docker ps -s``: the engine
        walks the layer, so this is not for every tick)."""
        def inspect_size(client):  # docker-py's inspect_container asks no size
            api = client.api
            return api._result(api._get(api._url("/containers/{0}/json", ref),
                                        params={"size": 1}), True)

        attrs = await self.run(self._translated(inspect_size))
        size = attrs.get("SizeRw")
        return int(size) if size is not None else None

    def address_of(self, info: ContainerInfo) -> str:
        """The container's address on its Docker network (this server runs beside it)."""
        return info.address

    @staticmethod
    def _translated(fn: Callable[..., T]) -> Callable[..., T]:
        """``fn(client)`` with Docker's refusals as the seam's: 404 BackendNotFound; 409,
        or a container being removed, BackendConflict; others BackendRefused."""

        def call(client):
            try:
                return fn(client)
            except docker.errors.NotFound as err:
                raise BackendNotFound(str(err.explanation or err)) from err
            except docker.errors.APIError as err:
                explanation = str(err.explanation or err)
                if err.status_code == 409 or "removal" in explanation.lower():
                    raise BackendConflict(explanation) from err
                raise BackendRefused(explanation, err.status_code or 500) from err

        return call


class ExecStartError(Exception):
    """The engine refused to start an exec (404: container gone, 409: not running)."""

    def __init__(self, status: int, detail: str):
        try:
            message = json.loads(detail).get("message", detail)
        except (ValueError, AttributeError):
            message = detail
        super().__init__(f"exec start answered {status}: {message}")
        self.status = status
        self.message = message


@dataclass
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    truncated: bool = False


class ExecStream:
    """A running exec: read frames, write stdin, close stdin, learn the exit code.

    Without a TTY, Docker multiplexes stdout and stderr in frames of an 8-byte header
    (stream, 0, 0, 0, big-endian size) and the payload; with a TTY the bytes come raw and
    all count as stdout. Reading is pull-based, so a consumer that stops reading stops
    the process's output at the pipe: memory stays bounded.
    """

    def __init__(self, engine: DockerBackend, exec_id: str, reader, writer, *, tty: bool):
        self.engine = engine
        self.exec_id = exec_id
        self.tty = tty
        self._reader: asyncio.StreamReader = reader
        self._writer: asyncio.StreamWriter = writer
        self._stdin_closed = False
        self._pending = bytearray()  # bytes read but not yet returned as frames

    async def read(self, most: int = _READ_SIZE) -> tuple[int, bytes] | None:
        """The next ``(stream, data)``, or None at the end of output. Without a TTY, the
        payloads of consecutive frames of one stream that have already arrived come back
        joined (up to ``most`` bytes), so a fast producer costs few awaits."""
        try:
            if self.tty:
                data = await self._reader.read(max(most, _RECV_SIZE))
                return (STDOUT, data) if data else None
            while True:
                frame = self._take_frames(most)
                if frame is not None:
                    return frame
                data = await self._reader.read(_RECV_SIZE)
                if not data:
                    return None  # a partial frame at the end is dropped, as Docker's own client does
                self._pending += data
        except ConnectionError:
            return None

    def _take_frames(self, most: int = _READ_SIZE) -> tuple[int, bytes] | None:
        """Complete frames at the start of the buffer: the first one's stream and the
        joined payloads of it and of those that follow on the same stream (copied once,
        from views of the buffer)."""
        pending, offset, kind, parts = self._pending, 0, None, []
        taken, end = 0, len(pending)
        if end < 8:
            return None
        with memoryview(pending) as view:
            while end - offset >= 8:
                frame_kind, size = _DOCKER_HEADER.unpack_from(view, offset)
                if end - offset - 8 < size:
                    break
                if kind is not None and (frame_kind != kind or taken + size > most):
                    break
                if size:
                    kind = frame_kind
                    parts.append(view[offset + 8: offset + 8 + size])
                    taken += size
                offset += 8 + size
            data = b"".join(parts) if parts else b""
            for part in parts:
                part.release()
        if offset:
            del pending[:offset]
        return (kind, data) if parts else None

    async def write(self, data: bytes) -> None:
        """Write to the process's stdin, waiting while the pipe is full."""
        if self._stdin_closed:
            raise BrokenPipeError("stdin is closed")
        self._writer.write(data)
        await self._writer.drain()

    def write_nowait(self, data: bytes) -> None:
        """Queue bytes for stdin without waiting for the pipe (small control frames)."""
        if not self._stdin_closed:
            self._writer.write(data)

    def close_stdin(self) -> None:
        """Send end-of-file to the process's stdin (half-close the connection)."""
        if not self._stdin_closed:
            self._stdin_closed = True
            try:
                self._writer.write_eof()
            except (OSError, RuntimeError):
                pass

    def close(self) -> None:
        """Drop the connection (the process goes on if it ignores a closed stdout)."""
        self._stdin_closed = True
        self._writer.close()

    async def resize(self, *, rows: int, cols: int) -> None:
        await self.engine.exec_resize(self.exec_id, rows=rows, cols=cols)

    async def exit_code(self, *, wait: float = 5.0) -> int:
        """The exit code, once the engine has recorded it (-1 if it never does, or if the
        exec went away with its container)."""
        deadline = asyncio.get_running_loop().time() + wait
        delay = 0.005
        while True:
            try:
                info = await self.engine.exec_inspect(self.exec_id)
            except docker.errors.NotFound:
                return -1
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if asyncio.get_running_loop().time() > deadline:
                return -1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)


async def _read_body(reader, chunked: bool, timeout: float) -> bytes:
    """The rest of an answer's body (an error's), chunked or to the end."""
    if not chunked:
        return await asyncio.wait_for(reader.read(), timeout)
    body = b""
    while True:
        size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)).split(b";")[0], 16)
        data = await asyncio.wait_for(reader.readexactly(size + 2), timeout)
        if size == 0:
            return body
        body += data[:-2]
