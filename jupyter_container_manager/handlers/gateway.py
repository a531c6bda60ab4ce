"""``/container``: the ContainerGateway WebSocket (live files, processes, terminals, ports).

Built on Jupyter's own WebSocket machinery, as its kernel and terminal sockets are: the
upgrade is authenticated (no credentials: 403, never a redirect) and authorised on the
``containers`` resource, and the Origin is checked by Jupyter's rules. Everything after
the upgrade is the socket session's (``socket_session.py``): this class only moves frames.

A browser cannot set headers on a WebSocket, so a page with a token offers it as a
subprotocol, as Kubernetes does: ``Sec-WebSocket-Protocol: jupyter-container-manager.v1,
base64url.bearer.authorization.jupyter-container-manager.<base64url token>``. It is read
before Jupyter authenticates (as ``Authorization: token ...``, so any IdentityProvider
judges it) and the server echoes only ``jupyter-container-manager.v1``. A handshake never
sets a cookie: a token authenticates this connection, it does not log the browser in
(Jupyter's IdentityProvider would set its login cookie for any token otherwise).
"""

from __future__ import annotations

import base64
import binascii

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from ..outbox import Outbox
from ..socket_session import SocketSession
from .base import AUTH_RESOURCE, ContainerAPIHandler, ServiceMixin


SUBPROTOCOL = "jupyter-container-manager.v1"
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


class ContainerGateway(ServiceMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    session: SocketSession | None = None

    def prepare(self, *args, **kwargs):
        """A token offered as a subprotocol becomes the Authorization header that
        Jupyter's authentication reads (an explicit header wins)."""
        token = subprotocol_token(self.request.headers.get("Sec-WebSocket-Protocol", ""))
        if token and "Authorization" not in self.request.headers:
            self.request.headers["Authorization"] = f"token {token}"
        return super().prepare(*args, **kwargs)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """Echo our protocol name, never the one that carries the token."""
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def set_cookie(self, *args, **kwargs):
        """No cookie from a handshake: a token authenticates this socket only."""

    def set_default_headers(self):
        """No HTML security headers on a WebSocket upgrade (as Jupyter's kernel socket)."""

    def write_error(self, status_code: int, **kwargs):
        """A refused upgrade answers JSON ``{message, reason, code}`` like every route."""
        ContainerAPIHandler.write_error(self, status_code, **kwargs)

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
        outbox = Outbox(self.write_message, self.manager.ws_send_buffer)
        self.session = SocketSession(self.service, self.rooms, outbox)
        # Preview URLs pushed to this socket fit how its browser reached the server.
        self.session.preview_origin = (self.request.protocol, self.request.host)

    async def on_message(self, message):
        if self.session is not None:
            await self.session.receive(message)

    def on_close(self):
        if self.session is not None:
            self.session.close()
            self.session = None


default_handlers = [
    (r"/container", ContainerGateway),
]
