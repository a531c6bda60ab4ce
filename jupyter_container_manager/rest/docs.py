"""API documentation: ``/containers/openapi.json`` and Swagger UI at ``/containers/docs``,
served from the Python package (the swagger-ui-bundle distribution), no CDN."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import swagger_ui_bundle
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..base_handler import AUTH_RESOURCE, ContainerAPIHandler, ServiceMixin
from ..gateway import protocol
from ..gateway.docs_page import render_html
from .openapi import build_spec

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
OUR_DIR = Path(__file__).parent / "static"
# The browser WebContainer client, built by `jlpm build:client` (labextension/).
CLIENT_DIR = Path(__file__).parent.parent / "static" / "webcontainer"
CLIENT_ASSETS = {
    "webcontainer.js": "text/javascript; charset=utf-8",
    "webcontainer.js.map": "application/json",
}
# The only files the docs page needs; anything else is 404.
ASSETS = {
    "swagger-ui.css": SWAGGER_DIR,
    "swagger-ui-bundle.js": SWAGGER_DIR,
    "swagger-ui-standalone-preset.js": SWAGGER_DIR,
    "favicon-32x32.png": SWAGGER_DIR,
    "jcm-docs.js": OUR_DIR,
}


class OpenAPIHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        spec = build_spec()
        spec["servers"] = [{"url": self.base_url.rstrip("/") or "/"}]
        self.write_json(spec)


class DocsPageHandler(ServiceMixin, ExtensionHandlerMixin, JupyterHandler):
    """The Swagger UI page: HTML (so not an APIHandler, which forces JSON), yet 403
    without credentials like every route, and errors as JSON."""

    auth_resource = AUTH_RESOURCE
    write_error = ContainerAPIHandler.write_error
    # A CORS preflight (a page on an allowed origin fetching the client with a token).
    options = APIHandler.options

    def get_login_url(self) -> str:
        raise web.HTTPError(403, "Authentication required")

    def url(self, *parts: str) -> str:
        return ContainerAPIHandler.url(self, *parts)

    @property
    def content_security_policy(self) -> str:
        return "; ".join([
            "frame-ancestors 'self'",
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self' 'unsafe-inline'",
        ])

    @web.authenticated
    @authorized
    async def get(self):
        _ = self.xsrf_token  # sets the _xsrf cookie that "Try it out" sends back as X-XSRFToken
        page = (OUR_DIR / "docs.html").read_text()
        docs = self.url("containers", "docs")
        page = (page.replace("{{ASSETS}}", docs)
                .replace("{{SPEC_URL}}", self.url("containers", "openapi.json"))
                .replace("{{BASE_URL}}", self.base_url))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


class WebSocketDocsHandler(DocsPageHandler):
    """The /container WebSocket protocol, generated from the gateway's event tables."""

    @web.authenticated
    @authorized
    async def get(self):
        page = render_html(protocol.describe(), self.url("container"))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


class DocsAssetHandler(DocsPageHandler):
    @web.authenticated
    @authorized
    async def get(self, asset: str):
        folder = ASSETS.get(asset)
        if folder is None:
            raise web.HTTPError(404, f"No documentation asset {asset!r}")
        self.set_header("Content-Type", mimetypes.guess_type(asset)[0] or "application/octet-stream")
        self.set_header("Cache-Control", "private, max-age=3600")
        self.finish((folder / asset).read_bytes())


class WebContainerClientHandler(DocsPageHandler):
    """The browser WebContainer client as one ES module, for
    ``import { WebContainer } from '{base_url}webcontainer-client/webcontainer.js'``."""

    @web.authenticated
    @authorized
    async def get(self, asset: str):
        content_type = CLIENT_ASSETS.get(asset)
        if content_type is None:
            raise web.HTTPError(404, f"No client file {asset!r}")
        path = CLIENT_DIR / asset
        if not path.is_file():
            raise web.HTTPError(
                404, "The WebContainer client is not built: run `jlpm build` in labextension/ "
                "(or reinstall the package)")
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(path.read_bytes())


default_handlers = [
    (r"/containers/openapi\.json", OpenAPIHandler),
    (r"/containers/docs", DocsPageHandler),
    (r"/containers/docs/websocket", WebSocketDocsHandler),
    (r"/containers/docs/(?P<asset>[^/]+)", DocsAssetHandler),
    (r"/webcontainer-client/(?P<asset>[^/]+)", WebContainerClientHandler),
]
