"""Shared OpenAPI pieces: schemas (the request bodies' from ``core.schemas``), error
answers, the token security scheme."""

from __future__ import annotations

from ...core.errors import node_error_codes
from ...core.models import STATUSES
from ...core.schemas import REQUEST_SCHEMAS

ERROR = {
    "type": "object",
    "required": ["message", "reason", "code"],
    "properties": {
        "message": {"type": "string"},
        "reason": {"type": "string", "nullable": True},
        "code": {
            "type": "string",
            "nullable": True,
            "description": "Node.js error code for file-system errors ("
            + ", ".join(node_error_codes())
            + "); a service code (ENGINE_UNAVAILABLE, IMAGE_NOT_FOUND, CA_CERTIFICATES_INVALID,"
            " ENOCONTAINER, ...) otherwise.",
        },
    },
}

CONTAINER_INFO = {
    "type": "object",
    "required": ["id", "name", "image", "status", "created", "owner", "workdir", "ports", "limits"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "Public UUID4 id"},
        "name": {"type": "string"},
        "image": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES), "description": (
            "lost: the container's node does not answer (backend swarm); `reason` says "
            "which node and why. It is neither removed nor recreated: it comes back as "
            "its node has it once the node answers, and it can be deleted meanwhile")},
        "reason": {"type": "string", "description": (
            "Only with status lost: which node does not answer, and what failed")},
        "created": {"type": "string", "description": "ISO 8601 creation time"},
        "owner": {"type": "string"},
        "workdir": {"type": "string"},
        "ports": {
            "type": "array",
            "description": "Announced ports, and the TCP ports something in the container "
            "listens on now, each with its preview URL",
            "items": {
                "type": "object",
                "required": ["port", "url"],
                "properties": {
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "url": {"type": "string", "description": (
                        "Preview URL. On an origin of its own, with a single-use grant "
                        "(http://<port>-<id>.localhost:<server port>/__jcm_grant/<grant>/ "
                        "for a browser on this machine, or the preview_host template); "
                        "else the path proxy, a path from the server root "
                        "(<base_url>containers/<id>/proxy/<port>/)")},
                },
            },
        },
        "limits": {
            "type": "object",
            "required": ["memory", "cpu_shares", "pids"],
            "properties": {
                "memory": {"type": "integer", "description": "bytes"},
                "cpu_shares": {"type": "integer"},
                "pids": {"type": "integer"},
            },
        },
        "disk": {
            "type": "object",
            "description": "The disk quota (disk_limit) and what is used of it",
            "required": ["limit", "used"],
            "properties": {
                "limit": {"type": "integer", "description": "bytes; 0: no quota"},
                "used": {"type": "integer", "nullable": True, "description": (
                    "bytes used, file system metadata included, where known cheaply "
                    "(a loop-mounted disk, while mounted); else null")},
            },
        },
    },
}

EXAMPLE_ID = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
ERROR["example"] = {
    "message": "ENOENT: no such file or directory, open '/workspace/missing.js'",
    "reason": "Not Found",
    "code": "ENOENT",
}
CONTAINER_INFO["example"] = {
    "id": EXAMPLE_ID,
    "name": "demo",
    "image": "node:20-alpine",
    "status": "running",
    "created": "2026-11-30T14:51:39.897+00:00",
    "owner": "ann",
    "workdir": "/workspace",
    "ports": [{"port": 3000, "url": f"/user/ann/containers/{EXAMPLE_ID}/proxy/3000/"}],
    "limits": {"memory": 536870912, "cpu_shares": 512, "pids": 512},
    "disk": {"limit": 2147483648, "used": 52428800},
}
# The answers' schemas, and the request bodies' (core.schemas: the handlers validate
# request bodies against these very schemas).
SCHEMAS = {
    "Error": ERROR,
    "ContainerInfo": CONTAINER_INFO,
    **REQUEST_SCHEMAS,
}

_STATUS_TEXT = {
    400: "Bad input",
    403: "Not authenticated or not allowed",
    404: "Unknown container, snapshot, checkpoint or path",
    409: "Conflict",
    410: "Gone (a snapshot whose image was removed)",
    413: "Too large",
    422: "Well-formed but impossible",
    429: "Quota reached",
    502: "Preview port does not answer",
    503: "Docker engine unreachable, image missing, or (creates) the CA bundle unusable",
}


def error_responses(*statuses: int) -> dict:
    """``responses`` entries for error answers, all of the Error schema."""
    return {
        str(status): {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_body(schema: dict, required: bool = False) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


CONTAINER_ID = {
    "name": "container_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "description": "Public id of a container",
}

SECURITY_SCHEMES = {
    "token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Jupyter token: `Authorization: token <TOKEN>` (or `?token=`, or the login cookie with XSRF)",
    }
}
