"""Raw connections to a Docker engine for hijacked exec streams (and short requests spoken
directly), over whatever transport its address names (engine_address.py):

- ``unix://``: the socket; ``tcp://`` / ``http://`` without TLS: a TCP connection;
- ``tcp://`` / ``https://`` with TLS: TLS done in memory (:class:`TlsStream`), so that
  closing stdin sends TLS's close_notify and keeps reading the output, as the Docker CLI
  does (asyncio's own TLS transports cannot half-close);
- ``ssh://``: ``ssh HOST docker system dial-stdio`` (:class:`ProcessStream`), as the CLI.

Each opener answers ``(reader, writer)``: the reader has ``read``, ``readuntil``,
``readexactly``; the writer ``write``, ``drain``, ``write_eof``, ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlparse

from .engine_address import EngineAddress

READ_SIZE = 64 * 1024


async def open_engine_stream(address: EngineAddress, *, limit: int, timeout: float):
    """A new connection to the engine (OSError, asyncio.TimeoutError or ssl.SSLError when
    it cannot be made)."""
    parsed = urlparse(address.url)
    scheme = address.scheme
    if scheme in ("unix", "http+unix"):
        return await asyncio.wait_for(asyncio.open_unix_connection(parsed.path, limit=limit),
                                      timeout)
    if scheme in ("tcp", "http", "https"):
        port = parsed.port or (2376 if address.tls is not None else 2375)
        if address.tls is None:
            return await asyncio.wait_for(
                asyncio.open_connection(parsed.hostname, port, limit=limit), timeout)
        stream = await asyncio.wait_for(
            TlsStream.open(parsed.hostname, port, address.ssl_context(), limit=limit),
            timeout)
        return stream, stream
    if scheme == "ssh":
        stream = await ProcessStream.open(ssh_command(address.url), limit=limit)
        return stream.reader, stream
    raise OSError(f"no way to stream from a Docker engine at {address.url!r}")


def ssh_command(url: str) -> list[str]:
    """The ``ssh`` command that reaches the engine of ``ssh://[user@]host[:port]``."""
    parsed = urlparse(url)
    argv = ["ssh"]
    if parsed.port:
        argv += ["-p", str(parsed.port)]
    if parsed.username:
        argv += ["-l", parsed.username]
    return [*argv, "--", parsed.hostname or "", "docker", "system", "dial-stdio"]


class TlsStream:
    """A TLS client connection with the record layer in memory (``ssl.SSLObject``): both
    the reader and the writer of a hijacked stream. ``write_eof`` sends close_notify
    (the engine reads end-of-file on stdin) and reading goes on until the engine closes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 sslobj: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        self._raw_reader = reader
        self._raw_writer = writer
        self._ssl = sslobj
        self._incoming = incoming
        self._outgoing = outgoing
        self._buffer = bytearray()
        self._eof = False
        self._write_closed = False

    @classmethod
    async def open(cls, host: str, port: int, context: ssl.SSLContext, *,
                   limit: int) -> TlsStream:
        reader, writer = await asyncio.open_connection(host, port, limit=limit)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        sslobj = context.wrap_bio(incoming, outgoing, server_hostname=host)
        stream = cls(reader, writer, sslobj, incoming, outgoing)
        try:
            await stream._handshake()
        except BaseException:
            writer.close()
            raise
        return stream

    async def _handshake(self) -> None:
        while True:
            try:
                self._ssl.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            self._flush()
            await self._raw_writer.drain()
            data = await self._raw_reader.read(READ_SIZE)
            if not data:
                raise ConnectionResetError("the engine closed during the TLS handshake")
            self._incoming.write(data)
        self._flush()
        await self._raw_writer.drain()

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data and not self._raw_writer.is_closing():
            self._raw_writer.write(data)

    async def _fill(self) -> bool:
        """Decrypt more into the buffer; False at the end of the stream."""
        if self._eof:
            return False
        while True:
            try:
                chunk = self._ssl.read(READ_SIZE)
            except ssl.SSLWantReadError:
                self._flush()
                data = await self._raw_reader.read(READ_SIZE)
                if not data:
                    self._eof = True
                    return False
                self._incoming.write(data)
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True
                return False
            except ssl.SSLError as err:
                raise ConnectionResetError(f"TLS: {err}") from err
            if not chunk:
                self._eof = True
                return False
            self._buffer += chunk
            return True

    # --- the reader's side --------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            while await self._fill():
                pass
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if not self._buffer:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        start = 0
        while True:
            found = self._buffer.find(separator, start)
            if found >= 0:
                end = found + len(separator)
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                return data
            start = max(0, len(self._buffer) - len(separator) + 1)
            if not await self._fill():
                raise asyncio.IncompleteReadError(bytes(self._buffer), None)

    async def readexactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            if not await self._fill():
                raise asyncio.IncompleteReadError(bytes(self._buffer), n)
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    # --- the writer's side --------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._write_closed:
            raise BrokenPipeError("the stream's writing side is closed")
        try:
            self._ssl.write(data)
        except ssl.SSLError as err:
            raise ConnectionResetError(f"TLS: {err}") from err
        self._flush()

    async def drain(self) -> None:
        await self._raw_writer.drain()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Send close_notify; the engine reads end-of-file, its answer still comes."""
        if self._write_closed:
            return
        self._write_closed = True
        with contextlib.suppress(ssl.SSLWantReadError):
            self._ssl.unwrap()
        self._flush()

    def is_closing(self) -> bool:
        return self._raw_writer.is_closing()

    def close(self) -> None:
        self._write_closed = True
        self._raw_writer.close()

    def get_extra_info(self, name: str, default=None):
        return self._raw_writer.get_extra_info(name, default)


class ProcessStream:
    """The writer of a stream through a helper process's stdin and stdout (``ssh ...
    docker system dial-stdio``); ``reader`` is its stdout. Closing ends the process."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self.reader: asyncio.StreamReader = process.stdout
        self._stdin = process.stdin

    @classmethod
    async def open(cls, argv: list[str], *, limit: int) -> ProcessStream:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=limit)
        return cls(process)

    def write(self, data: bytes) -> None:
        self._stdin.write(data)

    async def drain(self) -> None:
        await self._stdin.drain()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """dial-stdio half-closes the engine's connection when its stdin ends."""
        self._stdin.close()

    def is_closing(self) -> bool:
        return self._stdin.is_closing()

    def close(self) -> None:
        self._stdin.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()

    def get_extra_info(self, name: str, default=None):
        return self._stdin.get_extra_info(name, default)
