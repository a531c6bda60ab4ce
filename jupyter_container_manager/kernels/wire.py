"""Jupyter messages read straight off a kernel client's zmq sockets, for run-code.

jupyter_client's ``Session.deserialize`` turns every date of a message's header and parent
header into a ``datetime`` through dateutil: about a tenth of a millisecond a message here,
and an execution of ``1+1`` is five messages (busy, execute_input, execute_result, idle,
execute_reply). run-code needs none of those dates: a ``Reader`` checks the signature as
the Session would (HMAC of the four frames, a signature seen before refused), unpacks the
header, the parent's id and the content, and nothing else. It awaits the socket itself:
no poll-then-receive per message.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from hmac import compare_digest
from typing import Any

import orjson

DIGESTS_KEPT = 10_000  # signatures remembered to refuse a replayed message
DELIMITER = b"<IDS|MSG>"


def _loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN and friends: the kernel's json may allow them
        return json.loads(data)


class Reader:
    """Messages of one socket of a kernel client, as ``{msg_type, parent_id, content}``."""

    def __init__(self, session: Any, socket: Any, log: Any = None):
        self._session = session
        self._socket = socket
        self._log = log
        self._seen: set[bytes] = set()
        self._order: deque[bytes] = deque()

    async def next(self, timeout: float) -> dict | None:
        """The next signed message, or None when none came within ``timeout`` seconds
        (a message that is not one, or badly signed, is dropped and waiting goes on)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                frames = await asyncio.wait_for(self._socket.recv_multipart(), left)
            except (TimeoutError, asyncio.TimeoutError):
                return None
            message = self.message(frames)
            if message is not None:
                return message

    def message(self, frames: list[bytes]) -> dict | None:
        """One message from its frames (identities, delimiter, signature, header, parent
        header, metadata, content, buffers), or None if it is not a well-signed one."""
        try:
            start = frames.index(DELIMITER) + 1
        except ValueError:
            return self._drop("no delimiter")
        parts = frames[start:]
        if len(parts) < 5:
            return self._drop("too few frames")
        if self._session.auth is not None:
            signature = parts[0]
            if not signature or signature in self._seen:
                return self._drop("unsigned or replayed")
            if not compare_digest(signature, self._session.sign(parts[1:5])):
                return self._drop("bad signature")
            self._remember(signature)
        header = _loads(parts[1])
        parent = _loads(parts[2])
        return {"msg_type": header.get("msg_type"), "parent_id": parent.get("msg_id"),
                "content": _loads(parts[4])}

    def _remember(self, signature: bytes) -> None:
        self._seen.add(signature)
        self._order.append(signature)
        if len(self._order) > DIGESTS_KEPT:
            self._seen.discard(self._order.popleft())

    def _drop(self, why: str) -> None:
        if self._log is not None:
            self._log.warning("run-code kernel: a message was dropped: %s", why)
        return None
