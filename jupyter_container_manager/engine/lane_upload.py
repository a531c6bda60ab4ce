"""A large upload over the agent's lane: FileWriter's interface, no docker exec.

Writing into an exec's stdin goes through dockerd and the containerd shim, which caps an
upload well below what the engine takes as an archive. Where the agent has a lane
(agent_lane.py), the upload goes over it instead, as a few requests (agent_upload.js):
``upload-open`` makes the temporary beside the file after the checks of every write (the
same path checks, Node codes, owner and mode, and temporary name as fs_scripts.WRITE, so a
sweep finds what a dead agent left), ``upload-append`` adds the bytes in pieces of
PIECE bytes with at most WINDOW of them unanswered (a container slower than the client
slows the client: backpressure), ``upload-commit`` renames the temporary over the file
once every byte is in, ``upload-abort`` removes it.

Nothing between: the file keeps its old bytes until the commit. An upload cut short (the
client went away, a 413, an error) is aborted; the lane cut mid-upload (or the server
gone) ends the connection the upload belongs to, and the agent removes its temporary;
the agent killed with its container leaves it to the sweep at the next start. An upload
never falls back to the exec stream half way: a lane that broke answers an error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

from .agent_lane import AgentLane, LaneBroken
from .file_streams import UploadWriter

PIECE = 1024 * 1024  # bytes per append request
WINDOW = 3  # append requests unanswered at most
ABORT_WAIT = 10.0  # seconds the agent gets to answer an abort (else the sweep's turn)


class LaneWriter(UploadWriter):
    """An upload in progress into one file over the lane (see ContainerFiles.
    write_file_stream): ``write`` (waits while WINDOW pieces are unanswered), ``close``
    (the file holds the new bytes, all at once) or ``abort`` (it keeps the old ones)."""

    def __init__(
        self,
        lane: AgentLane,
        target: str,
        request: dict,
        limit: int,
        failure: Callable[[str, str], Awaitable[Exception]],
        cleanup: Callable[[], Awaitable[None]],
        done: Callable[[], None],
    ):
        super().__init__(target, limit)
        self._lane = lane
        self._request = request  # workdir and token, in every request of the upload
        self._failure = failure  # (code, syscall) -> the error to raise (404 if gone...)
        self._cleanup = cleanup  # removes the temporary when the agent did not answer
        self._done = done  # called once the upload is over, whichever way
        self._buffer = bytearray()
        self._unanswered: deque[asyncio.Future] = deque()

    @classmethod
    async def open(cls, lane: AgentLane, target: str, request: dict, limit: int,
                   failure: Callable[[str, str], Awaitable[Exception]],
                   cleanup: Callable[[], Awaitable[None]],
                   done: Callable[[], None]) -> LaneWriter | None:
        """The temporary is made, the writer ready; an error about the path raises here,
        before any byte. None when the upload must go the exec's way: the lane broke
        before the answer (nothing written), or the folder is not the user's to write
        (the script writes in place there)."""
        try:
            reply, _ = await lane.fs({**request, "op": "upload-open", "path": target})
        except LaneBroken:
            return None  # had the agent made the temporary, the connection's end removes it
        if reply.get("fallback"):
            return None
        if reply.get("code"):
            raise await failure(reply["code"], reply.get("syscall") or "open")
        return cls(lane, target, request, limit, failure, cleanup, done)

    def _over(self) -> None:
        self._finished = True
        done, self._done = self._done, None
        if done is not None:
            done()

    def _send(self, op: str, data: bytes | bytearray = b"", **fields) -> asyncio.Future:
        answer = asyncio.ensure_future(self._lane.fs({**self._request, "op": op, **fields}, data))
        answer.add_done_callback(lambda f: f.cancelled() or f.exception())  # read in _settle
        return answer

    async def _settle(self, answer: asyncio.Future) -> None:
        """The answer of one request; its error (the upload is then over) raised."""
        try:
            reply, _ = await answer
        except LaneBroken:
            reply = {"code": "EIO", "syscall": "write"}  # the agent removed the temporary
        code = reply.get("code")
        if code:
            self._abandon()
            raise await self._failure(code, reply.get("syscall") or "write")

    def _abandon(self) -> None:
        for answer in self._unanswered:
            answer.cancel()
        self._unanswered.clear()
        self._buffer = bytearray()
        self._over()

    async def write(self, chunk: bytes) -> None:
        await self._take(chunk)
        self._buffer += chunk
        while len(self._buffer) >= PIECE:
            piece = self._buffer[:PIECE]
            del self._buffer[:PIECE]
            self._unanswered.append(self._send("upload-append", piece))
            while self._unanswered and (len(self._unanswered) >= WINDOW
                                        or self._unanswered[0].done()):
                await self._settle(self._unanswered.popleft())

    async def close(self) -> None:
        """End the upload: the file now holds the new bytes, all at once; raises if the
        container could not write every byte (the old file then stays as it was)."""
        if self._finished:
            return
        try:
            if self._buffer:
                piece, self._buffer = self._buffer, bytearray()
                self._unanswered.append(self._send("upload-append", piece))
            while self._unanswered:
                await self._settle(self._unanswered.popleft())
            await self._settle(self._send("upload-commit", size=self.written))
        except BaseException:
            if not self._finished:  # cancelled: the upload is not complete
                await asyncio.shield(self.abort())
            raise
        self._over()

    async def abort(self) -> None:
        """Stop the upload: the agent removes the temporary (answered before this returns)
        and the file keeps its old bytes."""
        if self._finished:
            return
        lane = self._lane
        self._abandon()
        if not lane.alive:
            return  # the connection's end removed it
        try:
            await asyncio.wait_for(
                lane.fs({**self._request, "op": "upload-abort"}), ABORT_WAIT)
        except LaneBroken:
            pass  # the connection's end removed it
        except Exception:  # noqa: BLE001 - no answer: the sweep removes it
            with contextlib.suppress(Exception):
                await self._cleanup()
