"""The OpenAPI document is served and its paths are exactly the REST route table."""

from __future__ import annotations

import re

from jupyter_container_manager.handlers import route_table
from jupyter_container_manager.openapi import build_spec


def template(pattern: str) -> str:
    """``/containers/(?P<container_id>[^/]+)/start`` -> ``/containers/{container_id}/start``."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
    return path.replace("\\.", ".").rstrip("$")


def rest_routes() -> set[str]:
    from tornado.websocket import WebSocketHandler

    return {
        template(route[0])
        for route in route_table()
        if not issubclass(route[1], WebSocketHandler)
    }


def test_spec_paths_equal_the_route_table():
    assert set(build_spec()["paths"]) == rest_routes()


def test_every_operation_documents_errors_and_an_id():
    ids = set()
    for path, operations in build_spec()["paths"].items():
        for verb, operation in operations.items():
            assert operation.get("operationId"), (verb, path)
            assert operation["operationId"] not in ids, operation["operationId"]
            ids.add(operation["operationId"])
            assert any(code.startswith("2") for code in operation["responses"]), (verb, path)


async def test_openapi_json_is_served(api):
    answer = await api.get("containers", "openapi.json")
    assert answer.status == 200
    spec = answer.json()
    assert spec["openapi"].startswith("3.")
    assert "/containers" in spec["paths"]
    assert spec["components"]["securitySchemes"]["token"]["type"] == "apiKey"
