"""A small test client of the ``/container`` WebSocket over pytest-jupyter's jp_ws_fetch.

Every frame the server sends is kept in order; ``request`` sends a frame with a fresh id
and waits for the reply with that id; ``push`` waits for a push. Every wait is bounded.

A socket that speaks version 2 (``connect(..., subprotocols=[...])``) gets output as
binary frames: each is kept undecoded in ``binary`` and, decoded by the Python client's
``OutputFrames``, in ``frames`` as the push its text frame would be.
"""

from __future__ import annotations

import asyncio
import itertools
import json

from jupyter_container_manager.client.gateway import OutputFrames, parse_output_frame

DEFAULT_TIMEOUT = 15.0


class GatewayClient:
    def __init__(self, connection):
        self.connection = connection
        self.frames: list[dict] = []
        self.raw: list[str | bytes] = []
        self.binary: list[tuple[str, dict, bytes]] = []  # (event, fields, payload)
        self._output = OutputFrames()
        self.closed = False
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self._reader = asyncio.ensure_future(self._read())
        self._cursor: dict[str, int] = {}
        self._pty: dict[str, dict] = {}

    @classmethod
    async def connect(cls, jp_ws_fetch, **kwargs) -> GatewayClient:
        return cls(await jp_ws_fetch("container", **kwargs))

    async def _read(self) -> None:
        while True:
            message = await self.connection.read_message()
            async with self._arrived:
                if message is None:
                    self.closed = True
                    self._arrived.notify_all()
                    return
                self.raw.append(message)
                if isinstance(message, bytes):
                    self.binary.append(parse_output_frame(message))
                    push = self._output.decode(message)
                    if push is not None:
                        self.frames.append({"event": push[0], "data": push[1]})
                else:
                    frame = json.loads(message)
                    tail = self._output.ended(frame["event"], frame.get("data"))
                    if tail is not None and "id" not in frame:
                        self.frames.append({"event": tail[0], "data": tail[1]})
                    self.frames.append(frame)
                self._arrived.notify_all()

    async def wait_for(self, match, timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> dict:
        """The first frame from index ``start`` on for which ``match(frame)`` is true."""

        def find():
            for frame in self.frames[start:]:
                if match(frame):
                    return frame
            return None

        async def wait():
            async with self._arrived:
                while (found := find()) is None:
                    if self.closed:
                        last = repr(self.frames[-3:])[-800:]
                        raise ConnectionError(f"socket closed; last: {last}")
                    await self._arrived.wait()
                return found

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            last = repr(self.frames[-8:])
            raise AssertionError(f"no matching frame in {timeout}s; last: "
                                 f"{last[:1500]}...{last[-500:]}") from None

    def send_raw(self, text: str | bytes, binary: bool = False):
        return self.connection.write_message(text, binary=binary)

    async def send(self, event: str, data=None, request_id=None) -> None:
        frame: dict = {"event": event, "data": {} if data is None else data}
        if request_id is not None:
            frame["id"] = request_id
        await self.connection.write_message(json.dumps(frame))

    async def request(self, event: str, data=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """Send with a fresh id; the one reply with that id (result event, ok or error)."""
        request_id = f"r{next(self._ids)}"
        start = len(self.frames)
        await self.send(event, data, request_id)
        return await self.wait_for(lambda f: f.get("id") == request_id, timeout, start)

    async def ok(self, event: str, data=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """``request``, asserting it did not fail; the reply's data."""
        reply = await self.request(event, data, timeout)
        assert reply["event"] != "error", reply
        return reply["data"]

    async def push(self, event: str, match=lambda data: True,
                   timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The next push ``event`` (after the previous one this returned) whose data
        matches."""
        start = self._cursor.get(event, 0)
        frame = await self.wait_for(
            lambda f: f["event"] == event and "id" not in f and match(f["data"]), timeout, start
        )
        self._cursor[event] = self.frames.index(frame) + 1
        return frame["data"]

    def pushes(self, event: str) -> list[dict]:
        return [f["data"] for f in self.frames if f["event"] == event and "id" not in f]

    async def fs(self, type_: str, **data) -> dict:
        return await self.request("fs-operation", {"type": type_, **data})

    async def join(self, container_id: str) -> dict:
        return await self.ok("join-container", {"containerId": container_id})

    async def pty_text(self, terminal_id: str, contains: str,
                       timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until this terminal's output since the last call contains ``contains``;
        all its output so far. Scans each frame once (terminal floods are large)."""
        seen = self._pty.setdefault(terminal_id, {"index": 0, "chunks": [], "mark": 0})
        deadline = asyncio.get_running_loop().time() + timeout
        window = ""
        while True:
            while seen["index"] < len(self.frames):
                frame = self.frames[seen["index"]]
                seen["index"] += 1
                if frame["event"] == "pty-output" and frame["data"]["terminalId"] == terminal_id:
                    seen["chunks"].append(frame["data"]["data"])
                    window = window[-len(contains):] + frame["data"]["data"]
                    if contains in window:
                        return "".join(seen["chunks"])
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                tail = "".join(seen["chunks"])[-500:]
                raise AssertionError(f"{contains!r} not in terminal output ...{tail!r}")
            await self.wait_for(lambda f: True, left, start=len(self.frames))

    def close(self) -> None:
        self.connection.close()
        self._reader.cancel()
