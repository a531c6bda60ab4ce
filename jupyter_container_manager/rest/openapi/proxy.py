"""OpenAPI paths of the preview proxy (proxy/handler.py)."""

from __future__ import annotations

from .components import CONTAINER_ID, error_responses

VERBS = ("get", "head", "post", "put", "patch", "delete", "options")

PORT = {
    "name": "port",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 65535},
    "description": "Port inside the container; anything else answers 400",
}
PATH = {
    "name": "path",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Path forwarded to the app, with the query string (minus `_xsrf` and "
    "a `token` that is a Jupyter token, unless c.ContainerManager.proxy_forward_credentials)",
}

DESCRIPTION = """Forwards the request to `http://<container address>:<port>/<path>` and
streams the answer back: any verb, request and response bodies streamed both ways, and a
WebSocket upgrade (`Upgrade: websocket`) tunnelled to the app. The app gets
`X-Forwarded-Prefix` (this path up to the port, base_url included), `X-Forwarded-Host`,
`X-Forwarded-Proto` and `X-Forwarded-For` (and, under `/proxy/absolute/`, the whole path
instead of X-Forwarded-Prefix); by default it never gets Jupyter's cookies, an
`Authorization` or `token` holding a Jupyter token, `X-XSRFToken` or `_xsrf`, and every
answer carries
`Content-Security-Policy: sandbox ...` without `allow-same-origin`
(c.ContainerManager.proxy_forward_credentials, c.ContainerManager.proxy_sandbox).
Requires Jupyter authentication like every route; an upgrade without it gets 403."""

_ANSWERS = {
    "200": {
        "description": "The app's answer (any status, headers and body), streamed",
        "headers": {
            "Content-Security-Policy": {
                "description": "`sandbox allow-scripts allow-forms allow-popups allow-modals "
                "allow-downloads`, added unless proxy_sandbox is off",
                "schema": {"type": "string"},
            }
        },
    },
    "101": {"description": "WebSocket upgrade accepted by the app (GET with Upgrade)"},
    **error_responses(400, 403, 404, 409, 502),
}


def _operations(suffix: str, parameters: list[dict], summary: str) -> dict:
    return {
        verb: {
            "tags": ["preview proxy"],
            "summary": summary,
            "description": DESCRIPTION,
            "operationId": f"proxy{suffix}{verb.capitalize()}",
            "parameters": [CONTAINER_ID, *parameters],
            "responses": _ANSWERS,
        }
        for verb in VERBS
    }


PATHS = {
    "/containers/{container_id}/proxy/{port}/{path}": _operations(
        "", [PORT, PATH], "A path of the app listening on a container port"
    ),
    "/containers/{container_id}/proxy/{port}": _operations(
        "Root", [PORT], "The app's root; GET and HEAD (without Upgrade) redirect to .../{port}/"
    ),
    "/containers/{container_id}/proxy/absolute/{port}/{path}": _operations(
        "Absolute", [PORT, PATH],
        "A path of the app, forwarded whole (prefix included) for apps whose base path is it",
    ),
    "/containers/{container_id}/proxy/absolute/{port}": _operations(
        "AbsoluteRoot", [PORT],
        "The app's root, forwarded whole (no redirect: the app decides about the slash)",
    ),
}
for _path in ("/containers/{container_id}/proxy/{port}",):
    for _verb in ("get", "head"):
        PATHS[_path][_verb]["responses"] = {
            "302": {"description": "Redirect to the same URL with a '/', query kept"},
            **_ANSWERS,
        }
