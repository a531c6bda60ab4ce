"""Previews on origins of their own: ``http://<port>-<id>.localhost:8888/<path>``.

Routed by host name (see ``app.py``), before any Jupyter route, so that a preview origin
never shows the Jupyter UI. The Jupyter login cookie is host-only and never comes here;
a request is let through on the preview origin's own cookie, which a single-use grant
from a URL the API handed out buys once (``preview_links.py``). Without it: 403 JSON.
The forwarding itself is the path proxy's (``PreviewForwarding``), at path ``/``, with
the app's own Host (``localhost:<port>``) and the browser's in X-Forwarded-Host.
"""

from __future__ import annotations

import json
from http.client import responses

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from ..base_handler import LINKS_KEY, ServiceMixin
from ..core.errors import ContainerManagerError, Forbidden
from ..core.preview_grants import GrantRefused
from ..core.preview_hosts import is_loopback_name, split_host
from ..core.preview_links import COOKIE_NAME, SECURE_COOKIE_NAME, PreviewLinks, split_grant_path
from .handler import PreviewForwarding

EMBEDDABLE = ("Cross-Origin-Resource-Policy", "cross-origin")


class PreviewAuthRequired(Forbidden):
    code = "PREVIEW_AUTH_REQUIRED"


@web.stream_request_body
class PreviewOriginHandler(PreviewForwarding, ServiceMixin, JupyterHandler):
    """Every request to a preview origin, whatever its path and verb. A Jupyter handler
    whose verbs Jupyter lets through unauthenticated: this origin's own cookie is the
    credential, checked in ``prepare()``."""

    jupyter_secrets = frozenset()

    @property
    def links(self) -> PreviewLinks:
        return self.settings[LINKS_KEY]

    @property
    def protected_cookie(self) -> str:
        return SECURE_COOKIE_NAME if self.secure_cookie else COOKIE_NAME

    @property
    def secure_cookie(self) -> bool:
        """Secure cookies work on https and on *.localhost (a secure context)."""
        return self.request.protocol == "https" or is_loopback_name(split_host(self.request.host)[0])

    @property
    def sandbox(self) -> bool:
        return self.manager.preview_sandbox

    def embedding_headers(self) -> list[tuple[str, str]]:
        policy = self.manager.preview_embedder_policy
        if not policy:
            return []
        return [EMBEDDABLE, ("Cross-Origin-Embedder-Policy", policy)]

    def set_embedding_headers(self) -> None:
        """For the answers of this server itself (the grant's redirect, errors): a
        cross-origin isolated page (COEP require-corp) blocks a frame's navigation at any
        answer without them, a redirect included, so its iframe would show Chromium's
        error page instead of the app or the reason it is refused."""
        for name, value in self.embedding_headers():
            self.set_header(name, value)

    def check_xsrf_cookie(self):
        """Jupyter's XSRF rules are for Jupyter's origin; the app does its own CSRF
        protection, and only this origin's cookie lets a request through."""
        return None

    def check_host(self) -> bool:
        """The host is a preview origin's: this route matched it (``add_preview_origins``),
        so Jupyter's allow-list of its own host names does not apply."""
        return True

    def set_secure_cookie(self, *args, **kwargs) -> None:
        """Jupyter's login cookie is never set here: a Jupyter token sent to a preview
        origin logs nobody in (this handler's only cookie is its own, set by hand)."""

    def set_cors_headers(self) -> None:
        """Jupyter's CORS settings (ServerApp.allow_origin) are for Jupyter's origin."""

    def set_default_headers(self):
        """Not Jupyter's headers (its CSP, its frame rules): the app's answer is the app's."""
        self.clear_header("Server")

    async def prepare(self):
        await super().prepare()  # Jupyter's: its hooks; no login asked (allow_unauthenticated)
        self.port, self.container_id = self.links.hosts.parse(self.request.host)
        self.target = self.request.uri or "/"
        grant = split_grant_path(self.request.path)
        # An unknown or foreign container is a 404 whoever asks (never the Jupyter UI).
        await self.find_container()
        if grant is not None:
            return self._redeem(*grant)
        cookie = self.get_cookie(self.protected_cookie)
        if not cookie:
            raise PreviewAuthRequired(
                f"This preview needs a preview URL handed out by the API (its grant sets "
                f"this origin's cookie): open it from JupyterLab, or ask "
                f"GET /webcontainer/{self.container_id}/url?port={self.port}")
        try:
            self.links.check_cookie(cookie, self.container_id, self.port)
        except GrantRefused as err:
            raise Forbidden(err.message, code=err.code) from None
        await self.begin_forwarding()

    def _redeem(self, grant: str, rest: str) -> None:
        """Trade a grant for this origin's cookie, then go to the rest of the path (307:
        the method and body are kept)."""
        location = rest + (f"?{self.request.query}" if self.request.query else "")
        cookie = self.get_cookie(self.protected_cookie)
        has_cookie = False
        if cookie:
            try:
                self.links.check_cookie(cookie, self.container_id, self.port)
                has_cookie = True
            except GrantRefused:
                pass
        if not has_cookie:
            try:
                self.links.check_grant(grant, self.container_id, self.port)
            except GrantRefused as err:
                raise Forbidden(err.message, code=err.code) from None
            token = self.links.new_cookie(self.container_id, self.port)
            self.add_header("Set-Cookie", self.links.cookie_header(
                token, secure=self.secure_cookie, max_age=int(self.links.cookie_lifetime)))
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")  # the grant stays out of referrers
        self.set_embedding_headers()
        self.redirect(location, status=307)

    @allow_unauthenticated  # by Jupyter: this origin's own cookie is checked in prepare()
    async def forward(self, *args, **kwargs):
        return await self.forward_request()

    get = head = post = put = patch = delete = options = forward

    # --- errors as JSON, like every route ------------------------------------------

    def log_exception(self, typ, value, tb) -> None:
        if not isinstance(value, ContainerManagerError):  # those are answers, not faults
            super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, ContainerManagerError):
            status_code = exc.status  # Tornado sent 500 for a non-HTTPError
            self.set_status(status_code)
        reason = responses.get(status_code, "Unknown HTTP Error")
        if isinstance(exc, ContainerManagerError):
            body = exc.to_json()
        elif isinstance(exc, web.HTTPError):
            body = {"message": exc.log_message or reason, "reason": reason, "code": None}
        else:
            body = {"message": "Internal server error; see the server log", "reason": reason,
                    "code": None}
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.set_embedding_headers()
        self.finish(json.dumps(body))


def add_preview_origins(web_app, links: PreviewLinks) -> str | None:
    """Route every host name of ``links``' preview origins to PreviewOriginHandler, ahead
    of Jupyter's own routes (which match any host). The pattern, or None (path mode)."""
    pattern = links.hosts.routing_pattern
    if pattern is None:
        return None
    web_app.add_handlers(pattern, [(r"/.*", PreviewOriginHandler)])
    rules = web_app.default_router.rules
    ours = [rule for rule in rules if getattr(rule.matcher, "host_pattern", None) is not None
            and rule.matcher.host_pattern.pattern in (pattern, pattern + "$")]
    for rule in ours:
        rules.remove(rule)
        rules.insert(0, rule)
    return pattern
