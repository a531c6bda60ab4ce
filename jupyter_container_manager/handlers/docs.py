"""``/containers/openapi.json``: the OpenAPI document of every REST route."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..openapi import build_spec
from .base import ContainerAPIHandler


class OpenAPIHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(build_spec())


default_handlers = [
    (r"/containers/openapi\.json", OpenAPIHandler),
]
