"""Pure helpers around a process: argv and env checks, signal names, following output
with a timeout, and UTF-8 text from byte chunks. They work on any object with the
``Process`` shape (``__anext__``, ``kill``, ``close``) and do no I/O of their own."""

from __future__ import annotations

import asyncio
import codecs
import re

from .errors import BadRequest

TIMEOUT_EXIT_CODE = 124
KILL_GRACE = 2.0  # seconds to wait for the output to end after a kill
SIGNALS = ("KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "STOP", "CONT", "WINCH")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def signal_name(signal: str | int) -> str:
    """``"SIGTERM"``, ``"term"``, ``15`` -> what ``kill -s`` takes."""
    if isinstance(signal, int) and not isinstance(signal, bool) and 0 < signal < 65:
        return str(signal)
    name = str(signal).upper()
    name = name[3:] if name.startswith("SIG") else name
    if name not in SIGNALS:
        raise BadRequest(f"Unknown signal {signal!r}; use one of {', '.join(SIGNALS)}")
    return name


def check_argv(command: object, args: object) -> list[str]:
    if not isinstance(command, str) or not command:
        raise BadRequest("'command' must be a non-empty string")
    if args is None:
        args = []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise BadRequest("'args' must be an array of strings")
    argv = [command, *args]
    if any("\0" in a for a in argv):
        raise BadRequest("'command' and 'args' cannot hold NUL bytes", code="EINVAL")
    return argv


def check_env(env: object) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise BadRequest("'env' must be an object of strings")
    for key, value in env.items():
        if not _ENV_NAME.match(key):
            raise BadRequest(f"env: {key!r} is not a valid variable name")
        if not isinstance(value, str) or "\0" in value:
            raise BadRequest(f"env: the value of {key!r} must be a string without NUL bytes")
    return dict(env)



async def follow(process, sink, timeout: float | None) -> bool:
    """Hand every output chunk to ``sink`` (a function or coroutine function) until the
    output ends; past ``timeout`` seconds kill the group, keep reading for a short grace,
    then drop the connection. True when the timeout struck.

    A read is never cancelled halfway (that would tear a Docker frame): the pending read
    is awaited across the deadline instead."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    timed_out = False
    pending: asyncio.Future | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(process.__anext__())
            wait = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait({pending}, timeout=wait)
            if not done:
                if timed_out:  # the grace is over too: stop listening
                    process.close()
                    deadline = None
                    continue
                timed_out = True
                try:
                    await process.kill("KILL")
                except Exception:  # noqa: BLE001 - container gone: the grace ends it
                    pass
                deadline = loop.time() + KILL_GRACE
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return timed_out
            finally:
                pending = None
            result = sink(chunk)
            if asyncio.iscoroutine(result):
                await result
    finally:
        if pending is not None:
            pending.cancel()


class TextDecoder:
    """UTF-8 text from byte chunks that may split a character."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, chunk: bytes, final: bool = False) -> str:
        return self._decoder.decode(chunk, final)
