"""``GET /containers/{id}/metrics``: one reading of a running container's CPU, memory,
processes, disk and network use (engine/metrics.py). Reading metrics is not activity: it
never keeps an idle container from being stopped."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base_handler import ContainerAPIHandler

ID = r"(?P<container_id>[^/]+)"


class ContainerMetricsHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str):
        info = await self.manager.require_running(container_id)
        metrics = await self.manager.container_metrics(info)
        self.set_header("Cache-Control", "no-store")
        self.write_json({"containerId": info.id, **metrics})


default_handlers = [
    (rf"/containers/{ID}/metrics", ContainerMetricsHandler),
]
