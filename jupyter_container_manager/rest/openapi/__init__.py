"""The OpenAPI 3 document of every REST route, assembled from one module per
REST module; tests check that its paths are the route tables' paths."""

from __future__ import annotations

from ... import __version__
from . import containers, docs, kernels, metrics, proxy, snapshots, webcontainer
from .components import SCHEMAS, SECURITY_SCHEMES

PATH_MODULES = [containers, docs, metrics, proxy, snapshots, webcontainer, kernels]


def build_spec() -> dict:
    paths: dict = {}
    for module in PATH_MODULES:
        paths.update(module.PATHS)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "jupyter-container-manager",
            "version": __version__,
            "description": "Real Docker containers for Jupyter users, with a "
            "WebContainer-compatible API. All paths hang under the Jupyter server's base_url.",
        },
        "paths": paths,
        "components": {"schemas": {**SCHEMAS, **snapshots.SCHEMAS},
                       "securitySchemes": SECURITY_SCHEMES},
        "security": [{"token": []}],
    }
