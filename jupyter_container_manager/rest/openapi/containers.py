"""OpenAPI paths of the Direct API (rest/containers.py)."""

from __future__ import annotations

from .components import CONTAINER_ID, error_responses, json_body, json_response, ref

INFO = json_response("The container", ref("ContainerInfo"))


def _action(verb: str, summary: str) -> dict:
    return {
        "post": {
            "tags": ["containers"],
            "summary": summary,
            "operationId": f"{verb}Container",
            "parameters": [CONTAINER_ID],
            "responses": {"200": INFO, **error_responses(403, 404, 409, 503)},
        }
    }


PATHS = {
    "/containers": {
        "get": {
            "tags": ["containers"],
            "summary": "List the containers of this server's owner",
            "operationId": "listContainers",
            "responses": {
                "200": json_response("Containers", {"type": "array", "items": ref("ContainerInfo")}),
                **error_responses(403, 503),
            },
        },
        "post": {
            "tags": ["containers"],
            "summary": "Create and start a container (files written before the answer)",
            "operationId": "createContainer",
            "requestBody": json_body(ref("CreateContainer")),
            "responses": {
                "201": json_response("Created, status running", ref("ContainerInfo")),
                **error_responses(400, 403, 413, 422, 429, 503),
            },
        },
    },
    "/containers/{container_id}": {
        "get": {
            "tags": ["containers"],
            "summary": "One container",
            "operationId": "getContainer",
            "parameters": [CONTAINER_ID],
            "responses": {"200": INFO, **error_responses(403, 404, 503)},
        },
        "delete": {
            "tags": ["containers"],
            "summary": "Remove a container; its sessions, processes, watchers and proxies end too",
            "operationId": "deleteContainer",
            "parameters": [CONTAINER_ID],
            "responses": {"204": {"description": "Removed"}, **error_responses(403, 404, 503)},
        },
    },
    "/containers/{container_id}/start": _action("start", "Start a stopped container"),
    "/containers/{container_id}/stop": _action("stop", "Stop a container (files are kept)"),
    "/containers/{container_id}/restart": _action("restart", "Restart a container"),
}
