"""The JSON Schemas of the REST request bodies, and of the FileSystemTree they carry.

One source for two uses: the OpenAPI document publishes them under
``components.schemas`` (``rest/openapi``), and the handlers validate request bodies
against them (``core.validation.check_body``), so the spec and the checks cannot drift.
They are written in the OpenAPI 3.0 dialect of JSON Schema (draft 4 keywords; references
point into ``#/components/schemas/``). A ``title`` names what a value must be in error
messages ("'ports[0]' must be a port number from 1 to 65535, not 0").

What a schema cannot say stays in code: a path inside the workdir, an environment
variable name, file names in a tree, NUL bytes in argv.

Pure: imports nothing from the rest of the package.
"""

from __future__ import annotations

MAX_SPAWN_TIMEOUT = 7 * 24 * 3600  # seconds


def ref(name: str) -> dict:
    """A reference to one of the published schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
BYTES = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}
TEXT_OR_BYTES = {
    "title": "a string (or an array of bytes)",
    "oneOf": [{"type": "string"}, BYTES],
    "description": "Text (or base64 with encoding), or the bytes as an array (a Uint8Array "
    "sent as JSON)",
}
ENCODING = {"type": "string", "enum": ["utf-8", "utf8", "base64"], "default": "utf-8"}

FILE_SYSTEM_TREE = {
    "type": "object",
    "description": 'WebContainer FileSystemTree: {"name": {"file": {"contents": "..."}} | '
    '{"directory": {...}}}',
    "additionalProperties": {
        "oneOf": [
            {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "object",
                        "required": ["contents"],
                        "properties": {"contents": TEXT_OR_BYTES, "encoding": ENCODING},
                    }
                },
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["directory"],
                "properties": {"directory": ref("FileSystemTree")},
                "additionalProperties": False,
            },
        ]
    },
}

PORT = {"title": "a port number from 1 to 65535", "type": "integer", "minimum": 1,
        "maximum": 65535}

CREATE_CONTAINER = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "image": {
            "type": "string",
            "description": "Default: c.ContainerManager.image. When c.ContainerManager."
            "allowed_images is set, an image matching none of its patterns is refused "
            "with 403, code EIMAGE_NOT_ALLOWED, before anything is created.",
        },
        "env": STRING_MAP,
        "files": ref("FileSystemTree"),
        "ports": {
            "type": "array",
            "items": PORT,
            "description": "Container ports to announce (listed in ContainerInfo.ports)",
        },
        "snapshot": {
            "type": "string",
            "description": "Id of one of the owner's snapshots to start from (its file "
            "system; the image and workdir are the snapshot's, so no 'image'). Unknown: "
            "404 ENOSNAPSHOT; its image removed behind the server's back: 410.",
        },
    },
}

MAX_FORKS = 32

CREATE_SNAPSHOT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 200,
                 "description": "Default: the container's name and the time"},
    },
}

FORK = {
    "type": "object",
    "properties": {
        "count": {
            "title": f"a number of copies from 1 to {MAX_FORKS}",
            "type": "integer", "minimum": 1, "maximum": MAX_FORKS, "default": 1,
            "description": "Copies to start; past max_containers_per_user: 429, none made",
        },
    },
}

RESTORE = {
    "type": "object",
    "properties": {
        "paths": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Files or folders from the workdir to restore; missing: all of "
            "the workdir. A path out of the workdir: 403 EACCES, nothing restored.",
        },
    },
}

BOOT = {
    "type": "object",
    "properties": {
        "files": ref("FileSystemTree"),
        "workdirName": {
            "title": "a folder name of letters, digits, '.', '_' and '-' (at most 64, not "
            "starting with '.' or '-')",
            "type": "string",
            "pattern": "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$",
            "description": "The workdir becomes /home/<workdirName>; default: the workdir setting",
        },
    },
}

MOUNT = {
    "type": "object",
    "required": ["tree"],
    "properties": {
        "tree": ref("FileSystemTree"),
        "mountPoint": {"type": "string", "description": "Folder from the workdir, made if missing"},
    },
}

WRITE_FILE = {
    "type": "object",
    "required": ["path", "contents"],
    "properties": {"path": {"type": "string"}, "contents": TEXT_OR_BYTES, "encoding": ENCODING},
}

MKDIR = {
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {"type": "string"},
        "recursive": {"type": "boolean", "default": False},
    },
}

RENAME = {
    "type": "object",
    "required": ["oldPath", "newPath"],
    "properties": {"oldPath": {"type": "string"}, "newPath": {"type": "string"}},
}

SPAWN = {
    "type": "object",
    "required": ["command"],
    "properties": {
        "command": {
            "type": "string",
            "description": "Program, found on PATH; run as argv, no shell",
        },
        "args": {"type": "array", "items": {"type": "string"}},
        "cwd": {"type": "string", "description": "From the workdir; missing: 404 ENOENT"},
        "env": STRING_MAP,
        "timeout": {
            "title": f"a number of seconds above 0, at most {MAX_SPAWN_TIMEOUT}",
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": MAX_SPAWN_TIMEOUT,
            "description": "Seconds; past it the process group is killed, exitCode 124, "
            "timedOut true",
        },
        "stream": {
            "type": "boolean",
            "default": False,
            "description": "Answer NDJSON as output comes",
        },
    },
}

EXAMPLE_TREE = {
    "package.json": {"file": {"contents": '{"name": "demo", "type": "module"}'}},
    "index.js": {"file": {"contents": "console.log('hello')"}},
    "src": {"directory": {"logo.png": {"file": {"contents": "iVBORw0KGgo=",
                                                "encoding": "base64"}}}},
}
FILE_SYSTEM_TREE["example"] = EXAMPLE_TREE
CREATE_CONTAINER["example"] = {
    "name": "demo",
    "image": "node:20-alpine",
    "env": {"NODE_ENV": "development"},
    "files": {"index.js": {"file": {"contents": "console.log('hello')"}}},
    "ports": [3000],
}

RUN_CODE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code"],
    "properties": {
        "code": {"type": "string", "description": "The code to run in the container's kernel"},
        "language": {"type": "string", "enum": ["python"], "default": "python"},
        "timeout": {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 86400,
            "default": 300,
            "description": "Seconds; past them the kernel is interrupted (TimeoutError)",
        },
        "stream": {
            "type": "boolean",
            "default": False,
            "description": "Answer NDJSON events as output comes",
        },
    },
    "example": {"code": "import sys\nprint(sys.version)\n1 + 1"},
}
OPEN_KERNEL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "path": {
            "type": "string",
            "minLength": 1,
            "maxLength": 4096,
            "description": "A notebook (server path) to open with this kernel: a session is "
            "made for it, and the notebook is created if it does not exist",
        },
    },
}

# Published as components.schemas; the names the handlers validate against.
REQUEST_SCHEMAS = {
    "FileSystemTree": FILE_SYSTEM_TREE,
    "CreateContainer": CREATE_CONTAINER,
    "BootRequest": BOOT,
    "MountRequest": MOUNT,
    "WriteFileRequest": WRITE_FILE,
    "MkdirRequest": MKDIR,
    "RenameRequest": RENAME,
    "SpawnRequest": SPAWN,
    "CreateSnapshot": CREATE_SNAPSHOT,
    "CreateCheckpoint": {"type": "object", "properties": {}},
    "ForkRequest": FORK,
    "RestoreRequest": RESTORE,
    "RunCodeRequest": RUN_CODE,
    "OpenKernelRequest": OPEN_KERNEL,
}
