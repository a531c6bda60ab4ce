"""OpenAPI paths of snapshots, forks and checkpoints (rest/snapshots.py)."""

from __future__ import annotations

from .components import CONTAINER_ID, EXAMPLE_ID, error_responses, json_body, json_response, ref

SNAPSHOT_ID = {
    "name": "snapshot_id", "in": "path", "required": True,
    "schema": {"type": "string", "format": "uuid"}, "description": "Id of a snapshot",
}
CHECKPOINT_ID = {
    "name": "checkpoint_id", "in": "path", "required": True, "schema": {"type": "string"},
    "description": "Id of one of the container's checkpoints",
}

SNAPSHOT = {
    "type": "object",
    "required": ["id", "container", "name", "created", "size"],
    "description": "A container's file system saved (workdir, installed packages, home)",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "container": {"type": "string", "description": "Id of the container it was taken of"},
        "name": {"type": "string"},
        "created": {"type": "string", "description": "ISO 8601"},
        "size": {"type": "integer", "description": "bytes it adds to its container's image"},
    },
    "example": {"id": "6a1c4f8e-2b7d-4e0a-9c55-0f3e8d1b2a77", "container": EXAMPLE_ID,
                "name": "after npm install", "created": "2026-12-06T10:30:00.000+00:00",
                "size": 104857600},
}

CHANGE = {
    "type": "object", "required": ["path", "change"],
    "properties": {"path": {"type": "string", "description": "from the workdir"},
                   "change": {"type": "string", "enum": ["add", "change", "unlink"]}},
}
CHECKPOINT = {
    "type": "object",
    "required": ["id", "created", "size", "files"],
    "properties": {
        "id": {"type": "string"},
        "created": {"type": "string", "description": "ISO 8601"},
        "size": {"type": "integer", "description": "bytes of the copies it keeps"},
        "files": {"type": "array", "items": CHANGE,
                  "description": "The files that changed since the checkpoint before"},
    },
    "example": {"id": "3", "created": "2026-12-06T10:31:02.114Z", "size": 1834,
                "files": [{"path": "/src/app.js", "change": "change"},
                          {"path": "/notes.md", "change": "unlink"}]},
}
RESTORED = {
    "type": "object", "required": ["restored"],
    "properties": {"restored": {"type": "array", "items": {
        "type": "object", "required": ["path", "kind"],
        "properties": {"path": {"type": "string"},
                       "kind": {"type": "string", "enum": ["add", "change", "unlink"]}}}}},
}
SCHEMAS = {"Snapshot": SNAPSHOT, "Checkpoint": CHECKPOINT, "RestoreResult": RESTORED}

PATHS = {
    "/containers/snapshots": {
        "get": {
            "tags": ["snapshots"], "summary": "The owner's snapshots, oldest first",
            "operationId": "listSnapshots",
            "responses": {"200": json_response("Snapshots", {"type": "array",
                                                             "items": ref("Snapshot")}),
                          **error_responses(403, 422, 503)},
        },
    },
    "/containers/snapshots/{snapshot_id}": {
        "get": {
            "tags": ["snapshots"], "summary": "One snapshot", "operationId": "getSnapshot",
            "parameters": [SNAPSHOT_ID],
            "responses": {"200": json_response("The snapshot", ref("Snapshot")),
                          **error_responses(403, 404, 410, 503)},
        },
        "delete": {
            "tags": ["snapshots"], "operationId": "deleteSnapshot",
            "summary": "Delete a snapshot (containers started from it keep running)",
            "parameters": [SNAPSHOT_ID],
            "responses": {"204": {"description": "Deleted"},
                          **error_responses(403, 404, 410, 503)},
        },
    },
    "/containers/{container_id}/snapshots": {
        "post": {
            "tags": ["snapshots"], "operationId": "createSnapshot",
            "summary": "Save the container's file system as a snapshot (an engine commit; "
            "a workdir on a volume is copied in)",
            "parameters": [CONTAINER_ID],
            "requestBody": json_body(ref("CreateSnapshot")),
            "responses": {"201": json_response("Made", ref("Snapshot")),
                          **error_responses(400, 403, 404, 413, 422, 429, 503)},
        },
    },
    "/containers/{container_id}/fork": {
        "post": {
            "tags": ["snapshots"], "operationId": "forkContainer",
            "summary": "Start `count` copies of the container's file system at once (new "
            "ids, names and limits; none of its processes)",
            "parameters": [CONTAINER_ID],
            "requestBody": json_body(ref("ForkRequest")),
            "responses": {
                "201": json_response("The copies, running", {
                    "type": "object", "required": ["containers"],
                    "properties": {"containers": {"type": "array",
                                                  "items": ref("ContainerInfo")}}}),
                **error_responses(400, 403, 404, 413, 422, 429, 503)},
        },
    },
    "/containers/{container_id}/checkpoints": {
        "get": {
            "tags": ["checkpoints"], "operationId": "listCheckpoints",
            "summary": "The container's checkpoints of its workdir, oldest first",
            "parameters": [CONTAINER_ID],
            "responses": {"200": json_response("Checkpoints", {"type": "array",
                                                               "items": ref("Checkpoint")}),
                          **error_responses(403, 404, 409, 422, 503)},
        },
        "post": {
            "tags": ["checkpoints"], "operationId": "createCheckpoint",
            "summary": "Record the workdir's files changed since the last checkpoint",
            "parameters": [CONTAINER_ID],
            "requestBody": json_body(ref("CreateCheckpoint")),
            "responses": {"201": json_response("Recorded", ref("Checkpoint")),
                          **error_responses(400, 403, 404, 409, 422, 429, 503)},
        },
    },
    "/containers/{container_id}/checkpoints/{checkpoint_id}/restore": {
        "post": {
            "tags": ["checkpoints"], "operationId": "restoreCheckpoint",
            "summary": "Bring the workdir (or the paths named) back to a checkpoint; "
            "joined sockets get an fs-change per file",
            "parameters": [CONTAINER_ID, CHECKPOINT_ID],
            "requestBody": json_body(ref("RestoreRequest")),
            "responses": {"200": json_response("What changed", ref("RestoreResult")),
                          **error_responses(400, 403, 404, 409, 422, 503)},
        },
    },
}
