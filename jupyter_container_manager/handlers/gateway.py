"""``/container``: the ContainerGateway WebSocket (live files, processes, terminals, ports).

Built on Jupyter's own WebSocket machinery, as its kernel and terminal sockets are: the
upgrade is authenticated (no credentials: 403, never a redirect) and authorised on the
``containers`` resource, and the Origin is checked by Jupyter's rules. Everything after
the upgrade is the socket session's (``socket_session.py``): this class only moves frames.
"""

from __future__ import annotations

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from ..outbox import Outbox
from ..socket_session import SocketSession
from .base import AUTH_RESOURCE, ContainerAPIHandler, ServiceMixin


class ContainerGateway(ServiceMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    session: SocketSession | None = None

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
