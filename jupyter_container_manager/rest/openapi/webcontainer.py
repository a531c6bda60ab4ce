"""OpenAPI paths of the WebContainer API (rest/webcontainer.py); its request bodies' schemas
are ``core.schemas``'."""

from __future__ import annotations

from .components import CONTAINER_ID, error_responses, json_body, json_response, ref

TAG = ["webcontainer"]
NO_CONTENT = {"204": {"description": "Done"}}
BASE = "/webcontainer/{container_id}"

PATH_IN_URL = {
    "name": "path",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Path taken from the workdir (may hold slashes; percent-encode other "
    "reserved characters). A path that leaves the workdir by '..' or a symlink: 403 EACCES.",
}


def query(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "string"},
        "description": description,
    }


FLAG = {"type": "boolean", "default": False}
FS_ERRORS = error_responses(400, 403, 404, 409, 503)

BOOTED = {
    "type": "object",
    "required": ["containerId", "workdir"],
    "properties": {
        "containerId": {"type": "string", "format": "uuid"},
        "workdir": {"type": "string"},
    },
}
DIRENT = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {
        "name": {"type": "string"},
        "type": {
            "type": "string",
            "enum": ["file", "directory", "symlink"],
            "description": "symlinks are not followed; special files count as file",
        },
    },
}
READDIR = {
    "summary": "List a folder (Node's readdir; sorted by name)",
    "parameters": [query("withFileTypes", "Answer [{name, type}] instead of names", FLAG)],
    "responses": {
        "200": json_response(
            "Names, or entries with their type",
            {
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": DIRENT},
                ]
            },
        ),
        **FS_ERRORS,
    },
}
SPAWN_RESULT = {
    "type": "object",
    "required": ["exitCode", "output"],
    "properties": {
        "exitCode": {"type": "integer", "description": "127: command not found; 124: timed out"},
        "output": {"type": "string", "description": "stdout and stderr merged in arrival order"},
        "timedOut": {"type": "boolean"},
        "truncated": {
            "type": "boolean",
            "description": "output cut at c.ContainerManager.spawn_output_limit",
        },
    },
}
SPAWN_STREAM = {
    "type": "string",
    "description": 'Chunked NDJSON: {"output": "..."} lines as the process writes, then one '
    '{"exitCode": n} line (with "timedOut": true after a timeout); if the Docker engine '
    'stopped answering meanwhile, the last line is {"error": message, "code": '
    '"ENGINE_UNAVAILABLE"} instead',
}


def op(verb: str, operation_id: str, summary: str, responses: dict, **extra) -> dict:
    return {
        verb: {
            "tags": TAG,
            "operationId": operation_id,
            "summary": summary,
            "parameters": [CONTAINER_ID, *extra.pop("parameters", [])],
            "responses": responses,
            **extra,
        }
    }


PATHS = {
    "/webcontainer/boot": {
        "post": {
            "tags": TAG,
            "operationId": "bootWebContainer",
            "summary": "Boot a WebContainer: a new running container, files mounted first",
            "requestBody": json_body(ref("BootRequest")),
            "responses": {
                "201": json_response("Booted", BOOTED),
                **error_responses(400, 403, 413, 422, 429, 503),
            },
        }
    },
    BASE: op(
        "delete",
        "teardownWebContainer",
        "Tear down: remove the container and its processes",
        {**NO_CONTENT, **error_responses(403, 404, 503)},
    ),
    f"{BASE}/mount": op(
        "post",
        "mountTree",
        "Write a FileSystemTree, or a zip archive (what export answers with format=zip or "
        "binary) as the raw body, into the workdir (or mountPoint)",
        {**NO_CONTENT, **error_responses(400, 403, 404, 409, 413, 503)},
        parameters=[
            query("mountPoint", "With a zip body: the folder from the workdir (made if missing)")
        ],
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": ref("MountRequest")},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        },
    ),
    f"{BASE}/fs/writeFile": {
        **op(
            "post",
            "writeFile",
            "Write a file atomically: readers see the old bytes or the new ones, never a "
            "part (its folder must exist: 404 ENOENT)",
            {**NO_CONTENT, **error_responses(400, 403, 404, 409, 413, 503)},
            requestBody=json_body(ref("WriteFileRequest"), required=True),
        ),
        **op(
            "put",
            "writeFileRaw",
            "Write a file from the raw request body (large and binary files, streamed); it "
            "changes only once the whole body arrived: a cut upload keeps the old bytes",
            {**NO_CONTENT, **error_responses(400, 403, 404, 409, 413, 503)},
            parameters=[query("path", "File path from the workdir", required=True)],
            requestBody={
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
        ),
    },
    f"{BASE}/fs/readFile/{{path}}": op(
        "get",
        "readFile",
        "Read a file: raw bytes, or text with encoding=utf-8",
        {
            "200": {
                "description": "The file",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            },
            **error_responses(400, 403, 404, 409, 413, 503),
        },
        parameters=[
            PATH_IN_URL,
            query("encoding", "utf-8: answer text", {"type": "string", "enum": ["utf-8"]}),
        ],
    ),
    f"{BASE}/fs/readdir": op(
        "get",
        "readdirWorkdir",
        "List the workdir",
        READDIR["responses"],
        parameters=READDIR["parameters"],
    ),
    f"{BASE}/fs/readdir/{{path}}": op(
        "get",
        "readdir",
        READDIR["summary"],
        READDIR["responses"],
        parameters=[PATH_IN_URL, *READDIR["parameters"]],
    ),
    f"{BASE}/fs/mkdir": op(
        "post",
        "mkdir",
        "Make a folder (EEXIST unless recursive; recursive makes parents)",
        {**NO_CONTENT, **FS_ERRORS},
        requestBody=json_body(ref("MkdirRequest"), required=True),
    ),
    f"{BASE}/fs/rm": op(
        "delete",
        "rm",
        "Remove a file, or a folder with recursive (else 409 EISDIR); force ignores a missing path",
        {**NO_CONTENT, **FS_ERRORS},
        parameters=[
            query("path", "Path from the workdir", required=True),
            query("recursive", "Remove folders and their contents", FLAG),
            query("force", "A missing path is not an error", FLAG),
        ],
    ),
    f"{BASE}/fs/rename": op(
        "post",
        "rename",
        "Rename or move (the new parent must exist; rename(2) semantics)",
        {**NO_CONTENT, **FS_ERRORS},
        requestBody=json_body(ref("RenameRequest"), required=True),
    ),
    f"{BASE}/spawn": op(
        "post",
        "spawn",
        "Run a process (argv) and wait, or stream its output as NDJSON",
        {
            "200": {
                "description": "The result, or (stream: true) NDJSON lines",
                "content": {
                    "application/json": {"schema": SPAWN_RESULT},
                    "application/x-ndjson": {"schema": SPAWN_STREAM},
                },
            },
            **error_responses(400, 403, 404, 409, 422, 503),
        },
        requestBody=json_body(ref("SpawnRequest"), required=True),
    ),
    f"{BASE}/url": op(
        "get",
        "previewUrl",
        "The preview URL of a container port: on an origin of its own with a fresh "
        "single-use grant, or the path proxy (see ContainerInfo.ports)",
        {
            "200": json_response(
                "Port and URL",
                {
                    "type": "object",
                    "required": ["port", "url"],
                    "properties": {"port": {"type": "integer"}, "url": {"type": "string"}},
                },
            ),
            **error_responses(400, 403, 404, 503),
        },
        parameters=[
            query(
                "port",
                "Container port",
                {"type": "integer", "minimum": 1, "maximum": 65535},
                required=True,
            )
        ],
    ),
    f"{BASE}/export": op(
        "get",
        "exportTree",
        "Export a folder as a FileSystemTree (json) or a zip (zip or binary; streamed)",
        {
            "200": {
                "description": "The tree, or a zip",
                "content": {
                    "application/json": {"schema": ref("FileSystemTree")},
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **error_responses(400, 403, 404, 409, 413, 503),
        },
        parameters=[
            query("path", "Folder from the workdir (default: the workdir)"),
            query(
                "format",
                "json, or zip (binary is the same zip, which mount takes back)",
                {"type": "string", "enum": ["json", "zip", "binary"], "default": "json"},
            ),
        ],
    ),
}
