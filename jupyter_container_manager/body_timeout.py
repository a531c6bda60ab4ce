"""Request bodies that stop arriving (slowloris) are cut: ``c.ContainerManager.http_body_timeout``.

For handlers that stream their body (``@web.stream_request_body``: writeFile, the preview
proxies). Tornado reads such a body only once ``prepare()`` is done and hands each chunk
to ``data_received``; a timer cuts the connection when no chunk has arrived for the
timeout. The time the handler spends on a chunk (waiting for the container to take it)
does not count, and neither does ``prepare()``: only the client's silence does, so an
upload that keeps moving is never cut, however long it takes (as nginx's
``client_body_timeout``). A cut connection gets no answer: the handler's
``on_connection_close`` cleans up, as when the client leaves.
"""

from __future__ import annotations

import logging

from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)


class BodyTimeout:
    """Mixed into a streaming handler; ``watch_body()`` from ``prepare()``."""

    _body_timer = None
    _body_last = 0.0
    _body_busy = False

    def watch_body(self) -> None:
        """Start watching this request's body (once; nothing without a body or a timeout)."""
        timeout = self.manager.http_body_timeout
        streamed = getattr(self.request, "_body_future", None) is not None
        if timeout <= 0 or self._body_timer is not None or not streamed:
            return
        if not _has_body(self.request):
            return
        loop = IOLoop.current()
        received = self.data_received

        async def data_received(chunk: bytes):  # Tornado calls the instance's own
            self._body_last = loop.time()
            self._body_busy = True
            try:
                result = received(chunk)
                if result is not None:
                    await result
            finally:
                self._body_busy = False
                self._body_last = loop.time()

        self.data_received = data_received
        self._body_last = loop.time()
        self._body_timer = loop.call_later(timeout, self._check_body)

    def _check_body(self) -> None:
        loop = IOLoop.current()
        self._body_timer = None
        body = getattr(self.request, "_body_future", None)
        if self._finished or body is None or body.done():
            return  # answered, complete, or the client left
        timeout = self.manager.http_body_timeout
        prepared = getattr(self, "_prepared_future", None)
        waiting_on_us = self._body_busy or (prepared is not None and not prepared.done())
        quiet = loop.time() - self._body_last
        if waiting_on_us:
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
