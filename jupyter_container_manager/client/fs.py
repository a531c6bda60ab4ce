"""``webcontainer.fs``: Node's ``fs.promises`` surface, in Python naming, over REST.

Paths are taken from the container's workdir (``/`` and ``""`` are the workdir itself).
Errors raise ContainerError with Node's ``code`` (``ENOENT``, ``EEXIST``, ``EISDIR``...).
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import BinaryIO

from .live import AsyncWatcher, ChangeListener, LiveTable
from .models import DirEnt
from .transport import CHUNK, Progress, Transport, quote_path


class AsyncFileSystem:
    """The file system of one container (``await wc.fs.read_file("index.js", "utf-8")``)."""

    def __init__(self, transport: Transport, container_id: str, live: LiveTable | None = None):
        self._transport = transport
        self._base = f"webcontainer/{container_id}/fs"
        self._live = live

    async def watch(self, path: str, listener: ChangeListener, *,
                    exclude: list[str] | None = None) -> AsyncWatcher:
        """Call ``listener(kind, path)`` for each change under ``path`` by anyone (kind:
        add, change, unlink, addDir, unlinkDir; path from the workdir, with ``/``), over
        the container's WebSocket; ``await watcher.close()`` stops it. ``exclude``: globs
        not watched (default: the server's, node_modules and .git)."""
        if self._live is None:
            raise RuntimeError("this file system has no WebSocket to watch over")
        return await self._live.watch(path, listener, exclude=exclude)

    async def read_file(self, path: str, encoding: str | None = None) -> bytes | str:
        """The file's bytes, or its text with ``encoding="utf-8"``."""
        if encoding is not None and encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"encoding must be None or 'utf-8', not {encoding!r}")
        params = {"encoding": "utf-8"} if encoding else None
        answer = await self._transport.request(
            "GET", f"{self._base}/readFile/{quote_path(path)}", params=params
        )
        return answer.body.decode("utf-8") if encoding else answer.body

    async def write_file(
        self, path: str, data: str | bytes, encoding: str | None = None
    ) -> None:
        """Write a file (its parent must exist: ``ENOENT``). ``str`` goes as text (or as
        base64 text with ``encoding="base64"``); ``bytes`` go raw, for large or binary files."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            await self._transport.request(
                "PUT",
                f"{self._base}/writeFile",
                params={"path": path},
                body=bytes(data),
                headers={"Content-Type": "application/octet-stream"},
            )
            return
        if not isinstance(data, str):
            raise TypeError(f"data must be str or bytes, not {type(data).__name__}")
        body = {"path": path, "contents": data}
        if encoding:
            if encoding not in ("utf-8", "utf8", "base64"):
                raise ValueError(f"encoding must be 'utf-8' or 'base64', not {encoding!r}")
            body["encoding"] = "utf-8" if encoding == "utf8" else encoding
            if encoding == "base64":
                base64.b64decode(data, validate=True)  # refuse bad base64 here, not remotely
        await self._transport.request("POST", f"{self._base}/writeFile", json_body=body)

    async def readdir(self, path: str = "/", with_file_types: bool = False) -> list:
        """Names in a directory, or DirEnt values with ``with_file_types=True``."""
        answer = await self._transport.request(
            "GET",
            f"{self._base}/readdir/{quote_path(path)}",
            params={"withFileTypes": True} if with_file_types else None,
        )
        entries = answer.json()
        if with_file_types:
            return [DirEnt(e["name"], e["type"]) for e in entries]
        return list(entries)

    async def mkdir(self, path: str, recursive: bool = False) -> None:
        """Create a directory; without ``recursive`` it must not exist (``EEXIST``)."""
        await self._transport.request(
            "POST", f"{self._base}/mkdir", json_body={"path": path, "recursive": recursive}
        )

    async def rm(self, path: str, recursive: bool = False, force: bool = False) -> None:
        """Remove a file, or a directory with ``recursive``; ``force`` ignores a missing path."""
        await self._transport.request(
            "DELETE",
            f"{self._base}/rm",
            params={"path": path, "recursive": recursive, "force": force},
        )

    async def rename(self, old_path: str, new_path: str) -> None:
        """Move or rename (the new parent must exist)."""
        await self._transport.request(
            "POST", f"{self._base}/rename", json_body={"oldPath": old_path, "newPath": new_path}
        )

    async def upload(self, source: str | os.PathLike | BinaryIO, path: str, *,
                     on_progress: Progress | None = None) -> int:
        """Stream a local file (a path, or a binary file object) into ``path`` (its parent
        must exist), a chunk at a time whatever its size; ``on_progress(sent, total)``
        after each chunk. The container's file changes only once every byte is there.
        The bytes sent."""
        owned = not hasattr(source, "read")
        stream: BinaryIO = open(source, "rb") if owned else source  # noqa: SIM115
        try:
            try:
                size: int | None = os.fstat(stream.fileno()).st_size - stream.tell()
            except (OSError, AttributeError, ValueError):
                size = None
            sent = 0

            async def chunks() -> AsyncIterator[bytes]:
                nonlocal sent
                while chunk := stream.read(CHUNK):
                    sent += len(chunk)
                    yield chunk
                    if on_progress is not None:
                        on_progress(sent, size)

            await self._transport.upload(
                "PUT", f"{self._base}/writeFile", chunks(), size=size, params={"path": path},
                headers={"Content-Type": "application/octet-stream"})
            return sent
        finally:
            if owned:
                stream.close()

    async def download(self, path: str, target: str | os.PathLike | BinaryIO, *,
                       on_progress: Progress | None = None) -> int:
        """Stream the file at ``path`` into a local file (a path: written whole or not
        at all) or a binary file object, a chunk at a time; ``on_progress(received,
        total)`` after each chunk. The bytes received."""
        url = f"{self._base}/readFile/{quote_path(path)}"
        if hasattr(target, "write"):
            return await self._transport.download(url, target.write, progress=on_progress)
        final = os.fspath(target)
        partial = os.path.join(os.path.dirname(final) or ".",
                               f".{os.path.basename(final)}.part")
        try:
            with open(partial, "wb") as out:
                received = await self._transport.download(url, out.write,
                                                          progress=on_progress)
            os.replace(partial, final)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return received
