"""OpenAPI paths of kernels in containers (rest/kernels.py)."""

from __future__ import annotations

from .components import CONTAINER_ID, error_responses, json_body, ref

MIME_BUNDLE = {
    "type": "object",
    "required": ["data", "metadata", "isMainResult"],
    "properties": {
        "data": {"type": "object", "additionalProperties": True,
                 "description": "MIME type -> value (image/png base64, text/html...)"},
        "metadata": {"type": "object", "additionalProperties": True},
        "isMainResult": {"type": "boolean",
                         "description": "The cell's value (execute_result), not a display"},
    },
}
EXECUTION_ERROR = {
    "type": "object",
    "nullable": True,
    "required": ["name", "value", "traceback"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"},
                   "traceback": {"type": "string", "description": "Without colour codes"}},
}
EXECUTION = {
    "type": "object",
    "required": ["stdout", "stderr", "results", "error", "executionCount"],
    "properties": {
        "stdout": {"type": "string"},
        "stderr": {"type": "string"},
        "results": {"type": "array", "items": MIME_BUNDLE},
        "error": EXECUTION_ERROR,
        "executionCount": {"type": "integer", "nullable": True},
        "timedOut": {"type": "boolean"},
    },
}
OPENED_KERNEL = {
    "type": "object",
    "required": ["containerId", "kernel", "session", "path"],
    "properties": {
        "containerId": {"type": "string"},
        "kernel": {"type": "object", "additionalProperties": True,
                   "description": "The Jupyter kernel model (as GET /api/kernels/{id})"},
        "session": {"type": "object", "nullable": True, "additionalProperties": True,
                    "description": "The Jupyter session model (as GET /api/sessions/{id})"},
        "path": {"type": "string", "nullable": True},
    },
}

PATHS = {
    "/containers/{container_id}/run-code": {
        "post": {
            "tags": ["kernels"],
            "summary": "Run code in the container's warm kernel (state kept between calls)",
            "description": "The kernel runs in the container (its Python, files and limits), "
            "started on the first call and stopped with the container. With `stream: true` "
            "the answer is NDJSON, one event a line: `{type: stdout|stderr, text}`, "
            "`{type: result, data, metadata, isMainResult}`, `{type: error, name, value, "
            "traceback}`, and last `{type: end, executionCount, error}`.",
            "operationId": "runCode",
            "parameters": [CONTAINER_ID],
            "requestBody": json_body(ref("RunCodeRequest"), required=True),
            "responses": {
                "200": {
                    "description": "The execution's output (or, streamed, its events)",
                    "content": {
                        "application/json": {"schema": EXECUTION},
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                **error_responses(400, 403, 404, 409, 503),
            },
        }
    },
    "/containers/{container_id}/kernels": {
        "post": {
            "tags": ["kernels"],
            "summary": "Open a Jupyter kernel in this container (and a notebook session)",
            "description": "A kernel of the spec python3-new-container running in this "
            "existing container, cwd its workdir; the container is kept when the kernel "
            "ends. With `path`, a session for that notebook (made if missing): open it in "
            "JupyterLab and it uses this kernel.",
            "operationId": "openKernel",
            "parameters": [CONTAINER_ID],
            "requestBody": json_body(ref("OpenKernelRequest")),
            "responses": {
                "201": {"description": "The kernel (and session)",
                        "content": {"application/json": {"schema": OPENED_KERNEL}}},
                **error_responses(400, 403, 404, 409, 503),
            },
        }
    },
}
