"""``<base_url>container/socket.io/``: the ``/container`` gateway over Socket.IO too.

For clients built on ``socket.io-client`` (the namespace ``/container``, the events of the
protocol table): ``io(serverUrl + "/container", {path: baseUrl + "container/socket.io/",
auth: {token}})``. Served by python-socketio's AsyncServer in Tornado mode: Engine.IO
(polling, the WebSocket upgrade, pings) and Socket.IO (namespaces, acknowledgements) are
that maintained server's; what is ours is the Tornado handler's Jupyter parts, the
judgement of each connect, and the adapter to the one implementation of the events
(``socketio_session.py`` over ``session.py``).

Authentication is judged when the client connects to the namespace, since a Socket.IO
client sends ``auth`` there, after the Engine.IO handshake: the handshake's own
credentials (``?token=``, an ``Authorization`` header, Jupyter's login cookie) or
``auth: {token}``, by Jupyter's IdentityProvider, then Jupyter's authorizer on the
``containers`` resource; a client authenticated by its cookie only must come from an
origin Jupyter's WebSocket rules allow (the handshake's ``Origin``), as on the plain
socket. A refused connect gets ``connect_error`` whose message says why (and
``data.code``). Engine.IO requests themselves need no credentials: an Engine.IO session
does nothing until its client connects to ``/container``, and its id is known to its
client only.

Bounds as on the plain socket: the session's (``ws_max_inflight``, ``ws_send_buffer``,
``ws_send_timeout``, ``ws_idle_timeout``, ``ws_max_processes``); an event over the
largest frame the plain socket takes (Tornado's ``websocket_max_message_size``) is
answered with an ``error`` (``EMSGSIZE``), and Engine.IO cuts a transport that sends a
packet over twice that, unread (as the plain socket closes with 1009).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import socketio
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from socketio import packet
from socketio.exceptions import ConnectionRefusedError as Refused
from tornado.websocket import WebSocketClosedError

from ..base_handler import AUTH_RESOURCE, JSONErrors
from ..manager import ContainerManager
from .rooms import ContainerRooms
from .socketio_session import SocketIOConnection

log = logging.getLogger(__name__)

NAMESPACE = "/container"
PATH = "container/socket.io/"  # under the server's base_url; the client's ``path``
ROUTE = r"/container/socket\.io/?"
DEFAULT_MAX_MESSAGE = 10 * 1024**2  # Tornado's websocket_max_message_size default
RECEIVE_QUEUE = 8  # WebSocket messages read ahead of the session; past it Tornado waits
DEFAULT_PING_INTERVAL = 25.0  # Engine.IO's, when ws_ping_interval is 0 (it needs pings)
DEFAULT_PING_TIMEOUT = 20.0
TIMED_OUT = 4408  # WebSocket close code of a client cut for not reading (as the plain socket)
SHUTDOWN_TIMEOUT = 5.0  # seconds the clients' disconnects may take at shutdown

# The codes of refused connects (connect_error's data.code).
NO_CREDENTIALS = "EAUTH"
TOKEN_REFUSED = "ETOKEN"
ORIGIN_REFUSED = "EORIGIN"
NOT_AUTHORIZED = "EFORBIDDEN"


class GatewayServer(socketio.AsyncServer):
    """python-socketio's server whose ``/container`` events all go to the adapter.

    Events are taken one after another in the order they arrive (as frames of the plain
    socket are): the session queues each and serves it concurrently, and while its
    requests fill ``ws_max_inflight`` the next event waits, and with it the client's
    transport (Tornado stops reading the WebSocket; a poll's POST is not answered)."""

    def __init__(self, gateway: SocketIOGateway, **kwargs):
        self.gateway = gateway
        super().__init__(**kwargs)

    def _engineio_server_class(self):
        """Engine.IO's server, whose background tasks (pings, its service task) the
        manager owns: cancelled when the server stops."""
        owner = self.gateway.manager

        class OwnedEngine(super()._engineio_server_class()):
            def start_background_task(self, target, *args, **kwargs):
                return owner.background(target(*args, **kwargs),
                                        f"Engine.IO {getattr(target, '__name__', 'task')}")

        return OwnedEngine

    async def _handle_event(self, eio_sid, namespace, id, data):  # noqa: A002 - its name
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        connection = self.gateway.connections.get(sid) if sid is not None else None
        if connection is None or not self.manager.is_connected(sid, namespace):
            return
        await connection.receive(data[0] if data else None, list(data[1:]), id)

    async def send_ack(self, eio_sid: str, namespace: str, ack_id: int, value: dict) -> None:
        """The acknowledgement of event ``ack_id``: its callback gets ``value``."""
        await self._send_packet(eio_sid, self.packet_class(
            packet.ACK, namespace=namespace, id=ack_id, data=[value]))


class SocketIOGateway:
    """One server's Socket.IO endpoint: the AsyncServer, its route, and its clients."""

    def __init__(self, manager: ContainerManager, rooms: ContainerRooms, *,
                 max_message: int = DEFAULT_MAX_MESSAGE):
        self.manager = manager
        self.rooms = rooms
        self.max_message = max_message
        self.connections: dict[str, SocketIOConnection] = {}  # Socket.IO sid -> client
        self.websockets: dict[str, SocketIOTransport] = {}  # Engine.IO sid -> its WebSocket
        self.server = GatewayServer(
            self,
            async_mode="tornado",
            cors_allowed_origins=[],  # Jupyter's CORS headers (allow_origin) apply instead
            max_http_buffer_size=2 * max_message,
            ping_interval=manager.ws_ping_interval or DEFAULT_PING_INTERVAL,
            ping_timeout=manager.ws_ping_timeout or DEFAULT_PING_TIMEOUT,
            logger=False,
            engineio_logger=False,
        )
        self.server.on("connect", self._connect, namespace=NAMESPACE)
        self.server.on("disconnect", self._disconnect, namespace=NAMESPACE)
        self.handler_class = _transport_handler(self)

    def routes(self) -> list[tuple]:
        """The route (without base_url) of the Socket.IO endpoint."""
        return [(ROUTE, self.handler_class)]

    # --- connect -------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict, auth) -> None:
        handler: SocketIOTransport = environ["tornado.handler"]
        await judge(handler, auth)  # Refused: connect_error, saying why
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        if handler.ws_connection is not None:  # the handshake came as a WebSocket
            self.websockets[eio_sid] = handler
            handler.eio_sid = eio_sid

        async def emit(event: str, data: dict) -> None:
            await self.server.emit(event, data, to=sid, namespace=NAMESPACE)

        async def ack(ack_id: int, value: dict) -> None:
            await self.server.send_ack(eio_sid, NAMESPACE, ack_id, value)

        async def disconnect(stalled: bool = False) -> None:
            await self._cut(sid, eio_sid, stalled)

        self.connections[sid] = SocketIOConnection(
            self.manager, self.rooms, emit=emit, ack=ack,
            drained=lambda: self._drained(eio_sid), disconnect=disconnect,
            max_message=self._max_message(handler),
            preview_origin=(handler.request.protocol, handler.request.host),
        )

    def _max_message(self, handler: JupyterHandler) -> int:
        return min(handler.settings.get("websocket_max_message_size") or self.max_message,
                   self.max_message)

    async def _cut(self, sid: str, eio_sid: str, stalled: bool) -> None:
        """Disconnect a client: from the namespace (a client that reads hears it and does
        not reconnect), and for one that stopped reading, its transport too (nothing more
        is queued for it; its WebSocket is closed)."""
        with contextlib.suppress(Exception):
            await self.server.disconnect(sid, namespace=NAMESPACE)
        if not stalled:
            return
        socket = self.server.eio.sockets.get(eio_sid)
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close(wait=False, abort=True,
                                   reason=self.server.eio.reason.TRANSPORT_ERROR)
        websocket = self.websockets.get(eio_sid)
        if websocket is not None and websocket.ws_connection is not None:
            websocket.close(TIMED_OUT, "timed out: not reading")

    async def _disconnect(self, sid: str, reason=None) -> None:
        connection = self.connections.pop(sid, None)
        if connection is not None:
            connection.close()

    async def _drained(self, eio_sid: str) -> None:
        """Until Engine.IO took what is queued for this client: a poll answered it, or
        the WebSocket wrote it to the network. ConnectionError once it is gone."""
        socket = self.server.eio.sockets.get(eio_sid)
        if socket is None or socket.closed:
            raise ConnectionError("the Socket.IO client is gone")
        await socket.queue.join()
        websocket = self.websockets.get(eio_sid)
        if websocket is not None and websocket.writing is not None:
            try:
                await websocket.writing
            except WebSocketClosedError:
                raise ConnectionError("the Socket.IO client is gone") from None

    async def close(self) -> None:
        """Server shutdown: every client disconnected, every session ended."""
        engine = self.server.eio
        for socket in list(engine.sockets.values()):  # without waiting for clients to read
            with contextlib.suppress(Exception):
                await socket.close(wait=False, abort=True,
                                   reason=engine.reason.SERVER_DISCONNECT)
        for connection in list(self.connections.values()):
            connection.close()
        self.connections.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.shutdown(), SHUTDOWN_TIMEOUT)


async def judge(handler: JupyterHandler, auth) -> None:
    """Refused (with a message saying why) unless the client that connects is a Jupyter
    user allowed to use containers: by a token (``auth.token``, or the handshake's
    ``?token=`` or Authorization header), or by its login cookie from an origin allowed
    by Jupyter's WebSocket rules."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token is not None and not isinstance(token, str):
        raise Refused("auth.token must be a string", {"code": TOKEN_REFUSED})
    if token:  # judged by the IdentityProvider as an Authorization header would be
        handler.request.headers["Authorization"] = f"token {token}"
        # No login cookie for a token (after a WebSocket handshake Tornado made
        # set_cookie raise on this instance): the token authenticates this client only.
        handler.set_cookie = _no_cookie
        handler._jupyter_current_user = None
        handler._token_authenticated = False
        user = await ensure_async(handler.identity_provider.get_user(handler))
        handler.current_user = handler._jupyter_current_user = user
    else:
        user = handler.current_user
    presented = bool(token) or "Authorization" in handler.request.headers \
        or "token" in handler.request.arguments
    if user is None:
        if presented:
            raise Refused("The token was not accepted by this Jupyter server",
                          {"code": TOKEN_REFUSED})
        raise Refused("Not authenticated: connect with a Jupyter token (auth: {token}, "
                      "?token= or an Authorization header) or log in to this Jupyter "
                      "server first", {"code": NO_CREDENTIALS})
    if not handler.token_authenticated and not WebSocketMixin.check_origin(handler):
        raise Refused(f"Origin {handler.get_origin()} may not use this server's login "
                      "cookie (Jupyter's origin rules, c.ServerApp.allow_origin); "
                      "connect with a token instead", {"code": ORIGIN_REFUSED})
    authorized = await ensure_async(
        handler.authorizer.is_authorized(handler, user, "execute", AUTH_RESOURCE))
    if not authorized:
        raise Refused(f"User {user.username!r} may not use containers (Jupyter's "
                      "authorizer)", {"code": NOT_AUTHORIZED})


class SocketIOTransport(JSONErrors, JupyterHandler):
    """The type of the Tornado handler ``_transport_handler`` makes (for type hints)."""

    eio_sid: str | None = None
    writing: asyncio.Future | None = None


def _transport_handler(gateway: SocketIOGateway) -> type:
    """The Tornado handler of one gateway: python-socketio's (``get_tornado_handler``)
    with Jupyter's authentication of each request (``JupyterHandler.prepare``; the
    judgement is the connect's) and bounds on what it reads ahead."""
    engine_handler = socketio.get_tornado_handler(gateway.server)

    class Transport(engine_handler, SocketIOTransport):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Bounded (python-engineio's is not): a client that sends faster than its
            # session serves fills it, and then Tornado stops reading its socket.
            self.receive_queue = asyncio.Queue(maxsize=RECEIVE_QUEUE)

        @property
        def max_message_size(self) -> int:
            return gateway.server.eio.max_http_buffer_size

        @allow_unauthenticated
        async def get(self, *args, **kwargs):
            await super().get(*args, **kwargs)

        @allow_unauthenticated
        async def post(self, *args, **kwargs):
            await super().post(*args, **kwargs)

        @allow_unauthenticated
        async def options(self, *args, **kwargs):
            await super().options(*args, **kwargs)

        async def open(self, *args, **kwargs):
            self.set_nodelay(True)
            sid = self.get_query_argument("sid", None)
            if sid is not None:  # the upgrade of a polling session to a WebSocket
                self.eio_sid = sid
                gateway.websockets[sid] = self
            await super().open(*args, **kwargs)

        def write_message(self, message, binary=False):
            self.writing = super().write_message(message, binary=binary)
            self.writing.add_done_callback(_retrieve)
            return self.writing

        def on_close(self):
            if self.eio_sid is not None and gateway.websockets.get(self.eio_sid) is self:
                del gateway.websockets[self.eio_sid]
            while True:  # the end of input, past what a closed client sent unread
                try:
                    self.receive_queue.put_nowait(None)
                    return
                except asyncio.QueueFull:
                    self.receive_queue.get_nowait()

        def check_origin(self, origin):
            """Judged at the connect, where the refusal can say why (``judge``)."""
            return True

        def check_xsrf_cookie(self):
            """Engine.IO's POSTs carry packets of a session whose id only its client
            knows, and its connect is judged with the origin check: no _xsrf here."""

        def set_cookie(self, *args, **kwargs):
            """No cookie: a token authenticates this client only (as on the plain socket)."""

        def clear_cookie(self, *args, **kwargs):
            """Never logs the browser out."""

        def get_compression_options(self):
            return self.settings.get("websocket_compression_options", None)

    return Transport


def _no_cookie(*args, **kwargs) -> None:
    """No cookie from a Socket.IO connect."""


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
