"""Files inside a container, with Node's ``fs.promises`` semantics.

Bytes move as bytes, through the Docker archive API (mount) or an exec's stdin and stdout
(everything else), never through a shell line. A container with an agent (agent.py) does
the small operations in the agent's own process, with Node's ``fs`` (agent_fs.js): no
fork, no exec. Otherwise, and for files past AGENT_FILE_LIMIT, each is one exec of a
constant script (fs_scripts.py). Either way the checks and the work happen in the same
process, with the same answers. Paths are workdir-relative; ``..`` escapes are refused
before the container is asked (paths.py), symlink escapes inside the container.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

from ..core.container_user import parse_spec
from ..core.errors import FileSystemError, TooLarge
from ..core.fstree import Tree, entries_to_tar, iter_entries, tar_to_tree, zip_entries
from ..core.models import ContainerInfo
from ..core.paths import TEMP_PREFIX, relative, resolve
from ..tasks import TaskOwner
from . import fs_scripts as scripts
from .agent import UPLOAD_VERSION, AgentGone, Agents
from .agent_lane import ready_lane, use_lane
from .backend import BackendConflict, BackendNotFound, BackendRefused, EngineBackend
from .exec_output import (
    ScriptOutput,
    StatusLineError,
    kill_group,
    lost_container,
    start_script,
)
from .file_streams import (
    BufferedOutput,
    BufferedWriter,
    FileReader,
    FileWriter,
    ZipReader,
    feed,
    read_line,
)
from .lane_upload import LaneWriter

AGENT_UPLOAD_LIMIT = 1024 * 1024  # larger uploads keep a docker exec's pipe backpressure
AGENT_FILE_LIMIT = 1024 * 1024  # files the agent reads or writes in one reply or request
_TYPES = {"d": "directory", "l": "symlink", "f": "file"}
DEFAULT_MAX_FILE_SIZE = 1024**3
DEFAULT_MAX_LISTING = 64 * 1024**2
SWEEP_TIMEOUT = 120.0  # seconds a sweep of leftover temporaries may take in one container
SWEEP_CONCURRENCY = 2
COMMIT_BATCH = 128 * 1024  # bytes of paths per exec renaming a mount's files into place
log = logging.getLogger(__name__)


class ContainerFiles:
    """Every write that replaces a file is atomic: the new bytes go to a temporary beside
    it (``.jcm-tmp-<token>``, paths.TEMP_PREFIX), renamed over it once complete. The
    temporaries a crash left (server killed, container stopped mid-write) are removed by
    a sweep: once per container and start of it, on the first use after the server
    started (see :meth:`sweep_soon`)."""

    def __init__(self, engine: EngineBackend, settings=None, agents: Agents | None = None, *,
                 tasks: TaskOwner | None = None):
        self.engine = engine
        self.tasks = tasks or TaskOwner(log)  # sweeps outlive the request that began them
        self.settings = settings
        self.agents = agents  # the containers' resident agents (engine/agent.py)
        # (docker id, pid of its start) -> tokens of writes going on: a write begun before
        # the container's last start died with it, whatever its writer still thinks.
        self._in_flight: dict[tuple[str, int], set[str]] = {}
        self._instance = secrets.token_hex(4)  # this server's tokens start with it
        self._issued = 0  # tokens issued so far (their counter)
        self._swept: set[tuple[str, int]] = set()  # (docker id, pid of its start) swept
        self._sweeps: set[asyncio.Task] = set()
        self._sweep_slots: asyncio.Semaphore | None = None

    @property
    def max_file_size(self) -> int:
        return getattr(self.settings, "max_file_size", DEFAULT_MAX_FILE_SIZE)

    @property
    def max_listing(self) -> int:
        """Largest readdir or JSON export the server collects (max_json_body)."""
        return getattr(self.settings, "max_json_body", DEFAULT_MAX_LISTING)

    # --- plumbing -----------------------------------------------------------------

    async def _script(
        self, info: ContainerInfo, script: str, *args: str, stdin: bool = False,
        streamed: bool = False,
    ) -> ScriptOutput:
        """Run one of fs_scripts; through the agent unless its stdin is ``streamed`` (an
        upload of any size keeps the pipe's own backpressure of a docker exec)."""
        self.sweep_soon(info)
        return await self._start(info, script, *args, stdin=stdin, streamed=streamed)

    async def _start(
        self, info: ContainerInfo, script: str, *args: str, stdin: bool = False,
        streamed: bool = False,
    ) -> ScriptOutput:
        agent = None
        if self.agents is not None and not streamed:
            agent = await self.agents.get(info.docker_id)
        argv = ["sh", "-c", script, "sh", info.workdir, *args]
        return await start_script(self.engine, info, argv, stdin=stdin, agent=agent)

    async def _agent_fs(
        self, info: ContainerInfo, request: dict, data: bytes = b""
    ) -> tuple[dict, bytes] | None:
        """A file operation done by the container's agent itself: its answer and bytes;
        None when there is no such agent (or it ended, or it hands the operation back):
        the script does it then."""
        if self.agents is None:
            return None
        self.sweep_soon(info)
        agent = await self.agents.get(info.docker_id)
        if agent is None or not agent.does_files:
            return None
        use_lane(self.agents, agent, info.id, self.engine.address_of(info))
        try:
            reply, payload = await agent.fs({"workdir": info.workdir, **request}, data)
        except AgentGone:
            return None
        if reply.get("fallback"):
            return None
        return reply, payload

    async def _agent_does_files(self, info: ContainerInfo) -> bool:
        """Whether the container has an agent that does file operations itself."""
        if self.agents is None:
            return False
        agent = await self.agents.get(info.docker_id)
        return agent is not None and agent.does_files

    async def _agent_answer(
        self, info: ContainerInfo, got: tuple[dict, bytes], syscall: str, path: str, dest=None
    ) -> tuple[dict, bytes]:
        """The agent's answer, or the error it reports (as :meth:`_status` does)."""
        reply, payload = got
        code = reply.get("code")
        if code:
            raise await self._failure(info, code, reply.get("syscall") or syscall, path, dest)
        return reply, payload

    # --- temporaries --------------------------------------------------------------

    def _begin(self, info: ContainerInfo) -> str:
        """A new token (the name of a temporary) known to be in use until :meth:`_end`."""
        token = f"{self._instance}{self._issued:010d}{secrets.token_hex(8)}"
        self._issued += 1
        self._in_flight.setdefault((info.docker_id, info.pid), set()).add(token)
        return token

    def _end(self, info: ContainerInfo, token: str) -> None:
        key = (info.docker_id, info.pid)
        tokens = self._in_flight.get(key)
        if tokens is not None:
            tokens.discard(token)
            if not tokens:
                del self._in_flight[key]

    def sweep_soon(self, info: ContainerInfo) -> None:
        """Remove, in the background, the temporaries an earlier crash left in this
        container: once per start of the container (its pid) in this server's life.
        Called on each use; the first one after a start runs the sweep."""
        if info.status not in ("running", "") or not info.docker_id:
            return
        key = (info.docker_id, info.pid)
        if key in self._swept:
            return
        self._swept.add(key)
        task = self.tasks.spawn(self.sweep(info), f"sweep temporaries in {info.id}")
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)

    async def sweep(self, info: ContainerInfo, token: str = "", where: str = ".") -> None:
        """Remove temporaries under ``where`` (workdir-relative): those of ``token``; or,
        without one, those no write is using: this server's that are not in progress
        (known by their token), an earlier server's once older than now (fs_scripts.SWEEP).
        It runs in the container (one find), never on the event loop; errors are logged."""
        if self._sweep_slots is None:
            self._sweep_slots = asyncio.Semaphore(SWEEP_CONCURRENCY)
        try:
            async with self._sweep_slots:
                before = str(int(time.time()))
                keep = sorted(self._in_flight.get((info.docker_id, info.pid), ()))
                out = await self._start(
                    info, scripts.SWEEP, before, where, token, self._instance,
                    str(self._issued), *keep,
                )
                try:
                    await asyncio.wait_for(out.drain(), SWEEP_TIMEOUT)
                finally:
                    out.close()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - gone or stopped: the next start sweeps
            log.debug("sweep of %s in %s: %r", TEMP_PREFIX, info.docker_id[:12], err)

    async def close(self) -> None:
        for task in list(self._sweeps):
            task.cancel()
        for task in list(self._sweeps):
            with contextlib.suppress(BaseException):
                await task

    async def _status(
        self, info: ContainerInfo, out: ScriptOutput, syscall: str, path: str, dest=None
    ) -> str:
        """The value of the script's ``OK`` line, else the error it reports."""
        try:
            line = await out.status_line()
        except StatusLineError:
            line = None
        ok, value = scripts.parse_status(line)
        if ok:
            return value
        out.close()
        code = value or scripts.code_from_stderr(out.stderr)
        raise await self._failure(info, code, syscall, path, dest)

    async def _failure(
        self, info: ContainerInfo, code: str, syscall: str, path: str, dest=None
    ) -> Exception:
        """The error of a script that failed with ``code``. A script that ended without
        saying why (EIO) most often lost its container to a concurrent stop or delete:
        that answers 404 or 409, not an i/o error."""
        if code == "EIO":
            lost = await lost_container(self.engine, info)
            if lost is not None:
                return lost
        return FileSystemError(code, syscall, path, dest)

    async def _run(self, info, script, syscall, path, *args, dest=None) -> str:
        """Run a script that answers one status line; its value, or the error."""
        out = await self._script(info, script, *args)
        try:
            return await self._status(info, out, syscall, path, dest)
        finally:
            out.close()

    async def _collect(self, out: ScriptOutput, limit: int, what: str) -> bytes:
        data = bytearray()
        while (chunk := await out.chunk()) is not None:
            data += chunk
            if len(data) > limit:
                out.close()
                raise TooLarge(
                    f"{what} is larger than {limit} bytes (c.ContainerManager.max_json_body)"
                )
        return bytes(data)

    async def _kill_group(self, info: ContainerInfo, group: str) -> None:
        agent = await self.agents.get(info.docker_id) if self.agents is not None else None
        await kill_group(self.engine, info, "KILL", group, agent)

    # --- reading ------------------------------------------------------------------

    def stream_file(self, info: ContainerInfo, path: str) -> FileReader:
        """The bytes of a file as they come. ``reader = await files.stream_file(...)``
        raises its errors (ENOENT, EISDIR, 413...) and knows ``reader.size``; ``async for``
        then gives the chunks (``async for`` alone works too)."""
        target = resolve(info.workdir, path, "open")

        async def open_file() -> tuple[ScriptOutput | BufferedOutput, int]:
            limit = min(AGENT_FILE_LIMIT, self.max_file_size)
            got = await self._agent_fs(info, {"op": "read", "path": target, "limit": limit})
            if got is not None:  # a larger file: the reply says fallback, the script reads
                _, data = await self._agent_answer(info, got, "open", target)
                return BufferedOutput(data), len(data)
            out = await self._script(info, scripts.READ, target)
            size = int(await self._status(info, out, "open", target))
            if size > self.max_file_size:
                out.close()
                raise TooLarge(
                    f"{target} has {size} bytes, more than {self.max_file_size} "
                    "(c.ContainerManager.max_file_size)"
                )
            return out, size

        return FileReader(open_file, target)

    async def read_file(self, info: ContainerInfo, path: str) -> bytes:
        reader = await self.stream_file(info, path)
        return b"".join([chunk async for chunk in reader])

    async def readdir(
        self, info: ContainerInfo, path: str, with_types: bool = False
    ) -> list[str] | list[dict]:
        target = resolve(info.workdir, path, "scandir")
        got = await self._agent_fs(info, {"op": "readdir", "path": target})
        if got is not None:
            _, listing = await self._agent_answer(info, got, "scandir", target)
            if len(listing) > self.max_listing:
                raise TooLarge(f"The listing of {target} is larger than {self.max_listing} "
                               "bytes (c.ContainerManager.max_json_body)")
        else:
            out = await self._script(info, scripts.READDIR, target)
            try:
                await self._status(info, out, "scandir", target)
                listing = await self._collect(out, self.max_listing, f"The listing of {target}")
            finally:
                out.close()
        entries = []
        for entry in listing.split(b"\0"):
            if entry:
                name = entry[1:].decode("utf-8", errors="replace")
                entries.append((name, _TYPES.get(chr(entry[0]), "file")))
        entries.sort()
        if with_types:
            return [{"name": name, "type": kind} for name, kind in entries]
        return [name for name, _ in entries]

    async def stat(self, info: ContainerInfo, path: str) -> dict:
        """``{type: file|directory|other, size, mtime (ms since the epoch), mode}``; like
        Node's ``fs.stat`` it follows a last symlink. ``mode`` is st_mode (type bits too)."""
        target = resolve(info.workdir, path, "stat")
        got = await self._agent_fs(info, {"op": "stat", "path": target})
        if got is not None:
            reply, _ = await self._agent_answer(info, got, "stat", target)
            return {"type": reply["kind"], "size": int(reply["size"]),
                    "mtime": int(reply["mtime"]) * 1000, "mode": int(reply["mode"])}
        kind, size, mtime, mode = (
            await self._run(info, scripts.STAT, "stat", target, target)
        ).split()
        return {"type": kind, "size": int(size), "mtime": int(mtime) * 1000, "mode": int(mode, 16)}

    # --- writing ------------------------------------------------------------------

    async def write_file(self, info: ContainerInfo, path: str, data: bytes) -> None:
        """Create or replace a file; its folder must exist (ENOENT), as in Node."""
        target = resolve(info.workdir, path, "open")
        if len(data) > self.max_file_size:
            raise TooLarge(
                f"{len(data)} bytes are more than {self.max_file_size} "
                "(c.ContainerManager.max_file_size)"
            )
        token = self._begin(info)
        if len(data) <= AGENT_FILE_LIMIT:
            try:
                got = await self._agent_fs(
                    info, {"op": "write", "path": target, "token": token}, data)
                if got is not None:
                    await self._agent_answer(info, got, "open", target)
                    return
            finally:
                self._end(info, token)
            token = self._begin(info)
        try:
            out = await self._script(info, scripts.WRITE, target, token, stdin=True)
        except BaseException:
            self._end(info, token)
            raise
        marker = (scripts.END_MARKER + token).encode()
        feeder = asyncio.ensure_future(feed(out, data, marker))
        try:
            await self._status(info, out, "open", target)
            await feeder
            if await read_line(out) != "DONE":
                code = scripts.code_from_stderr(out.stderr)
                raise await self._failure(info, code, "write", target)
        finally:
            # Cut short (the caller went away): the script's input ends without the
            # marker, so it removes its temporary and the file keeps its old bytes.
            feeder.cancel()
            out.close()
            self._end(info, token)

    async def write_file_stream(
        self, info: ContainerInfo, path: str, size: int | None = None
    ) -> FileWriter:
        """A writer for a file of any size: ``await w.write(chunk)`` (waits while the
        container is slower), then ``await w.close()``, or ``await w.abort()``. Errors
        about the path (ENOENT, EISDIR, EACCES...) are raised here, before any byte; for
        a small upload of known size that the agent writes, at ``close()`` (the check
        and the write are one request). The file changes only at ``close()``, all at
        once: over the agent's lane where it has one (LaneWriter, lane_upload.py), else
        through a docker exec of WRITE (FileWriter)."""
        target = resolve(info.workdir, path, "open")
        if size is not None and size <= AGENT_FILE_LIMIT and await self._agent_does_files(info):
            # A small upload of known size: held here, then checked and written by the
            # agent in one request at close(); an error about the path answers then.
            return BufferedWriter(target, size, lambda data: self.write_file(info, path, data))
        lane_writer = await self._lane_writer(info, target)
        if lane_writer is not None:
            return lane_writer
        # A small upload of known size may go through the agent (which holds its input).
        streamed = size is None or size > AGENT_UPLOAD_LIMIT
        token = self._begin(info)
        try:
            out = await self._script(
                info, scripts.WRITE, target, token, stdin=True, streamed=streamed
            )
            try:
                group = await self._status(info, out, "open", target)
            except BaseException:
                out.close()
                raise
        except BaseException:
            self._end(info, token)
            raise
        return FileWriter(
            target,
            out,
            self.max_file_size,
            kill=lambda: self._kill_group(info, group),
            failure=lambda code, syscall: self._failure(info, code, syscall, target),
            end_marker=(scripts.END_MARKER + token).encode(),
            cleanup=lambda: self.sweep(info, token),
            done=lambda: self._end(info, token),
        )

    async def _lane_writer(self, info: ContainerInfo, target: str) -> LaneWriter | None:
        """A writer over the agent's lane (lane_upload.py) where it has one; None: the
        upload goes through a docker exec (no agent, no lane, a folder written in place)."""
        if self.agents is None:
            return None
        self.sweep_soon(info)
        agent = await self.agents.get(info.docker_id)
        if agent is None or not agent.does_files or agent.version < UPLOAD_VERSION:
            return None
        lane = await ready_lane(self.agents, agent, info.id, self.engine.address_of(info))
        if lane is None:
            return None
        token = self._begin(info)
        try:
            writer = await LaneWriter.open(
                lane, target, {"workdir": info.workdir, "token": token}, self.max_file_size,
                failure=lambda code, syscall: self._failure(info, code, syscall, target),
                cleanup=lambda: self.sweep(info, token),
                done=lambda: self._end(info, token),
            )
        except BaseException:
            self._end(info, token)
            raise
        if writer is None:
            self._end(info, token)
        return writer

    async def mkdir(self, info: ContainerInfo, path: str, recursive: bool = False) -> None:
        target = resolve(info.workdir, path, "mkdir")
        got = await self._agent_fs(info, {"op": "mkdir", "path": target, "recursive": recursive})
        if got is not None:
            await self._agent_answer(info, got, "mkdir", target)
            return
        await self._run(info, scripts.MKDIR, "mkdir", target, target, "1" if recursive else "0")

    async def rm(
        self, info: ContainerInfo, path: str, recursive: bool = False, force: bool = False
    ) -> None:
        target = resolve(info.workdir, path, "rm")
        flags = ("1" if recursive else "0", "1" if force else "0")
        try:
            got = await self._agent_fs(
                info, {"op": "rm", "path": target, "recursive": recursive, "force": force})
            if got is not None:
                await self._agent_answer(info, got, "rm", target)
                return
            await self._run(info, scripts.RM, "rm", target, target, *flags)
        except FileSystemError as err:
            if not (force and err.code == "ENOENT"):
                raise

    async def rename(self, info: ContainerInfo, old: str, new: str) -> None:
        old_target = resolve(info.workdir, old, "rename")
        new_target = resolve(info.workdir, new, "rename")
        got = await self._agent_fs(info, {"op": "rename", "path": old_target, "dest": new_target})
        if got is not None:
            await self._agent_answer(info, got, "rename", old_target, dest=new_target)
            return
        await self._run(
            info, scripts.RENAME, "rename", old_target, old_target, new_target, dest=new_target
        )

    async def mount(
        self, info: ContainerInfo, tree: Tree, mount_point: str = "", *, atomic: bool = True
    ) -> None:
        """Write a FileSystemTree into ``<workdir>/<mount_point>`` (folders made as needed,
        existing files replaced) with one archive upload. Docker's extraction replaces a
        symlink where the tree has a folder, so a tree never writes through a link.
        ``atomic=False`` (the files of a container being created, which nobody sees until
        they are written and which is removed if they cannot be): extracted in place, in
        one archive upload, without temporaries and their renames."""
        entries = ((path, data, None) for path, data in iter_entries(tree))
        await self._mount(info, mount_point, lambda: entries, atomic=atomic)

    async def mount_zip(self, info: ContainerInfo, data: bytes, mount_point: str = "") -> None:
        """Write the files and folders of a zip archive (as ``export_zip`` makes them) into
        ``<workdir>/<mount_point>``, as :meth:`mount` writes a tree; executable files stay
        executable. Unpacked, it may hold at most max_json_body bytes."""
        await self._mount(info, mount_point, lambda: zip_entries(data, self.max_listing))

    async def _mount(
        self, info: ContainerInfo, mount_point: str, entries, *, atomic: bool = True
    ) -> None:
        """Each file of the archive is extracted beside its place, under a temporary
        name, then renamed over it (COMMIT): a file is replaced all at once, never seen
        half written, and a mount cut short leaves the old files as they were (each file
        is atomic, not the mount as a whole). Folders are made by the extraction."""
        target = resolve(info.workdir, mount_point or "", "mount")
        prefix = relative(info.workdir, target).strip("/")
        token = self._begin(info)
        pairs: list[tuple[str, str]] = []

        def staged():
            for index, (path, data, mode) in enumerate(entries()):
                if data is None or not atomic:
                    yield path, data, mode
                    continue
                folder, _, _name = path.rpartition("/")
                temporary = f"{folder}/" if folder else ""
                temporary += f"{TEMP_PREFIX}{token}-{index}"
                final = f"{prefix}/{path}" if prefix else path
                pairs.append((f"{prefix}/{temporary}" if prefix else temporary, final))
                yield temporary, data, mode

        async def put():
            # The files belong to the container's user (see container_user.py); the tar is
            # made on a thread, off the event loop.
            archive_bytes = await asyncio.to_thread(
                entries_to_tar, staged(), prefix, parse_spec(info.user))
            try:
                await self.engine.put_archive(info.docker_id, info.workdir, archive_bytes)
            except BackendNotFound as err:
                raise FileSystemError("ENOENT", "mount", info.workdir) from err
            except (BackendConflict, BackendRefused) as err:
                code = scripts.code_from_stderr(str(err))
                raise FileSystemError(code, "mount", target) from err

        if atomic:
            self.sweep_soon(info)
        try:
            await put()
            await self._commit(info, pairs, target)
        except BaseException:
            if pairs:
                await asyncio.shield(self.sweep(info, token, prefix or "."))
            raise
        finally:
            self._end(info, token)

    async def _commit(self, info: ContainerInfo, pairs: list[tuple[str, str]], target: str):
        """Rename a mount's temporaries over their names, in batches of COMMIT_BATCH."""
        batch: list[str] = []
        size = 0
        for index, (temporary, final) in enumerate(pairs):
            batch += [temporary, final]
            size += len(temporary) + len(final) + 2
            if size >= COMMIT_BATCH or index == len(pairs) - 1:
                await self._run(info, scripts.COMMIT, "mount", target, *batch)
                batch, size = [], 0

    # --- export -------------------------------------------------------------------

    async def export(self, info: ContainerInfo, path: str = "") -> Tree:
        """The FileSystemTree of a folder (text files as text, others base64); symlinks
        and special files are left out. Bounded by max_json_body."""
        target = resolve(info.workdir, path, "scandir")
        out = await self._script(info, scripts.EXPORT, target)
        try:
            await self._status(info, out, "scandir", target)
            archive = await self._collect(
                out, self.max_listing, f"The export of {target} (use format=zip)"
            )
        finally:
            out.close()
        return await asyncio.to_thread(tar_to_tree, archive, 0)

    def export_zip(self, info: ContainerInfo, path: str = "") -> ZipReader:
        """A zip of a folder, streamed: ``await`` it for the errors, then ``async for``."""
        target = resolve(info.workdir, path, "scandir")

        async def open_export() -> tuple[ScriptOutput, int | None]:
            out = await self._script(info, scripts.EXPORT, target)
            await self._status(info, out, "scandir", target)
            return out, None

        return ZipReader(open_export, target)
