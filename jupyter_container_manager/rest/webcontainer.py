"""WebContainer API (WebContainerController): ``/webcontainer/...`` mirrors ``@webcontainer/api``.

Thin handlers: parse, one manager call, serialise. Files stream both ways (raw ``PUT``
uploads are piped into the container as they arrive; ``readFile`` and zip exports are
written out chunk by chunk with ``flush``), and a streamed spawn answers chunked NDJSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..base_handler import ContainerAPIHandler
from ..body_timeout import BodyTimeout
from ..core.errors import BadRequest, ContainerManagerError, TooLarge
from ..core.models import ContainerInfo
from ..core.paths import workdir_for_name
from ..core.process_io import TIMEOUT_EXIT_CODE, TextDecoder, check_argv, check_env, follow
from ..core.validation import INVALID, check_body, flag, parse_json_object, port_number

ID = r"(?P<container_id>[^/]+)"
PATH = r"(?P<path>.*)"
BASE = rf"/webcontainer/{ID}"
FLUSH_SIZE = 256 * 1024


def ndjson(value: dict) -> bytes:
    return (json.dumps(value) + "\n").encode("utf-8")


class WebContainerHandler(ContainerAPIHandler):
    async def running(self, container_id: str) -> ContainerInfo:
        return await self.manager.require_running(container_id)

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    _unflushed = 0

    # APIHandler.finish() sets application/json unless told otherwise: streamed answers
    # pass their own type as set_content_type.

    async def send(self, chunk: bytes) -> None:
        """Write part of a streamed answer; flush (and so wait for a slow client) once
        FLUSH_SIZE bytes are pending: memory stays bounded, with few flushes."""
        self.write(chunk)
        self._unflushed += len(chunk)
        if self._unflushed >= FLUSH_SIZE:
            self._unflushed = 0
            await self.flush()

    def text_argument(self, name: str, default: str | None = None) -> str | None:
        """A query argument exactly as sent, strict UTF-8. Tornado's own getters turn
        control characters into spaces, so a NUL in a path would name another file."""
        values = self.request.query_arguments.get(name)
        if not values:
            return default
        try:
            return values[-1].decode("utf-8")
        except UnicodeDecodeError:
            message = f"The query argument '{name}' is not valid UTF-8"
            raise BadRequest(message, code="EINVAL") from None

    def required_argument(self, name: str) -> str:
        value = self.text_argument(name)
        if value is None:
            raise BadRequest(f"The query argument '{name}' is required", code=INVALID)
        return value


class BootHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = check_body(self.json_body(), "BootRequest")
        files = body.get("files")
        name = body.get("workdirName")
        workdir = workdir_for_name(name) if name is not None else None
        info = await self.manager.create_container(files=files, workdir=workdir)
        self.set_header("Location", self.url("containers", info.id))
        self.write_json({"containerId": info.id, "workdir": info.workdir}, status=201)


class TeardownHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def delete(self, container_id: str):
        await self.manager.delete_container(container_id)
        self.no_content()


ARCHIVE_TYPES = ("application/zip", "application/octet-stream")


class MountHandler(WebContainerHandler):
    """A JSON ``{tree, mountPoint?}``, or a zip archive as the raw body (what ``export``
    answers with ``format=zip``/``binary``) with ``?mountPoint=``."""

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type in ARCHIVE_TYPES:
            limit = self.manager.max_json_body
            if len(self.request.body or b"") > limit:
                raise TooLarge(f"The archive is larger than {limit} bytes "
                               "(c.ContainerManager.max_json_body)")
            mount_point = self.text_argument("mountPoint", "")
            info = await self.running(container_id)
            await self.manager.mount_zip(info, self.request.body or b"", mount_point)
            self.no_content()
            return
        body = check_body(self.json_body(), "MountRequest")
        tree, mount_point = body["tree"], body.get("mountPoint", "")
        info = await self.running(container_id)
        await self.manager.mount(info, tree, mount_point)
        self.no_content()


def _contents(body: dict) -> bytes:
    """The bytes of a checked writeFile body."""
    contents = body["contents"]
    if isinstance(contents, list):
        return bytes(contents)  # a Uint8Array sent as JSON array
    if body.get("encoding") != "base64":
        return contents.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(contents, validate=True)
    except (binascii.Error, ValueError) as err:
        raise BadRequest(f"'contents' is not valid base64 ({err})", code=INVALID) from err


@web.stream_request_body
class WriteFileHandler(BodyTimeout, WebContainerHandler):
    """``POST`` a JSON ``{path, contents, encoding?}``, or ``PUT ?path=`` raw bytes of any
    size, piped into the container as they arrive (backpressure through the exec)."""

    _writer = None
    _body: bytearray | None = None
    _failure: Exception | None = None

    async def prepare(self):
        await super().prepare()
        if self.answered or self.request.method == "OPTIONS":
            return  # a CORS preflight carries no credentials: APIHandler.options answers
        await self._start()
        self.watch_body()  # a body that stops arriving is cut

    @web.authenticated
    @authorized
    async def _start(self):
        manager = self.manager
        raw = self.request.method == "PUT"
        limit, setting = (
            (manager.max_file_size, "max_file_size")
            if raw
            else (manager.max_json_body, "max_json_body")
        )
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise TooLarge(f"{length} bytes are more than {limit} (c.ContainerManager.{setting})")
        # Tornado's own cut (a bare 400) stays above ours, which answers 413 in JSON.
        self.request.connection.set_max_body_size(limit * 2 + 1024)
        if not raw:
            self._body = bytearray()
            return
        path = self.required_argument("path")
        info = await self.running(self.path_kwargs["container_id"])
        size = int(length) if length.isdigit() else None
        self._writer = await self.manager.write_file_stream(info, path, size)

    async def receive_body(self, chunk: bytes):
        if self._failure is not None or self.answered:
            return
        try:
            if self._writer is not None:
                await self._writer.write(chunk)
                return
            if self._body is None:  # a refused upload: its bytes go nowhere
                return
            self._body += chunk
            if len(self._body) > self.manager.max_json_body:
                self._body.clear()
                raise TooLarge(
                    f"Request body is larger than {self.manager.max_json_body} bytes "
                    "(c.ContainerManager.max_json_body); PUT raw bytes instead"
                )
        except ContainerManagerError as err:
            self._failure = err

    def on_connection_close(self):
        if self._writer is not None:
            self.manager.background(self._writer.abort(), "abort a cut upload")
        super().on_connection_close()

    @web.authenticated
    @authorized
    async def put(self, container_id: str):
        self.body_received()
        if self._failure is not None:
            raise self._failure
        await self._writer.close()
        self.no_content()

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        self.body_received()
        if self._failure is not None:
            raise self._failure
        body = check_body(parse_json_object(bytes(self._body)), "WriteFileRequest")
        path = body["path"]
        data = _contents(body)
        info = await self.running(container_id)
        await self.manager.write_file(info, path, data)
        self.no_content()


class ReadFileHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str, path: str | None = None):
        encoding = self.get_query_argument("encoding", None)
        if encoding not in (None, "", "utf-8", "utf8", "binary", "buffer"):
            raise BadRequest(
                f"'encoding' must be 'utf-8' (text) or absent (bytes), not {encoding!r}",
                code=INVALID,
            )
        as_text = encoding in ("utf-8", "utf8")
        info = await self.running(container_id)
        reader = await self.manager.stream_file(info, path or "")
        decoder = TextDecoder() if as_text else None
        content_type = "text/plain; charset=utf-8" if as_text else "application/octet-stream"
        self.set_header("Content-Type", content_type)
        if not as_text:
            self.set_header("Content-Length", str(reader.size))
        try:
            async for chunk in reader:
                await self.send(decoder.decode(chunk).encode("utf-8") if decoder else chunk)
            if decoder:
                self.write(decoder.decode(b"", final=True).encode("utf-8"))
        except StreamClosedError:
            return
        finally:
            reader.close()
        self.finish(set_content_type=content_type)


class ReaddirHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str, path: str | None = None):
        with_types = flag(self.get_query_argument("withFileTypes", None), "withFileTypes")
        info = await self.running(container_id)
        entries = await self.manager.readdir(info, path or "", with_types)
        self.write_json(entries)


class MkdirHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "MkdirRequest")
        path, recursive = body["path"], body.get("recursive", False)
        info = await self.running(container_id)
        await self.manager.mkdir(info, path, recursive)
        self.no_content()


class RmHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def delete(self, container_id: str):
        path = self.required_argument("path")
        recursive = flag(self.get_query_argument("recursive", None), "recursive")
        force = flag(self.get_query_argument("force", None), "force")
        info = await self.running(container_id)
        await self.manager.rm(info, path, recursive, force)
        self.no_content()


class RenameHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "RenameRequest")
        old, new = body["oldPath"], body["newPath"]
        info = await self.running(container_id)
        await self.manager.rename(info, old, new)
        self.no_content()


class SpawnHandler(WebContainerHandler):
    """Run argv; answer ``{exitCode, output}`` at the end, or with ``stream: true`` NDJSON
    lines as the output comes. A client that goes away kills the process group."""

    _process = None

    def on_connection_close(self):
        if self._process is not None and self._process.running:
            self.manager.background(self._process.kill(), "kill a left spawn")
        super().on_connection_close()

    def _started(self, process) -> None:
        self._process = process

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "SpawnRequest")
        command, args = body["command"], body.get("args")
        check_argv(command, args)
        env = check_env(body.get("env"))
        cwd, timeout = body.get("cwd"), body.get("timeout")
        stream = body.get("stream", False)
        info = await self.running(container_id)
        if not stream:
            result = await self.manager.run(
                info,
                command,
                args,
                cwd=cwd,
                env=env,
                timeout=timeout,
                output_limit=self.manager.spawn_output_limit,
                started=self._started,
            )
            self.write_json(result)
            return
        process = await self.manager.spawn(info, command, args, cwd=cwd, env=env)
        self._started(process)
        process.close_stdin()
        content_type = "application/x-ndjson; charset=utf-8"
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        decoder = TextDecoder()

        async def send(chunk: bytes) -> None:
            text = decoder.decode(chunk)
            if text:
                self.write(ndjson({"output": text}))
                await self.flush()

        try:
            await self.flush()  # headers now: the client knows the process runs
            timed_out = await follow(process, send, timeout)
            tail = decoder.decode(b"", final=True)
            if tail:
                self.write(ndjson({"output": tail}))
            end = {"exitCode": TIMEOUT_EXIT_CODE if timed_out else await process.wait()}
            if timed_out:
                end["timedOut"] = True
        except StreamClosedError:
            await process.kill()
            return
        except ContainerManagerError as err:
            # The status is sent already (200): an engine outage that ended the stream
            # is told on the last line instead of an exit code nobody could learn.
            end = {"error": err.message, "code": err.code}
        self.finish(ndjson(end), set_content_type=content_type)


class UrlHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str):
        port = port_number(self.required_argument("port"))
        info = await self.manager.get_container(container_id)
        self.write_json({"port": port, "url": self.preview_url(info.id, port)})


class ExportHandler(WebContainerHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str):
        path = self.text_argument("path", "")
        form = self.get_query_argument("format", "json")
        if form not in ("json", "zip", "binary"):
            raise BadRequest(f"'format' must be 'json', 'zip' or 'binary', not {form!r}",
                             code=INVALID)
        info = await self.running(container_id)
        if form == "json":
            self.write_json(await self.manager.export(info, path))
            return
        reader = await self.manager.export_zip(info, path)
        name = posixpath.basename(reader.path.rstrip("/")) or "workspace"
        content_type = "application/zip"
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}.zip")
        try:
            async for chunk in reader:
                await self.send(chunk)
        except StreamClosedError:
            return
        finally:
            reader.close()
        self.finish(set_content_type=content_type)


default_handlers = [
    (r"/webcontainer/boot", BootHandler),
    (rf"{BASE}", TeardownHandler),
    (rf"{BASE}/mount", MountHandler),
    (rf"{BASE}/fs/writeFile", WriteFileHandler),
    (rf"{BASE}/fs/readFile/{PATH}", ReadFileHandler),
    (rf"{BASE}/fs/readdir", ReaddirHandler),
    (rf"{BASE}/fs/readdir/{PATH}", ReaddirHandler),
    (rf"{BASE}/fs/mkdir", MkdirHandler),
    (rf"{BASE}/fs/rm", RmHandler),
    (rf"{BASE}/fs/rename", RenameHandler),
    (rf"{BASE}/spawn", SpawnHandler),
    (rf"{BASE}/url", UrlHandler),
    (rf"{BASE}/export", ExportHandler),
]
