"""Where the synchronous client does its I/O: a private event loop in a daemon thread.

The sync classes call the async ones through ``LoopThread.run`` and block until done. This
works where the caller's own thread already runs a loop (a Jupyter kernel does), because
the I/O never runs on the caller's loop. Listeners of the sync client run on one more
thread, in order, so a listener may call the sync client itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class LoopThread:
    """An asyncio loop running forever in a daemon thread; started on first use."""

    _shared: LoopThread | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> LoopThread:
        with cls._shared_lock:
            if cls._shared is None or not cls._shared.thread.is_alive():
                cls._shared = cls()
            return cls._shared

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._listeners = ThreadPoolExecutor(1, thread_name_prefix="jcm-client-listener")
        started = threading.Event()
        self.thread = threading.Thread(
            target=self._main, args=(started,), name="jupyter-container-manager-client",
            daemon=True,
        )
        self.thread.start()
        started.wait()

    def _main(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (or its exception)."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError(
                "The synchronous client was called on its own I/O thread; "
                "use the async client (AsyncWebContainer) inside coroutines of that loop"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:  # timeout, KeyboardInterrupt: stop the work too
            future.cancel()
            raise

    def in_listener_thread(self, listener: Callable[..., object]) -> Callable[..., None]:
        """``listener`` wrapped to run on the listener thread, never on the loop."""
        pool = self._listeners

        def call(*args) -> None:
            pool.submit(_safely, listener, *args)

        return call


def _safely(listener: Callable[..., object], *args) -> None:
    try:
        listener(*args)
    except Exception:
        log.exception("listener %r failed", listener)
