"""Preview proxy: ``/containers/{id}/proxy/{port}/{path}`` to that port in the container.

``PreviewForwarding`` is the forwarding itself, shared with the preview origins
(``origin.py``, the same forwarding at ``/`` of an origin of its own);
``PreviewProxyHandler`` adds the path prefix and Jupyter's authentication.

``/containers/{id}/proxy/{port}/x`` reaches the app as ``/x`` (with X-Forwarded-Prefix);
``/containers/{id}/proxy/absolute/{port}/x`` reaches it with the whole path, for apps
configured with that prefix as their base path (Vite ``base``, Next ``basePath``).

Every verb goes through one method, with the request and the response body streamed
(flow-controlled, never held whole); a WebSocket upgrade becomes a byte tunnel, so
subprotocols, extensions and frame sizes are whatever browser and app agree on.
Authentication and authorisation happen in ``prepare()`` for every verb, an upgrade
included (403 JSON, never a redirect); only the owner's containers are reached (404).

Why not jupyter-server-proxy (4.6, read and measured, see benchmarks/bench_proxy.py):
its ``ProxyHandler`` holds the whole request body (no ``stream_request_body``) and the
whole response body (``_proxy_buffered``) unless the client sends exactly
``Accept: text/event-stream``; there a slow reader gets no flow control (chunks pile up
in memory). So a slow answer's first byte waits for its end, and a large download fails
past its buffer while the server grows by as much (the benchmark shows both). It also forwards every request header (cookies and token included) and does WebSocket with
a message-level client (a 10 MiB message cap, subprotocol chosen before the app is
asked). What it does well is kept here: auth in ``prepare()``, 403 for upgrades,
hop-by-hop headers stripped, ``X-Forwarded-Prefix``, redirects kept under the prefix.
"""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import utcnow
from jupyter_server.utils import ensure_async
from tornado import httputil, web
from tornado.iostream import StreamClosedError

from ..base_handler import ContainerAPIHandler
from ..body_timeout import BodyTimeout
from ..core.errors import Forbidden, UpstreamUnavailable
from ..core.models import ContainerInfo
from .rules import (
    parse_port,
    request_headers,
    response_headers,
    without_credential_args,
)
from .upstream import (
    PreviewConnections,
    UpstreamClosed,
    UpstreamExchange,
    format_head,
    read_head,
    relay_upgrade,
)

CONNECTIONS_KEY = "container_preview_connections"
CONNECT_TIMEOUT = 10.0  # seconds to reach the port
UPGRADE_TIMEOUT = 30.0  # seconds for the app to answer a WebSocket handshake
ID = r"(?P<container_id>[^/]+)"
# Anything in the port slot, so that a bad port gets a 400 rather than a generic 404.
PORT = r"(?P<port>[^/]+)"


class PreviewForwarding(BodyTimeout):
    """The forwarding of one preview request to a port in a container, whatever its verb,
    a WebSocket upgrade included. The handler that mixes it in sets, in ``prepare()``,
    ``container_id``, ``port`` and ``target`` (path and query for the app), then awaits
    ``begin_forwarding()``; and it says what the rules are (``app_prefix``,
    ``protected_cookie``, ``jupyter_secrets``, ``sandbox``, ``embedding_headers``)."""

    exchange: UpstreamExchange | None = None
    relay: asyncio.Future | None = None
    container: ContainerInfo | None = None
    container_from_cache = False
    app_prefix = ""
    sandbox = False

    async def find_container(self) -> ContainerInfo:
        """The container, remembered from a moment ago or looked up (404, 409)."""
        if self.container is None:
            self.container = self.connections.addresses.get(self.container_id)
            self.container_from_cache = self.container is not None
            if self.container is None:
                self.container = await self._look_up()
        return self.container

    async def begin_forwarding(self):
        await self.find_container()
        self._record_activity()
        if self.upgrade or self._needs_slash():
            return  # handled by forward(), no body to stream
        self.exchange = await self._reach(self._open)
        self.connections.add(self.container_id, self.exchange)
        self.relay = asyncio.ensure_future(self.exchange.relay_response(self))
        self.watch_body()  # a body that stops arriving is cut

    def receive_body(self, chunk: bytes):
        if self.exchange is None:
            return None  # an error answer is on its way; the body is dropped
        return self._send(chunk)

    async def forward_request(self):
        self.body_received()
        if self.upgrade:
            return await self._tunnel()
        if self._needs_slash():
            query = f"?{self.request.query}" if self.request.query else ""
            return self.redirect(f"{self.request.path}/{query}")
        self.exchange.finish()
        try:
            whole = await self.relay
        except UpstreamClosed as err:
            raise self._unavailable(str(err)) from err
        finally:
            self.connections.discard(self.container_id, self.exchange)
        if whole:
            self.finish()
        else:  # the app stopped mid-answer: end the connection so the client sees it
            self.request.connection.close()

    def on_connection_close(self):
        if self.exchange is not None:
            self.exchange.close()
        if self.relay is not None:  # the browser left: nobody will read the relay's outcome
            self.relay.add_done_callback(lambda done: done.cancelled() or done.exception())

    # --- ResponseSink: the app's answer to the browser ---------------------------------

    async def answer_started(
        self, start_line: httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ):
        self._clear_own_headers()
        self.set_status(start_line.code, start_line.reason or None)
        answer = response_headers(list(headers.get_all()), **self._answer_rules())
        for name, value in answer + self._embedding_headers(answer):
            self.add_header(name, value)
        await self._flush_or_drop()

    async def answer_data(self, chunk: bytes):
        self._record_activity()
        self.write(chunk)
        await self._flush_or_drop()

    def _clear_own_headers(self):
        """Drop Tornado's and Jupyter's default headers (content type, Jupyter's own CSP,
        CORS): the answer is the app's. A cookie this server just set stays."""
        self.clear()
        defaults = {"Content-Type", "Server", "Date", "Content-Security-Policy"}
        defaults |= {"X-Content-Type-Options", *self.settings.get("headers", {})}
        for name in defaults:
            self.clear_header(name)

    def _embedding_headers(self, answer: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers that let cross-origin isolated pages embed the preview, where the app
        sent none of its own."""
        present = {name.lower() for name, _ in answer}
        return [(n, v) for n, v in self.embedding_headers() if n.lower() not in present]

    def embedding_headers(self) -> list[tuple[str, str]]:
        return []

    async def _flush_or_drop(self):
        try:
            await self.flush()
        except StreamClosedError:
            self.exchange.close()  # the browser left; stop reading from the app

    # --- WebSocket (any HTTP upgrade): a byte tunnel ----------------------------------

    async def _tunnel(self):
        upstream = await self._reach(self._connect)
        upgrade = self.request.headers["Upgrade"]
        head = format_head(
            f"GET {self.target} HTTP/1.1",
            self._request_headers(upgrade=upgrade),
        )
        try:
            await upstream.write(head)
            status_line, answer = await read_head(upstream, UPGRADE_TIMEOUT)
        except (UpstreamClosed, StreamClosedError) as err:
            upstream.close()
            raise self._unavailable("closed the connection without answering") from err
        answer = response_headers(answer, **self._answer_rules())
        if status_line.split(" ")[1:2] == ["101"]:
            answer += [("Connection", "Upgrade"), ("Upgrade", upgrade)]
        client = self.detach()
        self.connections.add(self.container_id, client)
        self.connections.add(self.container_id, upstream)
        try:
            await client.write(format_head(status_line, answer))
            await relay_upgrade(client, upstream, on_traffic=self._record_activity)
        except StreamClosedError:
            client.close()
            upstream.close()
        finally:
            self.connections.discard(self.container_id, client)
            self.connections.discard(self.container_id, upstream)

    # --- helpers -----------------------------------------------------------------

    @property
    def upgrade(self) -> bool:
        headers = self.request.headers
        connection = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
        return (
            self.request.method == "GET"
            and headers.get("Upgrade", "").lower() == "websocket"
            and "upgrade" in connection
        )

    @property
    def connections(self) -> PreviewConnections:
        found = self.settings.get(CONNECTIONS_KEY)
        if found is None:
            found = self.settings[CONNECTIONS_KEY] = PreviewConnections()
            self.manager.on_container_removed(found.close_container)
            # A stopped container's address may soon be another's: look it up again.
            self.manager.on_container_stopped(found.addresses.drop)
        return found

    @property
    def app_host(self) -> str:
        """The Host the app sees: its own loopback name, as on WebContainer, so dev servers
        that check host names (Vite's allowed hosts) accept it; the browser's host goes in
        X-Forwarded-Host."""
        return f"localhost:{self.port}"

    def _needs_slash(self) -> bool:
        return False

    def _body_kind(self) -> str:
        headers = self.request.headers
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            return "chunked"
        if headers.get("Content-Length", "0").strip() not in ("", "0"):
            return "length"
        return "none"

    def _request_headers(self, upgrade: str | None = None) -> list[tuple[str, str]]:
        return request_headers(
            list(self.request.headers.get_all()),
            upstream_host=self.app_host,
            prefix=self.app_prefix,
            client_host=self.request.host,
            client_proto=self.request.protocol,
            client_ip=self.request.remote_ip or "",
            forward_credentials=self.manager.proxy_forward_credentials,
            login_cookie=self.protected_cookie,
            secrets=self.jupyter_secrets,
            upgrade=upgrade,
        )

    def _answer_rules(self) -> dict:
        return {
            "prefix": self.app_prefix,
            "upstream_host": self.app_host,
            "protect_cookies": not self.manager.proxy_forward_credentials,
            "login_cookie": self.protected_cookie,
            "sandbox": self.sandbox,
        }

    async def _look_up(self) -> ContainerInfo:
        """The container, from the engine (its address now, not as last known): 404 when
        it is not this owner's, 409 when it is not running."""
        info = await self.manager.require_running(self.container_id, fresh=True)
        self.connections.addresses.put(self.container_id, info)
        return info

    async def _reach(self, attempt):
        """``await attempt()`` against ``self.container``; when a container remembered from
        a moment ago does not answer, look it up again (it may have stopped or moved) and
        try once more. 502 when the port does not answer."""
        try:
            return await attempt()
        except UpstreamClosed as err:
            if not self.container_from_cache:
                raise self._unavailable(str(err)) from err
        self.connections.addresses.drop(self.container_id)
        self.container, self.container_from_cache = await self._look_up(), False
        try:
            return await attempt()
        except UpstreamClosed as err:
            raise self._unavailable(str(err)) from err

    async def _connect(self):
        return await self.manager.open_port(self.container, self.port, CONNECT_TIMEOUT)

    async def _open(self) -> UpstreamExchange:
        stream = await self._connect()
        try:
            return await UpstreamExchange.open(
                stream,
                method=self.request.method,
                target=self.target,
                headers=self._request_headers(),
                body=self._body_kind(),
            )
        except UpstreamClosed:
            stream.close()
            raise

    async def _send(self, chunk: bytes):
        try:
            await self.exchange.write(chunk)
        except StreamClosedError:
            pass  # the app closed the connection; its answer (or its absence) tells why

    def _unavailable(self, why: str) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"Port {self.port} of container {self.container_id} does not answer ({why}). "
            f"Start a server in the container that listens on port {self.port}."
        )

    def _record_activity(self):
        """Preview traffic counts as activity, for Jupyter's idle culling and for the
        container's own idle_timeout."""
        self.settings.setdefault("last_activity_times", {})["jupyter_container_manager"] = utcnow()
        self.manager.touch(self.container_id)


@web.stream_request_body
class PreviewProxyHandler(PreviewForwarding, ContainerAPIHandler):
    """A preview on the Jupyter origin, under ``/containers/{id}/proxy/{port}/``."""

    def initialize(self, absolute: bool = False, **kwargs):
        super().initialize(**kwargs)
        # absolute: the app gets the whole path, prefix included (for apps configured
        # with it as their base path); otherwise the path after the port.
        self.absolute = absolute

    async def prepare(self):
        await super().prepare()  # Jupyter's authentication
        if not self.current_user:
            raise web.HTTPError(403, "Authentication required")
        if not super().check_origin():  # Jupyter's rules, skipped by check_origin() below
            raise Forbidden(
                "Cross-origin request refused: the login cookie works only from this origin "
                "(token-authenticated requests may come from anywhere)"
            )
        action = HTTP_METHOD_TO_AUTH_ACTION.get(self.request.method, "write")
        allowed = self.authorizer.is_authorized(self, self.current_user, action, self.auth_resource)
        if not await ensure_async(allowed):
            raise Forbidden(f"Not authorized to {action} on resource: {self.auth_resource}")
        self.container_id = self.path_kwargs["container_id"]
        self.port = parse_port(self.path_kwargs["port"])
        await self.find_container()  # 404 for an unknown id, before its path is read
        self.url_prefix, self.target = self._split_path()
        await self.begin_forwarding()

    def check_origin(self, origin_to_satisfy_tornado: str = "") -> bool:
        """True for APIHandler.prepare(), which would answer a 404: prepare() checks
        Jupyter's rules itself, after authentication, and answers a 403."""
        return True

    def check_xsrf_cookie(self):
        """No Jupyter XSRF token on preview writes: the app's own forms and fetches cannot
        know it, and the app does its own CSRF protection. A cookie-authenticated write
        from another origin is still refused, by the origin check of ``prepare()``."""
        return None

    @web.authenticated
    @authorized
    async def forward(self, container_id: str, port: str, path: str | None = None):
        return await self.forward_request()

    get = head = post = put = patch = delete = options = forward

    @property
    def protected_cookie(self) -> str:
        return self.identity_provider.get_cookie_name(self)

    @property
    def sandbox(self) -> bool:
        return self.manager.proxy_sandbox

    def _split_path(self) -> tuple[str, str]:
        """(URL prefix up to the port, target path and query for the app), from the raw
        request path, so that percent-escapes reach the app as the browser sent them."""
        marker = f"/containers/{self.container_id}/proxy/" + ("absolute/" if self.absolute else "")
        path = self.request.path
        start = path.index(marker, max(len(self.base_url) - 1, 0)) + len(marker)
        slot, _, rest = path[start:].partition("/")
        prefix = path[: start + len(slot)]
        query = self.request.query
        if not self.manager.proxy_forward_credentials:
            query = without_credential_args(query, self.jupyter_secrets)
        target = path if self.absolute else "/" + rest
        return prefix, target + (f"?{query}" if query else "")

    @property
    def app_prefix(self) -> str:
        """The prefix the proxy takes off the path, sent as X-Forwarded-Prefix and put in
        front of the app's redirects; '' in absolute mode, where nothing is taken off."""
        return "" if self.absolute else self.url_prefix

    @property
    def jupyter_secrets(self) -> frozenset[str]:
        """The Jupyter tokens of this request: the server's token, and the token that
        authenticated it (a JupyterHub API token, say). Never forwarded by default."""
        provider = self.identity_provider
        secrets = {getattr(provider, "token", "") or ""}
        if self.token_authenticated and hasattr(provider, "get_token"):
            secrets.add(provider.get_token(self) or "")
        return frozenset(secrets - {""})

    def _needs_slash(self) -> bool:
        """``.../proxy/3000`` is redirected to ``.../proxy/3000/`` for GET and HEAD, so
        that the page's relative URLs resolve under the prefix. Not in absolute mode: the
        app knows its base path and whether it wants a slash (Next redirects it away)."""
        return (
            not self.absolute
            and self.request.path == self.url_prefix
            and self.request.method in ("GET", "HEAD")
        )


ABSOLUTE = {"absolute": True}
default_handlers = [
    (rf"/containers/{ID}/proxy/absolute/{PORT}/(?P<path>.*)", PreviewProxyHandler, ABSOLUTE),
    (rf"/containers/{ID}/proxy/absolute/{PORT}", PreviewProxyHandler, ABSOLUTE),
    (rf"/containers/{ID}/proxy/{PORT}/(?P<path>.*)", PreviewProxyHandler),
    (rf"/containers/{ID}/proxy/{PORT}", PreviewProxyHandler),
]
