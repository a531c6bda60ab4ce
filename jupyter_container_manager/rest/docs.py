"""API documentation: ``/containers/openapi.json`` and Swagger UI at ``/containers/docs``,
served from the Python package (the swagger-ui-bundle distribution), no CDN; and the
browser WebContainer client at ``/webcontainer-client/webcontainer.js``.

The files are served by Jupyter's authenticated file handler (``AuthenticatedFileHandler``:
ETag, ranges, 304s, and Jupyter's rules for a GET with the login cookie), on the
``containers`` resource, from an allow-list: any other name is a 404.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, AuthenticatedFileHandler
from tornado import web

from ..base_handler import AUTH_RESOURCE, ContainerAPIHandler, JSONErrors
from ..gateway import protocol
from ..gateway.docs_page import render_html
from .openapi import build_spec

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
OUR_DIR = Path(__file__).parent / "static"
# The browser WebContainer client, built by `jlpm build:client` (labextension/).
CLIENT_DIR = Path(__file__).parent.parent / "static" / "webcontainer"
CLIENT_ASSETS = {
    "webcontainer.js": (CLIENT_DIR, "text/javascript; charset=utf-8"),
    "webcontainer.js.map": (CLIENT_DIR, "application/json"),
}
# The only files the docs page needs; anything else is 404.
ASSETS = {
    "swagger-ui.css": (SWAGGER_DIR, "text/css"),
    "swagger-ui-bundle.js": (SWAGGER_DIR, "text/javascript"),
    "swagger-ui-standalone-preset.js": (SWAGGER_DIR, "text/javascript"),
    "favicon-32x32.png": (SWAGGER_DIR, "image/png"),
    "jcm-docs.js": (OUR_DIR, "text/javascript"),
}


class OpenAPIHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        spec = build_spec()
        spec["servers"] = [{"url": self.base_url.rstrip("/") or "/"}]
        self.write_json(spec)


class DocsPageHandler(ContainerAPIHandler):
    """The Swagger UI page: HTML, yet 403 without credentials like every route, and
    errors as JSON."""

    def get_login_url(self) -> str:
        raise web.HTTPError(403, "Authentication required")

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
        self.finish(page, set_content_type="text/html; charset=utf-8")


class WebSocketDocsHandler(DocsPageHandler):
    """The /container WebSocket protocol, generated from the gateway's event tables."""

    @web.authenticated
    @authorized
    async def get(self):
        page = render_html(protocol.describe(), self.url("container"))
        self.finish(page, set_content_type="text/html; charset=utf-8")


class StaticFilesHandler(JSONErrors, AuthenticatedFileHandler, APIHandler):
    """Files of the package behind Jupyter's authentication: ``files`` names each one
    with its folder and type. APIHandler brings what every route has: 403 rather than a
    login redirect, and the CORS preflight (a page on an allowed origin fetching the
    client with a token)."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, files: dict[str, tuple[Path, str]], cache_control: str,
                   missing: str = "") -> None:
        super().initialize(path="/")
        self.files = files
        self.cache_control = cache_control
        self.missing = missing  # why a listed file can be absent

    # The route names its group `asset` (as the OpenAPI document does); the file
    # handler's own get() and head() authenticate and authorise again.
    @web.authenticated
    def get(self, asset: str, include_body: bool = True):
        return super().get(asset, include_body=include_body)

    @web.authenticated
    def head(self, asset: str):
        return super().head(asset)

    def parse_url_path(self, url_path: str) -> str:
        if url_path not in self.files:
            raise web.HTTPError(404, f"No such file {url_path!r}")
        return url_path

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        folder, _ = self.files[self.path]
        if self.missing and not (folder / self.path).is_file():
            raise web.HTTPError(404, self.missing)
        # The name is one of the allow-list, never the request's: a file or folder that
        # is a link (a development build) is served from where it points.
        path = (folder / self.path).resolve()
        return super().validate_absolute_path(str(path.parent), str(path))

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return path  # the folder is the file's own, in validate_absolute_path()

    def get_content_type(self) -> str:
        return self.files[self.path][1]

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", self.cache_control)

    def finish(self, chunk=None):
        """The file keeps its type (APIHandler.finish() would label it JSON)."""
        if self.get_status() in (200, 206) and getattr(self, "absolute_path", None):
            return super().finish(chunk, set_content_type=self.get_content_type())
        return super().finish(chunk)


DOCS_FILES = {"files": ASSETS, "cache_control": "private, max-age=3600"}
CLIENT_FILES = {
    "files": CLIENT_ASSETS,
    "cache_control": "private, no-cache",
    "missing": "The WebContainer client is not built: run `jlpm build` in labextension/ "
               "(or reinstall the package)",
}
default_handlers = [
    (r"/containers/openapi\.json", OpenAPIHandler),
    (r"/containers/docs", DocsPageHandler),
    (r"/containers/docs/websocket", WebSocketDocsHandler),
    (r"/containers/docs/(?P<asset>[^/]+)", StaticFilesHandler, DOCS_FILES),
    (r"/webcontainer-client/(?P<asset>[^/]+)", StaticFilesHandler, CLIENT_FILES),
]
