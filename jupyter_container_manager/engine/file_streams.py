"""The streaming halves of file operations: readers that are opened by ``await`` and read
by ``async for`` (one file, or a folder as zip), and the writer of an upload. Each holds
one exec of a constant script (fs_scripts.py); memory stays at one chunk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..core.errors import FileSystemError, TooLarge
from ..core.fstree import TarToZip
from . import fs_scripts as scripts
from .exec_output import ScriptOutput, StatusLineError

FEED_SIZE = 1024 * 1024
ABORT_WAIT = 10.0  # seconds an aborted upload's script gets to remove its temporary


async def feed(out: ScriptOutput, *parts: bytes) -> None:
    """Write ``parts`` to the exec's stdin then end it; a script that stopped early (its
    checks failed) closes the pipe, which is fine: its status line says why."""
    try:
        for data in parts:
            view = memoryview(data)
            for start in range(0, len(view), FEED_SIZE):
                await out.stream.write(view[start : start + FEED_SIZE])
        out.stream.close_stdin()
    except (ConnectionError, BrokenPipeError, OSError):
        pass


async def read_line(out: ScriptOutput) -> str | None:
    try:
        return await out.status_line()
    except StatusLineError:
        return None


Opener = Callable[[], Awaitable[tuple[ScriptOutput, "int | None"]]]


class _ExecReader:
    """Opened by ``await`` (errors raise there) and read by ``async for``."""

    def __init__(self, opener: Opener, path: str):
        self._opener = opener
        self.path = path
        self.size: int | None = None
        self._out: ScriptOutput | None = None
        self._opening: asyncio.Future | None = None
        self._done = False

    def __await__(self):
        return self.open().__await__()

    async def open(self):
        if self._out is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(self._opener())
            self._out, self.size = await self._opening
        return self

    def __aiter__(self):
        return self

    def close(self) -> None:
        self._done = True
        if self._out is not None:
            self._out.close()

    async def aclose(self) -> None:
        self.close()


class FileReader(_ExecReader):
    """The chunks of one file, exactly ``size`` bytes."""

    _received = 0

    async def __anext__(self) -> bytes:
        await self.open()
        left = self.size - self._received
        if self._done or left <= 0:
            self.close()
            raise StopAsyncIteration
        chunk = await self._out.chunk()
        if chunk is None:
            self.close()
            code = scripts.code_from_stderr(self._out.stderr)
            raise FileSystemError(code, "read", self.path)
        chunk = chunk[:left]
        self._received += len(chunk)
        return chunk


class ZipReader(_ExecReader):
    """The zip of a folder, converted from the container's tar stream as it comes."""

    _zip: TarToZip | None = None

    async def __anext__(self) -> bytes:
        await self.open()
        if self._zip is None:
            self._zip = TarToZip()
        while not self._done:
            chunk = await self._out.chunk()
            try:
                if chunk is None:
                    self.close()
                    return self._zip.close()
                data = self._zip.feed(chunk)
            except ValueError as err:
                self.close()
                raise FileSystemError("EIO", "read", self.path) from err
            if data:
                return data
        raise StopAsyncIteration


class UploadWriter:
    """What every upload writer shares: the file's path, the bytes taken so far and the
    refusal past the limit, after aborting (so nothing half-written stays). Subclasses
    write, close and abort."""

    too_large = "More than {limit} bytes (c.ContainerManager.max_file_size)"

    def __init__(self, target: str, limit: int):
        self.path = target
        self._limit = limit
        self.written = 0
        self._finished = False

    async def _take(self, chunk: bytes) -> None:
        """Count ``chunk`` in; raises when the upload is over or past its limit."""
        if self._finished:
            raise FileSystemError("EINVAL", "write", self.path)
        self.written += len(chunk)
        if self.written > self._limit:
            await self.abort()
            raise TooLarge(self.too_large.format(limit=self._limit))

    async def abort(self) -> None:
        raise NotImplementedError


class FileWriter(UploadWriter):
    """An upload in progress into one file (see ContainerFiles.write_file_stream).

    The bytes go to a temporary beside the file (fs_scripts.WRITE); :meth:`close` sends
    the end marker, and only then does the script rename the temporary over the file. An
    upload that ends any other way (:meth:`abort`, a 413, the server killed: its stdin
    closes without the marker) leaves the old file as it was and no temporary."""

    def __init__(
        self,
        target: str,
        out: ScriptOutput,
        limit: int,
        kill: Callable[[], Awaitable[None]],
        failure: Callable[[str, str], Awaitable[Exception]],
        end_marker: bytes = b"",
        cleanup: Callable[[], Awaitable[None]] | None = None,
        done: Callable[[], None] | None = None,
    ):
        super().__init__(target, limit)
        self._out = out
        self._kill = kill  # kills the writing process group
        self._failure = failure  # (code, syscall) -> the error to raise (404 if gone...)
        self._end_marker = end_marker
        self._cleanup = cleanup  # removes the temporary when the script could not
        self._done = done  # called once the upload is over, whichever way

    def _over(self) -> None:
        if self._done is not None:
            done, self._done = self._done, None
            done()

    async def write(self, chunk: bytes) -> None:
        await self._take(chunk)
        try:
            await self._out.stream.write(chunk)
        except (ConnectionError, BrokenPipeError, OSError) as err:
            self._finished = True
            try:
                await self._out.drain()
            finally:
                self._out.close()
                self._over()
            code = scripts.code_from_stderr(self._out.stderr)
            raise await self._failure(code, "write") from err

    async def close(self) -> None:
        """End the upload: the file now holds the new bytes, all at once; raises if the
        container could not write every byte (the old file then stays as it was)."""
        if self._finished:
            return
        self._finished = True
        try:
            try:
                await self._out.stream.write(self._end_marker)
            except (ConnectionError, BrokenPipeError, OSError):
                pass  # the script ended early: its answer below says why
            self._out.stream.close_stdin()
            done = await read_line(self._out)
        finally:
            self._out.close()
            self._over()
        if done != "DONE":
            raise await self._failure(scripts.code_from_stderr(self._out.stderr), "write")

    async def abort(self) -> None:
        """Stop the upload: its input ends without the end marker, so the script removes
        the temporary and the file keeps its old bytes. A script that does not end in
        ABORT_WAIT seconds is killed and its temporary removed by another exec."""
        if self._finished:
            return
        self._finished = True
        try:
            self._out.stream.close_stdin()
            await asyncio.wait_for(self._out.drain(), ABORT_WAIT)
        except Exception:  # noqa: BLE001 - stuck, or its stream broke: the hard way
            await self._kill()
            if self._cleanup is not None:
                await self._cleanup()
        finally:
            self._out.close()
            self._over()


class BufferedOutput:
    """A file the agent read whole (a small one), as the one chunk of a ScriptOutput."""

    def __init__(self, data: bytes):
        self._data: bytes | None = data
        self.stderr = b""

    async def chunk(self) -> bytes | None:
        data, self._data = self._data, None
        return data or None

    def close(self) -> None:
        self._data = None


class BufferedWriter(UploadWriter):
    """A small upload of known size (see ContainerFiles.write_file_stream): its bytes are
    held here (at most ``size``) and, at :meth:`close`, checked and written all at once
    through ``commit`` (an atomic write_file: one request to the container's agent)."""

    too_large = "More than the {limit} bytes announced (Content-Length)"

    def __init__(self, target: str, size: int,
                 commit: Callable[[bytes], Awaitable[None]]):
        super().__init__(target, size)
        self._commit = commit
        self._data = bytearray()

    async def write(self, chunk: bytes) -> None:
        await self._take(chunk)
        self._data += chunk

    async def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        data, self._data = bytes(self._data), bytearray()
        await self._commit(data)

    async def abort(self) -> None:
        self._finished = True
        self._data = bytearray()
