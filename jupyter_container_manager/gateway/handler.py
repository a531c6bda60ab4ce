"""``/container``: the ContainerGateway WebSocket (live files, processes, terminals, ports).

Built on Jupyter's own WebSocket machinery, as its kernel and terminal sockets are: the
upgrade is authenticated (no credentials: 403, never a redirect) and authorised on the
``containers`` resource, and the Origin is checked by Jupyter's rules. Everything after
the upgrade is the socket session's (``gateway/session.py``): this class only moves frames.

The protocol is versioned by subprotocol, as Jupyter's kernel socket is: a client offers
``jupyter-container-manager.v<N>`` and the server selects the highest version it speaks
among those offered (``protocol.select_subprotocol``). A client that offers none still
works and speaks version 1 (JSON text frames only); so does one that offers none of ours:
as RFC 6455 says, the answer then names no subprotocol (a browser that offered some fails
such a handshake itself). From version 2 on, output pushes are binary frames.

A browser cannot set headers on a WebSocket, so a page with a token offers it as a
subprotocol too, as Kubernetes does: ``Sec-WebSocket-Protocol: jupyter-container-manager.v2,
base64url.bearer.authorization.jupyter-container-manager.<base64url token>``. It is read
before Jupyter authenticates (as ``Authorization: token ...``, so any IdentityProvider
judges it) and never echoed. A handshake never sets a cookie: a token authenticates this
connection, it does not log the browser in (Jupyter's IdentityProvider would set its login
cookie for any token otherwise).

Sockets that are gone or not there are closed by timeouts (``c.ContainerManager.ws_*``):
no answer to pings (a dead peer, a client that never reads), nothing taken of what is
queued for it (``ws_send_timeout``, in the outbox), or no frame from the client while
nothing it spawned runs (``ws_idle_timeout``). A socket closed by a timeout gets code
4408 when it can still be told.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketHandler

from ..base_handler import AUTH_RESOURCE, JSONErrors, ServiceMixin
from . import protocol
from .outbox import Outbox
from .session import SocketSession

SUBPROTOCOL = protocol.SUBPROTOCOL
TIMED_OUT = 4408  # close code of a socket closed by a timeout
ACTIVITY_KEY = "container_manager_last_activity"  # a web_app setting ServerApp reads
TOKEN_SUBPROTOCOL = "base64url.bearer.authorization.jupyter-container-manager."


def subprotocol_token(header: str) -> str | None:
    """The token offered in a ``Sec-WebSocket-Protocol`` header, if any. (pure)"""
    for offered in header.split(","):
        offered = offered.strip()
        if offered.startswith(TOKEN_SUBPROTOCOL):
            encoded = offered[len(TOKEN_SUBPROTOCOL):]
            try:
                token = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
                return token.decode("utf-8") or None
            except (binascii.Error, ValueError):
                return None
    return None


class ContainerGateway(JSONErrors, ServiceMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The socket; a refused upgrade answers JSON ``{message, reason, code}`` like every
    route (``JSONErrors``)."""

    auth_resource = AUTH_RESOURCE
    session: SocketSession | None = None
    _idle_timer = None
    _last_frame = 0.0

    # Jupyter's WebSocketMixin pings and closes a socket that stops answering; these
    # are our settings instead of the server-wide ones (milliseconds, as the mixin reads).
    @property
    def ping_interval(self):
        return 1000 * self.manager.ws_ping_interval

    @property
    def ping_timeout(self):
        return 1000 * self.manager.ws_ping_timeout

    def prepare(self, *args, **kwargs):
        """A token offered as a subprotocol becomes the Authorization header that
        Jupyter's authentication reads (an explicit header wins)."""
        token = subprotocol_token(self.request.headers.get("Sec-WebSocket-Protocol", ""))
        if token and "Authorization" not in self.request.headers:
            self.request.headers["Authorization"] = f"token {token}"
        return super().prepare(*args, **kwargs)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """The highest protocol version offered that this server speaks (never the
        subprotocol that carries the token); None: the current version, unnamed."""
        return protocol.select_subprotocol(subprotocols)

    def set_cookie(self, *args, **kwargs):
        """No cookie from a handshake: a token authenticates this socket only."""

    def set_default_headers(self):
        """No HTML security headers on a WebSocket upgrade (as Jupyter's kernel socket)."""

    def get_compression_options(self):
        return self.settings.get("websocket_compression_options", None)

    async def pre_get(self):
        authorized = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", self.auth_resource)
        )
        if not authorized:
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args, **kwargs):
        await self.pre_get()
        await super().get(*args, **kwargs)

    def open(self, *args, **kwargs):
        super().open(*args, **kwargs)
        self.set_nodelay(True)  # keystroke echoes are small frames: no Nagle delay
        manager = self.manager
        outbox = Outbox(self.write_message, manager.ws_send_buffer,
                        stall_timeout=manager.ws_send_timeout, progress=self._bytes_taken,
                        on_stall=self._timed_out)
        self.session = SocketSession(self.manager, self.rooms, outbox)
        # Preview URLs pushed to this socket fit how its browser reached the server.
        self.session.preview_origin = (self.request.protocol, self.request.host)
        # Output as binary frames from version 2 on; version 1 without a subprotocol.
        self.session.version = protocol.version_of(self.selected_subprotocol)
        self._last_frame = IOLoop.current().time()
        self._watch_idle(manager.ws_idle_timeout)

    async def on_message(self, message):
        self._last_frame = IOLoop.current().time()
        # Jupyter activity, as a request to its API: typing in a container's terminal
        # keeps an idle culler from stopping this server (ServerApp.last_activity reads
        # every setting named *_last_activity).
        self.settings[ACTIVITY_KEY] = datetime.now(timezone.utc)
        if self.session is not None:
            await self.session.receive(message)

    def on_close(self):
        if self._idle_timer is not None:
            IOLoop.current().remove_timeout(self._idle_timer)
            self._idle_timer = None
        if self.session is not None:
            self.session.close()
            self.session = None

    # --- timeouts --------------------------------------------------------------------

    def _bytes_taken(self) -> int:
        """A count that moves while the network takes this socket's output: the bytes
        still in the kernel's send queue (Linux's SIOCOUTQ, on the stream's public
        ``socket``). It stays put only while the client reads nothing; elsewhere the
        ioctl fails and the outbox judges by time alone."""
        import fcntl  # POSIX only: the failure of this import is such a failure
        import termios

        queued = fcntl.ioctl(self.ws_connection.stream.socket, termios.TIOCOUTQ, b"\0\0\0\0")
        return int.from_bytes(queued, "little", signed=True)

    def _watch_idle(self, delay: float) -> None:
        if self.manager.ws_idle_timeout > 0:
            self._idle_timer = IOLoop.current().call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self.session is None:
            return
        timeout = self.manager.ws_idle_timeout
        quiet = IOLoop.current().time() - self._last_frame
        if self.session.processes:  # its processes run on: not idle
            self._watch_idle(timeout)
        elif quiet < timeout:
            self._watch_idle(timeout - quiet)
        else:
            self.log.info("closing a /container socket idle for %.0f s", quiet)
            self._timed_out("idle")

    def _timed_out(self, why: str = "not reading") -> None:
        if self.ws_connection is not None:
            self.close(TIMED_OUT, f"timed out: {why}")


default_handlers = [
    (r"/container", ContainerGateway),
]
