"""OpenAPI paths of the documentation routes (handlers/docs.py)."""

PATHS = {
    "/containers/openapi.json": {
        "get": {
            "tags": ["docs"],
            "summary": "This OpenAPI document",
            "operationId": "getOpenAPI",
            "responses": {
                "200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
    },
}
