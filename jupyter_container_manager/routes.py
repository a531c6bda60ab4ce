"""The route table: every capability's module has its own ``default_handlers``."""

from __future__ import annotations

from .gateway import handler as gateway
from .proxy import handler as proxy
from .rest import containers, docs, kernels, metrics, snapshots, webcontainer

# Order matters where patterns overlap: fixed paths before ``/containers/{id}``.
HANDLER_MODULES = [docs, proxy, snapshots, containers, kernels, metrics, webcontainer, gateway]


def route_table() -> list[tuple]:
    """Every route of the extension, in match order (patterns without base_url)."""
    routes: list[tuple] = []
    for module in HANDLER_MODULES:
        routes.extend(module.default_handlers)
    return routes
