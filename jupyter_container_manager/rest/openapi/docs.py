"""OpenAPI paths of the documentation routes (rest/docs.py)."""

from .components import error_responses

PATHS = {
    "/containers/openapi.json": {
        "get": {
            "tags": ["docs"],
            "summary": "This OpenAPI document",
            "operationId": "getOpenAPI",
            "responses": {
                "200": {"description": "OpenAPI 3 document",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                **error_responses(403),
            },
        }
    },
    "/containers/docs": {
        "get": {
            "tags": ["docs"],
            "summary": "Swagger UI for this API (served from the package, no CDN)",
            "operationId": "getDocsPage",
            "responses": {
                "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **error_responses(403),
            },
        }
    },
    "/containers/docs/websocket": {
        "get": {
            "tags": ["docs"],
            "summary": "The /container WebSocket protocol, generated from the gateway's event tables",
            "operationId": "getWebSocketDocs",
            "responses": {
                "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **error_responses(403),
            },
        }
    },
    "/containers/docs/{asset}": {
        "get": {
            "tags": ["docs"],
            "summary": "A static file of the Swagger UI page",
            "operationId": "getDocsAsset",
            "parameters": [{"name": "asset", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                **error_responses(403, 404),
            },
        }
    },
    "/webcontainer-client/{asset}": {
        "get": {
            "tags": ["docs"],
            "summary": "The browser WebContainer client (webcontainer.js, an ES module, "
                       "and its source map)",
            "operationId": "getWebContainerClient",
            "parameters": [{"name": "asset", "in": "path", "required": True,
                            "schema": {"type": "string",
                                       "enum": ["webcontainer.js", "webcontainer.js.map"]}}],
            "responses": {
                "200": {"description": "The file: the module as JavaScript, its source map as JSON",
                        "content": {"text/javascript": {"schema": {"type": "string"}},
                                    "application/json": {"schema": {"type": "object"}}}},
                **error_responses(403, 404),
            },
        }
    },
}
