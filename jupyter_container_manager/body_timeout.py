"""Request bodies that stop arriving (slowloris) are cut: ``c.ContainerManager.http_body_timeout``.

For handlers that stream their body (``@web.stream_request_body``: writeFile, the preview
proxies). Tornado reads such a body only once ``prepare()`` is done and hands each chunk
to ``data_received``; a timer cuts the connection when no chunk has arrived for the
timeout. The time the handler spends on a chunk (waiting for the container to take it)
does not count, and neither does ``prepare()``: only the client's silence does, so an
upload that keeps moving is never cut, however long it takes (as nginx's
``client_body_timeout``). A cut connection gets no answer: the handler's
``on_connection_close`` cleans up, as when the client leaves.

Only Tornado's public hooks are used: the handler calls ``watch_body()`` as the last
step of its ``prepare()`` (Tornado starts reading the body right after), takes chunks in
``receive_body()`` (this mixin's ``data_received`` times them), and calls
``body_received()`` first thing in its verb method, which Tornado calls once the body is
complete. The cut is ``request.connection.close()``.
"""

from __future__ import annotations

import logging

from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)


class BodyTimeout:
    """Mixed into a ``@web.stream_request_body`` handler, before the handler base."""

    _body_timer = None
    _body_last = 0.0
    _body_busy = False

    def watch_body(self) -> None:
        """Start watching this request's body (once; nothing without a body or a timeout)."""
        timeout = self.manager.http_body_timeout
        if timeout <= 0 or self._body_timer is not None or not _has_body(self.request):
            return
        loop = IOLoop.current()
        self._body_last = loop.time()
        self._body_timer = loop.call_later(timeout, self._check_body)

    def body_received(self) -> None:
        """The whole body is in (the verb method runs): stop watching."""
        self._stop_body_timer()

    def receive_body(self, chunk: bytes):
        """A chunk of the body, for the handler (its ``data_received``); may be async."""
        return None

    async def data_received(self, chunk: bytes) -> None:
        loop = IOLoop.current()
        self._body_last = loop.time()
        self._body_busy = True
        try:
            result = self.receive_body(chunk)
            if result is not None:
                await result
        finally:
            self._body_busy = False
            self._body_last = loop.time()

    def _check_body(self) -> None:
        loop = IOLoop.current()
        self._body_timer = None
        timeout = self.manager.http_body_timeout
        quiet = loop.time() - self._body_last
        if self._body_busy:  # waiting on us, not on the client
            self._body_last = loop.time()
            quiet = 0.0
        if quiet < timeout:
            self._body_timer = loop.call_later(timeout - quiet, self._check_body)
            return
        log.info("cutting %s %s: no byte of its body for %.0f s (http_body_timeout)",
                 self.request.method, self.request.path, quiet)
        self.request.connection.close()

    def on_finish(self) -> None:
        self._stop_body_timer()
        super().on_finish()

    def on_connection_close(self) -> None:
        self._stop_body_timer()
        super().on_connection_close()

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            IOLoop.current().remove_timeout(self._body_timer)
            self._body_timer = None


def _has_body(request) -> bool:
    length = request.headers.get("Content-Length", "")
    if length.isdigit():
        return int(length) > 0
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()
