"""The OpenAPI document is served and its paths are exactly the REST route table."""

from __future__ import annotations

import re

from jupyter_container_manager.rest.openapi import build_spec
from jupyter_container_manager.routes import route_table


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


def _json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: nullable becomes a type list, examples go."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items() if k not in ("example", "nullable")}
        if node.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    return node


def _validator(schema, spec):
    """A validator whose local $refs (#/components/...) resolve inside the spec."""
    import jsonschema

    root = dict(_json_schema(schema), components=_json_schema(spec["components"]))
    return jsonschema.Draft7Validator(root)


def _examples(spec):
    """(where, schema, example) for every example in the document."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            if "example" in node and ("type" in node or "properties" in node or "oneOf" in node
                                      or "additionalProperties" in node):
                found.append((where, node, node["example"]))
            if "example" in node and "schema" in node:
                found.append((where, node["schema"], node["example"]))
            for key, value in node.items():
                if key != "example":
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(spec, "#")
    return found


def test_examples_validate_against_their_schemas():
    spec = build_spec()
    examples = _examples(spec)
    assert len(examples) >= 4
    for where, schema, example in examples:
        errors = list(_validator(schema, spec).iter_errors(example))
        assert not errors, (where, [e.message for e in errors])


def test_a_wrong_example_would_be_caught():
    spec = build_spec()
    info = spec["components"]["schemas"]["ContainerInfo"]
    assert list(_validator(info, spec).iter_errors(dict(info["example"], status="sleeping")))
    tree = spec["components"]["schemas"]["FileSystemTree"]
    bad_tree = {"src": {"directory": {"a.js": {"file": {"contents": 5}}}}}
    assert list(_validator(tree, spec).iter_errors(bad_tree))
