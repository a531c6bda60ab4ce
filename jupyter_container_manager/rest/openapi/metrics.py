"""OpenAPI paths of live metrics (rest/metrics.py)."""

from __future__ import annotations

from .components import CONTAINER_ID, error_responses, json_response


def _object(description: str, **properties: dict) -> dict:
    return {"type": "object", "description": description,
            "required": list(properties), "properties": properties}


BYTES = {"type": "integer", "minimum": 0}

METRICS = _object(
    "One reading of a running container's use of the machine",
    containerId={"type": "string"},
    time={"type": "string", "description": "when the engine read it (RFC 3339)"},
    cpu=_object("CPU", percent={"type": "number", "nullable": True, "minimum": 0,
                                "description": "since the engine's previous reading, in "
                                "percent of one core (200: two cores busy)"},
                cores={"type": "integer", "description": "cores the engine's host has"},
                limit={"type": "number", "description": "cores the container may use "
                       "(0: no cap)"}),
    memory=_object("Memory, page cache not counted (as `docker stats`)",
                   used=BYTES, limit={**BYTES, "description": "the container's limit, or "
                                      "the machine's memory when it has none"}),
    processes=_object("Processes", count=BYTES,
                      limit={**BYTES, "description": "0: no limit"}),
    disk=_object("Disk", used={**BYTES, "nullable": True, "description": "bytes used: "
                               "the disk quota's file system, else the container's "
                               "writable layer; null when not known"},
                 limit={**BYTES, "description": "the disk quota (0: none)"}),
    network=_object("Network, since the container started", rx=BYTES, tx=BYTES),
)
METRICS["example"] = {
    "containerId": "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b", "time": "2026-01-01T12:00:00Z",
    "cpu": {"percent": 12.5, "cores": 2, "limit": 1.0},
    "memory": {"used": 52428800, "limit": 1073741824},
    "processes": {"count": 3, "limit": 256}, "disk": {"used": 4096000, "limit": 0},
    "network": {"rx": 1024, "tx": 512},
}

PATHS = {
    "/containers/{container_id}/metrics": {
        "get": {
            "tags": ["containers"],
            "summary": "CPU, memory, processes, disk and network use of a running container "
                       "(the engine takes about a second to sample the CPU)",
            "operationId": "getContainerMetrics",
            "parameters": [CONTAINER_ID],
            "responses": {"200": json_response("The reading", METRICS),
                          **error_responses(403, 404, 409, 503)},
        },
    },
}
