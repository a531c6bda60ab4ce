"""The ``/container`` WebSocket protocol as data: every event, its fields and its reply.

Pure: imports nothing from the rest of the package. The gateway validates each frame it
receives against these tables before dispatching it, and checks each frame it sends
(``server_frame``); the WebSocket docs and the clients' event names and payload types
(``gateway/codegen.py``) are generated from the same tables, so what is documented is what
is checked.

A frame is a JSON text ``{"event": name, "id"?: requestId, "data": {...}}``. An event
with a ``variant_key`` (``fs-operation``, ``process-operation``) takes further fields
according to ``data[variant_key]``.

The protocol is versioned: a client offers ``jupyter-container-manager.v<N>`` as a
WebSocket subprotocol and the server selects the highest version it speaks among those
offered (``select_subprotocol``). A client that offers none of ours speaks version 1.

Version 2 has the same events. Only ``process-output`` and ``pty-output`` pushes change
form: they go as binary WebSocket frames, a small header and then the output's bytes as
they came (``BINARY_LAYOUT``; ``binary_frame`` writes one, ``parse_binary_frame`` reads
one). Process output is passed through undecoded: a frame may end inside a multi-byte
character, so a client decodes each process's (or terminal's) frames with one streaming
UTF-8 decoder, which replaces invalid bytes as the server does for version 1. Every other
frame, both ways, is JSON text as in version 1.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

try:  # 10x faster than json on the output of busy processes; json does the same job
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
    orjson = None

log = logging.getLogger(__name__)

PROTOCOL_NAME = "jupyter-container-manager"
PROTOCOL_VERSIONS = (1, 2)  # the versions this server speaks
PROTOCOL_VERSION = max(PROTOCOL_VERSIONS)  # the current one, which the clients offer
SUBPROTOCOL = f"{PROTOCOL_NAME}.v{PROTOCOL_VERSION}"
# What the clients offer, highest first: the server picks the highest it speaks.
SUBPROTOCOLS = tuple(f"{PROTOCOL_NAME}.v{v}" for v in sorted(PROTOCOL_VERSIONS, reverse=True))
BASE_VERSION = 1  # the version of a socket that offers none of ours
BINARY_VERSION = 2  # the first version that sends output as binary frames
_VERSIONED = re.compile(rf"^{re.escape(PROTOCOL_NAME)}\.v([1-9][0-9]{{0,5}})$")

MAX_ID_LENGTH = 128
MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER
MAX_TERMINAL_SIZE = 1000  # columns or rows

# Error codes of protocol errors (file-system and container errors keep their own codes).
BAD_FRAME = "EBADFRAME"  # not JSON, not an object, bad event name or id
UNKNOWN_EVENT = "EUNKNOWNEVENT"
BAD_DATA = "EINVAL"  # data missing, of the wrong type, or out of range

# Field types: what a client writes, checked by _check_value.
STRING, INTEGER, BOOLEAN, NUMBER = "string", "integer", "boolean", "number"
OBJECT, STRING_LIST, STRING_MAP, ANY = "object", "string[]", "{string: string}", "any"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    doc: str = ""
    choices: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    fields: tuple[Field, ...] = ()  # the members of an OBJECT field
    nullable: bool = False  # null is a value of it (not the same as absent)


@dataclass(frozen=True)
class ClientEvent:
    """An event a client sends. ``reply`` is its result event (None: ``ok``)."""

    name: str
    doc: str
    reply: str | None
    fields: tuple[Field, ...] = ()
    variant_key: str | None = None
    variants: dict[str, tuple[Field, ...]] = field(default_factory=dict)
    pushes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerEvent:
    """An event the server sends: a reply (carries the request's id) or a push (no id)."""

    name: str
    doc: str
    fields: tuple[Field, ...] = ()
    push: bool = False


def _size(name: str, required: bool = True) -> Field:
    return Field(name, INTEGER, required, f"terminal {name}", minimum=1, maximum=MAX_TERMINAL_SIZE)


PATH = Field("path", STRING, True, "path from the workdir ('/' is the workdir)")
PID = Field("pid", INTEGER, True, "pid of a process this socket spawned", minimum=1,
            maximum=2**31 - 1)
TERMINAL_ID = Field("terminalId", STRING, True, "id of a pty terminal")
ENCODING = Field("encoding", STRING, False, "contents encoding",
                 choices=("utf-8", "utf8", "base64"))

FS_OPERATIONS: dict[str, tuple[Field, ...]] = {
    "readFile": (PATH, ENCODING),
    "writeFile": (PATH, Field("contents", STRING, True, "text, or base64 with encoding"),
                  ENCODING),
    "readdir": (PATH, Field("withFileTypes", BOOLEAN, doc="answer [{name, type}]")),
    "mkdir": (PATH, Field("recursive", BOOLEAN, doc="make missing parents, accept existing")),
    "rm": (PATH, Field("recursive", BOOLEAN, doc="remove directories and their contents"),
           Field("force", BOOLEAN, doc="ignore a missing path")),
    "rename": (Field("path", STRING, doc="the old path (or oldPath)"),
               Field("oldPath", STRING, doc="the old path (or path)"),
               Field("newPath", STRING, True, "the new path; its parent must exist")),
    "stat": (PATH,),
    "watch": (PATH,
              Field("exclude", STRING_LIST, doc="globs not watched (default: the watch_ignore "
                    "setting, node_modules and .git)"),
              Field("include", STRING_LIST, doc="globs reported (default: everything)")),
    "unwatch": (PATH,),
}

PROCESS_OPERATIONS: dict[str, tuple[Field, ...]] = {
    "spawn": (
        Field("command", STRING, True, "program to run (argv[0]; no shell)"),
        Field("args", STRING_LIST, doc="its arguments"),
        Field("cwd", STRING, doc="working directory, from the workdir"),
        Field("env", STRING_MAP, doc="extra environment variables"),
        Field("terminal", OBJECT, doc="run on a pty of this size", fields=(_size("cols"),
                                                                        _size("rows"))),
    ),
    "input": (PID, Field("data", STRING, True, "text for its stdin")),
    "kill": (PID, Field("signal", STRING, doc="signal to its process group: KILL (default), "
                        "TERM, INT, HUP, QUIT, USR1, USR2, STOP, CONT or WINCH")),
    "resize": (PID, _size("cols"), _size("rows")),
}

CLIENT_EVENTS: dict[str, ClientEvent] = {
    event.name: event
    for event in (
        ClientEvent(
            "join-container",
            "Join a container: its pushes reach this socket, and the operations below act "
            "on it. Joining another container leaves the first.",
            "joined-container",
            (Field("containerId", STRING, True, "public id of the container"),
             Field("metrics", BOOLEAN, doc="also get its live metrics (as metrics-subscribe)")),
            pushes=("container-status", "port", "server-ready"),
        ),
        ClientEvent(
            "fs-operation",
            "A file-system operation in the joined container, with Node's fs semantics.",
            "fs-result",
            (Field("type", STRING, True, "the operation", choices=tuple(FS_OPERATIONS)),),
            "type",
            FS_OPERATIONS,
            pushes=("fs-change",),
        ),
        ClientEvent(
            "process-operation",
            "Spawn a process (argv, no shell) or talk to one this socket spawned.",
            "process-result",
            (Field("type", STRING, True, "the operation", choices=tuple(PROCESS_OPERATIONS)),),
            "type",
            PROCESS_OPERATIONS,
            pushes=("process-output", "process-exit"),
        ),
        ClientEvent(
            "terminal-input",
            "Run one command line (`sh`) in the container's remembered cwd; `cd` moves it.",
            "terminal-output",
            (Field("input", STRING, True, "one command line"),),
        ),
        ClientEvent(
            "pty-open",
            "Open a real terminal (docker exec with a tty), or re-attach to a live one by id "
            "and replay its recent output.",
            "pty-opened",
            (_size("cols"), _size("rows"),
             Field("terminalId", STRING, doc="re-attach to this terminal")),
            pushes=("pty-output", "pty-exit"),
        ),
        ClientEvent(
            "pty-input",
            "Keystrokes for a terminal.",
            None,
            (TERMINAL_ID, Field("data", STRING, True, "text typed")),
        ),
        ClientEvent(
            "metrics-subscribe",
            "Get (on: true) or stop getting (on: false) the joined container's live metrics "
            "while it runs, about one push a second (one engine stats stream per container, "
            "shared by its subscribers). Joining another container keeps the choice.",
            None,
            (Field("on", BOOLEAN, True, "true: push metrics; false: stop"),),
            pushes=("metrics",),
        ),
        ClientEvent("pty-resize", "Resize a terminal.", None,
                    (TERMINAL_ID, _size("cols"), _size("rows"))),
        ClientEvent("pty-close", "Detach this socket from a terminal (it keeps running); "
                    "with kill: end it.", None,
                    (TERMINAL_ID, Field("kill", BOOLEAN, doc="end the terminal's shell"))),
    )
}


def _f(name: str, type_: str, doc: str = "", **more) -> Field:
    return Field(name, type_, True, doc, **more)


# ContainerInfo statuses (core.models.STATUSES; a unit test keeps the two equal), and what
# container-status adds: removed (deleted) and unknown (the engine does not answer).
CONTAINER_STATUSES = ("creating", "running", "stopped", "exited", "error", "lost")
PUSHED_STATUSES = (*CONTAINER_STATUSES, "removed", "unknown")
FS_CHANGE_KINDS = ("add", "change", "unlink", "addDir", "unlinkDir")


SERVER_EVENTS: dict[str, ServerEvent] = {
    event.name: event
    for event in (
        ServerEvent("joined-container", "Reply to join-container.", (
            _f("containerId", STRING),
            _f("status", STRING, "ContainerInfo status", choices=CONTAINER_STATUSES),
            _f("cwd", STRING, "the line terminal's remembered cwd"),
            _f("terminals", "string[]", "ids of its live pty terminals"),
            _f("workdir", STRING))),
        ServerEvent("fs-result", "Reply to fs-operation.", (
            _f("type", STRING, choices=tuple(FS_OPERATIONS)),
            _f("result", ANY, "readFile: {contents, encoding}; readdir: names or [{name, "
               "type}]; stat: {type, size, mtime, mode}; others: null", nullable=True))),
        ServerEvent("process-result", "Reply to process-operation.", (
            _f("type", STRING, choices=tuple(PROCESS_OPERATIONS)), _f("pid", INTEGER))),
        ServerEvent("terminal-output", "Reply to terminal-input.", (
            _f("output", STRING, "stdout and stderr, merged"), _f("exitCode", INTEGER),
            _f("cwd", STRING, "the remembered cwd after the line"),
            Field("timedOut", BOOLEAN, doc="the line ran past terminal_timeout: its process "
                  "group was killed (exitCode 124)"),
            Field("truncated", BOOLEAN, doc="the output was cut at spawn_output_limit"))),
        ServerEvent("pty-opened", "Reply to pty-open.", (
            _f("terminalId", STRING),
            _f("reattached", BOOLEAN, "true when a live terminal was re-attached"))),
        ServerEvent("ok", "Reply to a request whose event names no result.", ()),
        ServerEvent("error", "Reply to a bad or failed request (with its id when it had one).", (
            _f("message", STRING),
            Field("code", STRING, doc="Node or protocol error code", nullable=True))),
        ServerEvent("fs-change", "A watched path changed (by anyone).", (
            _f("path", STRING, "path from the workdir"),
            _f("kind", STRING, "what happened to it", choices=FS_CHANGE_KINDS)), push=True),
        ServerEvent("process-output", "Output of a spawned process (stdout and stderr).", (
            _f("pid", INTEGER), _f("data", STRING)), push=True),
        ServerEvent("process-exit", "A spawned process ended.", (
            _f("pid", INTEGER), _f("exitCode", INTEGER)), push=True),
        ServerEvent("pty-output", "Terminal output (and the replay on re-attach).", (
            _f("terminalId", STRING), _f("data", STRING),
            Field("dropped", INTEGER, doc="bytes this socket missed while it read too slowly"),
            Field("replay", BOOLEAN, doc="true on the recent output sent when attaching")),
            push=True),
        ServerEvent("pty-exit", "A terminal's shell ended.", (
            _f("terminalId", STRING), _f("exitCode", INTEGER)), push=True),
        ServerEvent("port", "A port in the container started or stopped listening.", (
            _f("port", INTEGER),
            _f("type", STRING, "opened or closed", choices=("open", "close")),
            _f("url", STRING, "preview URL")), push=True),
        ServerEvent("server-ready", "A server in the container listens on a port.", (
            _f("port", INTEGER), _f("url", STRING)), push=True),
        ServerEvent("metrics", "A reading of the joined container's use of the machine "
                    "(GET /containers/{id}/metrics has the same fields).", (
            _f("containerId", STRING),
            _f("time", STRING, "when the engine read it (RFC 3339)"),
            _f("cpu", OBJECT, "CPU", fields=(
                _f("percent", NUMBER, "since the previous reading, in percent of one core "
                   "(200: two cores busy)"),
                _f("cores", INTEGER, "cores of the engine's host"),
                _f("limit", NUMBER, "cores the container may use (0: no cap)"))),
            _f("memory", OBJECT, "memory, page cache not counted", fields=(
                _f("used", INTEGER, "bytes"),
                _f("limit", INTEGER, "bytes: the container's limit, else the machine's"))),
            _f("processes", OBJECT, "processes", fields=(
                _f("count", INTEGER), _f("limit", INTEGER, "0: no limit"))),
            _f("disk", OBJECT, "disk", fields=(
                _f("used", INTEGER, "bytes: the disk quota's file system, else the writable "
                   "layer (read every metrics_disk_interval seconds); null: not known",
                   nullable=True),
                _f("limit", INTEGER, "the disk quota in bytes (0: none)"))),
            _f("network", OBJECT, "bytes since the container started", fields=(
                _f("rx", INTEGER), _f("tx", INTEGER)))), push=True),
        ServerEvent("image-pull", "An image is being pulled for a new container (sent to every "
                    "socket of the server, joined or not): progress about 4 times a second, "
                    "then done, or failed with the reason (the create answers "
                    "IMAGE_NOT_FOUND with the same message).", (
            _f("image", STRING),
            _f("status", STRING, choices=("pulling", "done", "failed")),
            Field("layers", OBJECT, doc="layers seen so far and pulled (or already there)",
                  fields=(_f("total", INTEGER), _f("done", INTEGER))),
            Field("bytes", OBJECT, doc="bytes downloaded of the layers sized so far",
                  fields=(_f("current", INTEGER), _f("total", INTEGER))),
            Field("message", STRING, doc="with failed: why, in plain words")), push=True),
        ServerEvent("container-status", "The joined container changed status "
                    "(removed: deleted; unknown: the Docker engine stopped answering, its "
                    "terminals and watchers ended; lost: the same for the swarm node that "
                    "runs it; the real status follows once it answers again, running "
                    "re-opens it).",
                    (_f("containerId", STRING), _f("status", STRING, choices=PUSHED_STATUSES),
                     Field("code", STRING, False, "with unknown and lost: ENGINE_UNAVAILABLE"),
                     Field("message", STRING, False, "with unknown and lost: what is wrong "
                           "(which node) and how to fix it")),
                    push=True),
    )
}


# --- validation -------------------------------------------------------------------


class FrameError(Exception):
    """A frame that cannot be served; answered with ``error`` and the socket lives on."""

    def __init__(self, message: str, code: str, request_id: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id


@dataclass
class Request:
    event: str
    id: str | int | None
    data: dict


def parse_frame(text: str | bytes) -> Request:
    """A validated request, or FrameError (carrying the request id when it was readable)."""
    try:
        frame = orjson.loads(text) if orjson is not None else json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FrameError("Frame is not valid JSON", BAD_FRAME) from None
    if not isinstance(frame, dict):
        raise FrameError(f"Frame must be a JSON object, not {_type_of(frame)}", BAD_FRAME)
    request_id = _request_id(frame.get("id"))
    event = frame.get("event")
    if not isinstance(event, str):
        raise FrameError("Frame needs an 'event' string", BAD_FRAME, request_id)
    spec = CLIENT_EVENTS.get(event)
    if spec is None:
        shown = event if len(event) <= 64 else event[:64] + "..."
        raise FrameError(
            f"Unknown event {shown!r}; known: {', '.join(CLIENT_EVENTS)}", UNKNOWN_EVENT,
            request_id,
        )
    data = frame.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrameError(f"'data' must be an object, not {_type_of(data)}", BAD_DATA, request_id)
    try:
        check_fields(spec.fields, data)
        if spec.variant_key is not None:
            check_fields(spec.variants[data[spec.variant_key]], data)
    except ValueError as err:
        raise FrameError(f"{event}: {err}", BAD_DATA, request_id) from None
    return Request(event, request_id, data)


def _request_id(value: Any) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FrameError("'id' must be a string or an integer", BAD_FRAME)
    if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
        raise FrameError(f"'id' is longer than {MAX_ID_LENGTH} characters", BAD_FRAME)
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise FrameError("'id' is not a safe integer", BAD_FRAME)
    return value


def check_fields(fields: tuple[Field, ...], data: dict, prefix: str = "") -> None:
    """Raise ValueError naming the first field that is missing or wrong."""
    for spec in fields:
        value = data.get(spec.name)
        where = prefix + spec.name
        if value is None:
            if spec.required and not (spec.nullable and spec.name in data):
                raise ValueError(f"'{where}' is required")
            continue
        _check_value(spec, value, where)


def _check_value(spec: Field, value: Any, where: str) -> None:
    expected = {
        STRING: str, INTEGER: int, BOOLEAN: bool, OBJECT: dict, STRING_LIST: list,
        STRING_MAP: dict, ANY: object, NUMBER: (int, float),
    }[spec.type]
    if not isinstance(value, expected) or (spec.type in (INTEGER, NUMBER)
                                           and isinstance(value, bool)):
        raise ValueError(f"'{where}' must be {_article(spec.type)}, not {_type_of(value)}")
    if spec.choices and value not in spec.choices:
        raise ValueError(f"'{where}' must be one of {', '.join(map(str, spec.choices))}")
    if spec.type == INTEGER:
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"'{where}' must be at least {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(f"'{where}' must be at most {spec.maximum}")
    if spec.type == STRING_LIST:
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"'{where}[{index}]' must be a string, not {_type_of(item)}")
    if spec.type == STRING_MAP:
        for key, item in value.items():
            if not isinstance(item, str):
                raise ValueError(f"'{where}.{key}' must be a string, not {_type_of(item)}")
    if spec.type == OBJECT and spec.fields:
        check_fields(spec.fields, value, where + ".")


def _type_of(value: Any) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", bool: "a boolean",
        int: "an integer", float: "a number", type(None): "null",
    }.get(type(value), type(value).__name__)


def _article(type_name: str) -> str:
    return {
        STRING: "a string", INTEGER: "an integer", BOOLEAN: "a boolean", OBJECT: "an object",
        NUMBER: "a number",
        STRING_LIST: "an array of strings", STRING_MAP: "an object of strings", ANY: "a value",
    }[type_name]


# --- frames the server sends ---------------------------------------------------------


def encode(event: str, data: dict, request_id: str | int | None = None) -> bytes:
    """A frame as UTF-8 JSON text (bytes, sent as a text frame)."""
    frame: dict = {"event": event, "data": data}
    if request_id is not None:
        frame["id"] = request_id
    if orjson is not None:
        try:
            return orjson.dumps(frame)
        except (TypeError, orjson.JSONEncodeError):  # e.g. a lone surrogate: json escapes it
            pass
    return json.dumps(frame, separators=(",", ":")).encode("ascii")


class ProtocolViolation(ValueError):
    """A frame the server was about to send breaks the table: a server bug."""


STRICT_ENV = "JCM_STRICT_PROTOCOL"  # set (not "0"): a violation raises instead of logging
VIOLATIONS: deque[str] = deque(maxlen=100)  # the latest, for tests to look at
_logged: set[str] = set()


def check_server_frame(event: str, data: Any, request_id: str | int | None = None) -> None:
    """Raise ProtocolViolation unless the table names ``event`` as a server event and
    ``data`` has its fields: required ones present, every one of its type, no field the
    table does not list, null only where it says so, and no ``id`` on a push."""
    spec = SERVER_EVENTS.get(event)
    if spec is None:
        raise ProtocolViolation(f"{event!r} is not a server event of the protocol table")
    if spec.push and request_id is not None:
        raise ProtocolViolation(f"{event}: a push carries no id")
    if not isinstance(data, dict):
        raise ProtocolViolation(f"{event}: data must be an object, not {_type_of(data)}")
    known = _server_fields(spec)
    for name, value in data.items():
        member = known.get(name)
        if member is None:
            raise ProtocolViolation(f"{event}: {name!r} is not one of its fields")
        if value is None and not member.nullable:
            raise ProtocolViolation(f"{event}: '{name}' is null")
    try:
        check_fields(spec.fields, data)
    except ValueError as err:
        raise ProtocolViolation(f"{event}: {err}") from None


def _server_fields(spec: ServerEvent) -> dict[str, Field]:
    return {member.name: member for member in spec.fields}


def server_frame(event: str, data: dict, request_id: str | int | None = None) -> bytes:
    """A frame the server sends, checked against the table first. A frame that breaks it
    is a server bug: under ``JCM_STRICT_PROTOCOL`` (the tests) it raises; otherwise it is
    logged (once per kind of mistake) and sent all the same, since clients read frames
    leniently and a push dropped for a schema mistake would break them more."""
    _check_or_report(event, data, request_id)
    return encode(event, data, request_id)


def _check_or_report(event: str, data: Any, request_id: str | int | None = None) -> None:
    try:
        check_server_frame(event, data, request_id)
    except ProtocolViolation as err:
        VIOLATIONS.append(str(err))
        if os.environ.get(STRICT_ENV, "0") != "0":
            raise
        if str(err) not in _logged and len(_logged) < 1000:
            _logged.add(str(err))
            log.error("the server sent a frame that breaks the protocol table: %s", err)


# --- binary output frames (version 2) ----------------------------------------------------

# The pushes sent as binary frames from version 2 on; the number is the frame's first byte.
BINARY_KINDS = {"process-output": 1, "pty-output": 2}
# The field each one's id stands for.
BINARY_TARGETS = {"process-output": "pid", "pty-output": "terminalId"}
FLAG_STDERR = 0x01  # the bytes came from stderr (unset today: a spawned process's stderr
                    # is merged into its stdout); a client adds them to the same output
FLAG_REPLAY = 0x02  # pty-output's replay: true
FLAG_DROPPED = 0x04  # pty-output's dropped follows the id
MAX_BINARY_ID = 255  # bytes of the id (its length is one byte)
BINARY_LAYOUT: tuple[tuple[str, str, str], ...] = (
    # (field, size, meaning); integers are unsigned big-endian
    ("kind", "1 byte", "which push: 1 process-output, 2 pty-output (a client ignores others)"),
    ("flags", "1 byte", "0x01 stderr, 0x02 replay, 0x04 dropped follows; other bits are 0"),
    ("idLength", "1 byte", "n, the length of the id in bytes (1 to 255)"),
    ("id", "n bytes", "UTF-8: process-output's pid in decimal, pty-output's terminalId"),
    ("dropped", "8 bytes", "with flag 0x04 only: pty-output's dropped (bytes missed)"),
    ("data", "the rest", "the output's bytes: a process's as it wrote them, a terminal's as UTF-8"),
)


def binary_frame(event: str, data: dict, payload: bytes | list[bytes]) -> bytes:
    """A version 2 output push as a binary frame (``BINARY_LAYOUT``). ``data`` holds the
    push's fields but ``data``, whose bytes are ``payload`` (one bytes, or chunks joined
    here once). Checked against the table first, as ``server_frame`` checks a text frame."""
    _check_or_report(event, {**data, "data": ""})
    kind = BINARY_KINDS.get(event)
    if kind is None:
        raise ProtocolViolation(f"{event}: not sent as a binary frame")
    target_field = BINARY_TARGETS[event]
    extra = set(data) - {target_field, "replay", "dropped"}
    if extra:
        raise ProtocolViolation(f"{event}: {sorted(extra)} have no place in a binary frame")
    target = str(data[target_field]).encode("utf-8")
    if not 0 < len(target) <= MAX_BINARY_ID:
        raise ProtocolViolation(f"{event}: its {target_field} must be 1 to "
                                f"{MAX_BINARY_ID} bytes long")
    flags = FLAG_REPLAY if data.get("replay") else 0
    dropped = data.get("dropped") or 0
    head = [bytes((kind, flags | (FLAG_DROPPED if dropped else 0), len(target))), target]
    if dropped:
        head.append(min(dropped, 2**64 - 1).to_bytes(8, "big"))
    if isinstance(payload, list):
        return b"".join(head + payload)
    return b"".join((*head, payload))


def parse_binary_frame(frame: bytes) -> tuple[str, dict, bytes]:
    """``(event, fields, payload)`` of a binary frame: the fields as the text frame has
    them but ``data`` (the payload's undecoded bytes). ValueError when it is malformed."""
    events = {kind: event for event, kind in BINARY_KINDS.items()}
    if len(frame) < 3 or frame[0] not in events:
        raise ValueError("not a binary output frame")
    event, flags, length = events[frame[0]], frame[1], frame[2]
    end = 3 + length
    if length == 0 or len(frame) < end:
        raise ValueError("the frame ends inside its id")
    target = bytes(frame[3:end]).decode("utf-8")
    fields: dict = {BINARY_TARGETS[event]: int(target) if event == "process-output" else target}
    if flags & FLAG_REPLAY:
        fields["replay"] = True
    if flags & FLAG_DROPPED:
        if len(frame) < end + 8:
            raise ValueError("the frame ends inside its dropped count")
        fields["dropped"] = int.from_bytes(frame[end:end + 8], "big")
        end += 8
    return event, fields, bytes(frame[end:])


def select_subprotocol(offered: list[str]) -> str | None:
    """The subprotocol the server answers with: the highest version of ours among those
    offered. None when none is ours (as RFC 6455 has it, the answer then names none; the
    socket speaks version 1, as it does for a client that offers nothing)."""
    versions = [
        int(match.group(1)) for match in map(_VERSIONED.match, offered) if match is not None
    ]
    spoken = [version for version in versions if version in PROTOCOL_VERSIONS]
    return f"{PROTOCOL_NAME}.v{max(spoken)}" if spoken else None


def version_of(selected: str | None) -> int:
    """The version a socket speaks, by the subprotocol selected for it (None: version 1)."""
    match = _VERSIONED.match(selected or "")
    return int(match.group(1)) if match is not None else BASE_VERSION


def reply_event(event: str) -> str:
    """The event that answers a client event (``ok`` where the table names none)."""
    return CLIENT_EVENTS[event].reply or "ok"


def describe() -> dict:
    """The protocol as plain JSON, for generated docs."""

    def fields_json(fields):
        return [
            {k: v for k, v in {
                "name": f.name, "type": f.type, "required": f.required, "doc": f.doc,
                "choices": list(f.choices) or None, "minimum": f.minimum, "maximum": f.maximum,
                "fields": fields_json(f.fields) or None, "nullable": f.nullable or None,
            }.items() if v not in (None, "")}
            for f in fields
        ]

    return {
        "subprotocol": SUBPROTOCOL,
        "versions": list(PROTOCOL_VERSIONS),
        "binary": {
            "since": BINARY_VERSION,
            "events": dict(BINARY_KINDS),
            "layout": [{"field": f, "size": n, "doc": d} for f, n, d in BINARY_LAYOUT],
        },
        "client": {
            e.name: {
                "doc": e.doc, "reply": reply_event(e.name), "fields": fields_json(e.fields),
                "pushes": list(e.pushes),
                **({"variantKey": e.variant_key,
                    "variants": {k: fields_json(v) for k, v in e.variants.items()}}
                   if e.variant_key else {}),
            }
            for e in CLIENT_EVENTS.values()
        },
        "server": {
            e.name: {"doc": e.doc, "push": e.push, "fields": fields_json(e.fields)}
            for e in SERVER_EVENTS.values()
        },
    }
