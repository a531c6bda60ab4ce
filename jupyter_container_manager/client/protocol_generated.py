"""The ``/container`` protocol: event names and payload types.

Generated from jupyter_container_manager/gateway/protocol.py by
``python -m jupyter_container_manager.gateway.codegen``; do not edit (a test fails when it
is stale). The Python client speaks the protocol like any outside client."""

from __future__ import annotations

from typing import Any, Literal, TypedDict, Union

PROTOCOL_VERSION = 2
SUBPROTOCOL = "jupyter-container-manager.v2"
# Offered on every connect, highest version first (none: version 1).
SUBPROTOCOLS = (
    "jupyter-container-manager.v2",
    "jupyter-container-manager.v1",
)

# From version 2 on, these pushes are binary frames: a header, then
# the output's bytes. Integers are unsigned big-endian.
#   kind (1 byte): which push: 1 process-output, 2 pty-output (a client ignores others)
#   flags (1 byte): 0x01 stderr, 0x02 replay, 0x04 dropped follows; other bits are 0
#   idLength (1 byte): n, the length of the id in bytes (1 to 255)
#   id (n bytes): UTF-8: process-output's pid in decimal, pty-output's terminalId
#   dropped (8 bytes): with flag 0x04 only: pty-output's dropped (bytes missed)
#   data (the rest): the output's bytes: a process's as it wrote them, a terminal's as UTF-8
BINARY_VERSION = 2
BINARY_PROCESS_OUTPUT = 1
BINARY_PTY_OUTPUT = 2
FLAG_STDERR = 0x01
FLAG_REPLAY = 0x02
FLAG_DROPPED = 0x04

# Events a client sends.
JOIN_CONTAINER = "join-container"
FS_OPERATION = "fs-operation"
PROCESS_OPERATION = "process-operation"
TERMINAL_INPUT = "terminal-input"
PTY_OPEN = "pty-open"
PTY_INPUT = "pty-input"
METRICS_SUBSCRIBE = "metrics-subscribe"
PTY_RESIZE = "pty-resize"
PTY_CLOSE = "pty-close"

# Events the server sends: replies and pushes.
JOINED_CONTAINER = "joined-container"
FS_RESULT = "fs-result"
PROCESS_RESULT = "process-result"
TERMINAL_OUTPUT = "terminal-output"
PTY_OPENED = "pty-opened"
OK = "ok"
ERROR = "error"
FS_CHANGE = "fs-change"
PROCESS_OUTPUT = "process-output"
PROCESS_EXIT = "process-exit"
PTY_OUTPUT = "pty-output"
PTY_EXIT = "pty-exit"
PORT = "port"
SERVER_READY = "server-ready"
METRICS = "metrics"
IMAGE_PULL = "image-pull"
CONTAINER_STATUS = "container-status"

CLIENT_EVENTS = (
    JOIN_CONTAINER,
    FS_OPERATION,
    PROCESS_OPERATION,
    TERMINAL_INPUT,
    PTY_OPEN,
    PTY_INPUT,
    METRICS_SUBSCRIBE,
    PTY_RESIZE,
    PTY_CLOSE,
)
SERVER_EVENTS = (
    JOINED_CONTAINER,
    FS_RESULT,
    PROCESS_RESULT,
    TERMINAL_OUTPUT,
    PTY_OPENED,
    OK,
    ERROR,
    FS_CHANGE,
    PROCESS_OUTPUT,
    PROCESS_EXIT,
    PTY_OUTPUT,
    PTY_EXIT,
    PORT,
    SERVER_READY,
    METRICS,
    IMAGE_PULL,
    CONTAINER_STATUS,
)
# The events the server pushes (frames without an id).
PUSH_EVENTS = (
    FS_CHANGE,
    PROCESS_OUTPUT,
    PROCESS_EXIT,
    PTY_OUTPUT,
    PTY_EXIT,
    PORT,
    SERVER_READY,
    METRICS,
    IMAGE_PULL,
    CONTAINER_STATUS,
)
# The event that answers each client event (``ok`` where none is named).
REPLY_EVENTS = {
    JOIN_CONTAINER: JOINED_CONTAINER,
    FS_OPERATION: FS_RESULT,
    PROCESS_OPERATION: PROCESS_RESULT,
    TERMINAL_INPUT: TERMINAL_OUTPUT,
    PTY_OPEN: PTY_OPENED,
    PTY_INPUT: OK,
    METRICS_SUBSCRIBE: OK,
    PTY_RESIZE: OK,
    PTY_CLOSE: OK,
}


class _JoinContainerDataRequired(TypedDict):
    containerId: str  # public id of the container


class JoinContainerData(_JoinContainerDataRequired, total=False):
    """join-container: Join a container: its pushes reach this socket, and the operations..."""
    metrics: bool  # also get its live metrics (as metrics-subscribe)


class _FsOperationReadFileDataRequired(TypedDict):
    type: Literal["readFile"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class FsOperationReadFileData(_FsOperationReadFileDataRequired, total=False):
    """fs-operation with type readFile."""
    encoding: Literal["utf-8", "utf8", "base64"]  # contents encoding


class _FsOperationWriteFileDataRequired(TypedDict):
    type: Literal["writeFile"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)
    contents: str  # text, or base64 with encoding


class FsOperationWriteFileData(_FsOperationWriteFileDataRequired, total=False):
    """fs-operation with type writeFile."""
    encoding: Literal["utf-8", "utf8", "base64"]  # contents encoding


class _FsOperationReaddirDataRequired(TypedDict):
    type: Literal["readdir"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class FsOperationReaddirData(_FsOperationReaddirDataRequired, total=False):
    """fs-operation with type readdir."""
    withFileTypes: bool  # answer [{name, type}]


class _FsOperationMkdirDataRequired(TypedDict):
    type: Literal["mkdir"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class FsOperationMkdirData(_FsOperationMkdirDataRequired, total=False):
    """fs-operation with type mkdir."""
    recursive: bool  # make missing parents, accept existing


class _FsOperationRmDataRequired(TypedDict):
    type: Literal["rm"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class FsOperationRmData(_FsOperationRmDataRequired, total=False):
    """fs-operation with type rm."""
    recursive: bool  # remove directories and their contents
    force: bool  # ignore a missing path


class _FsOperationRenameDataRequired(TypedDict):
    type: Literal["rename"]  # the operation
    newPath: str  # the new path; its parent must exist


class FsOperationRenameData(_FsOperationRenameDataRequired, total=False):
    """fs-operation with type rename."""
    path: str  # the old path (or oldPath)
    oldPath: str  # the old path (or path)


class FsOperationStatData(TypedDict):
    """fs-operation with type stat."""
    type: Literal["stat"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class _FsOperationWatchDataRequired(TypedDict):
    type: Literal["watch"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


class FsOperationWatchData(_FsOperationWatchDataRequired, total=False):
    """fs-operation with type watch."""
    exclude: list[str]
    include: list[str]  # globs reported (default: everything)


class FsOperationUnwatchData(TypedDict):
    """fs-operation with type unwatch."""
    type: Literal["unwatch"]  # the operation
    path: str  # path from the workdir ('/' is the workdir)


FsOperationData = Union[
    FsOperationReadFileData,
    FsOperationWriteFileData,
    FsOperationReaddirData,
    FsOperationMkdirData,
    FsOperationRmData,
    FsOperationRenameData,
    FsOperationStatData,
    FsOperationWatchData,
    FsOperationUnwatchData,
]


class ProcessOperationSpawnTerminal(TypedDict):
    cols: int  # terminal cols
    rows: int  # terminal rows


class _ProcessOperationSpawnDataRequired(TypedDict):
    type: Literal["spawn"]  # the operation
    command: str  # program to run (argv[0]; no shell)


class ProcessOperationSpawnData(_ProcessOperationSpawnDataRequired, total=False):
    """process-operation with type spawn."""
    args: list[str]  # its arguments
    cwd: str  # working directory, from the workdir
    env: dict[str, str]  # extra environment variables
    terminal: ProcessOperationSpawnTerminal  # run on a pty of this size


class ProcessOperationInputData(TypedDict):
    """process-operation with type input."""
    type: Literal["input"]  # the operation
    pid: int  # pid of a process this socket spawned
    data: str  # text for its stdin


class _ProcessOperationKillDataRequired(TypedDict):
    type: Literal["kill"]  # the operation
    pid: int  # pid of a process this socket spawned


class ProcessOperationKillData(_ProcessOperationKillDataRequired, total=False):
    """process-operation with type kill."""
    signal: str


class ProcessOperationResizeData(TypedDict):
    """process-operation with type resize."""
    type: Literal["resize"]  # the operation
    pid: int  # pid of a process this socket spawned
    cols: int  # terminal cols
    rows: int  # terminal rows


ProcessOperationData = Union[
    ProcessOperationSpawnData,
    ProcessOperationInputData,
    ProcessOperationKillData,
    ProcessOperationResizeData,
]


class TerminalInputData(TypedDict):
    """terminal-input: Run one command line (`sh`) in the container's remembered cwd; `cd`..."""
    input: str  # one command line


class _PtyOpenDataRequired(TypedDict):
    cols: int  # terminal cols
    rows: int  # terminal rows


class PtyOpenData(_PtyOpenDataRequired, total=False):
    """pty-open: Open a real terminal (docker exec with a tty), or re-attach to a live one..."""
    terminalId: str  # re-attach to this terminal


class PtyInputData(TypedDict):
    """pty-input: Keystrokes for a terminal."""
    terminalId: str  # id of a pty terminal
    data: str  # text typed


class MetricsSubscribeData(TypedDict):
    """metrics-subscribe: Get (on: true) or stop getting (on: false) the joined container's..."""
    on: bool  # true: push metrics; false: stop


class PtyResizeData(TypedDict):
    """pty-resize: Resize a terminal."""
    terminalId: str  # id of a pty terminal
    cols: int  # terminal cols
    rows: int  # terminal rows


class _PtyCloseDataRequired(TypedDict):
    terminalId: str  # id of a pty terminal


class PtyCloseData(_PtyCloseDataRequired, total=False):
    """pty-close: Detach this socket from a terminal (it keeps running); with kill: end it."""
    kill: bool  # end the terminal's shell


class JoinedContainerData(TypedDict):
    """joined-container (reply): Reply to join-container."""
    containerId: str
    status: Literal["creating", "running", "stopped", "exited", "error", "lost"]
    cwd: str  # the line terminal's remembered cwd
    terminals: list[str]  # ids of its live pty terminals
    workdir: str


class FsResultData(TypedDict):
    """fs-result (reply): Reply to fs-operation."""
    type: Literal[
        "readFile",
        "writeFile",
        "readdir",
        "mkdir",
        "rm",
        "rename",
        "stat",
        "watch",
        "unwatch",
    ]
    result: Any | None


class ProcessResultData(TypedDict):
    """process-result (reply): Reply to process-operation."""
    type: Literal["spawn", "input", "kill", "resize"]
    pid: int


class _TerminalOutputDataRequired(TypedDict):
    output: str  # stdout and stderr, merged
    exitCode: int
    cwd: str  # the remembered cwd after the line


class TerminalOutputData(_TerminalOutputDataRequired, total=False):
    """terminal-output (reply): Reply to terminal-input."""
    timedOut: bool
    truncated: bool  # the output was cut at spawn_output_limit


class PtyOpenedData(TypedDict):
    """pty-opened (reply): Reply to pty-open."""
    terminalId: str
    reattached: bool  # true when a live terminal was re-attached


class OkData(TypedDict):
    """ok (reply): Reply to a request whose event names no result."""


class _ErrorDataRequired(TypedDict):
    message: str


class ErrorData(_ErrorDataRequired, total=False):
    """error (reply): Reply to a bad or failed request (with its id when it had one)."""
    code: str | None  # Node or protocol error code


class FsChangeData(TypedDict):
    """fs-change (push): A watched path changed (by anyone)."""
    path: str  # path from the workdir
    kind: Literal["add", "change", "unlink", "addDir", "unlinkDir"]  # what happened to it


class ProcessOutputData(TypedDict):
    """process-output (push): Output of a spawned process (stdout and stderr)."""
    pid: int
    data: str


class ProcessExitData(TypedDict):
    """process-exit (push): A spawned process ended."""
    pid: int
    exitCode: int


class _PtyOutputDataRequired(TypedDict):
    terminalId: str
    data: str


class PtyOutputData(_PtyOutputDataRequired, total=False):
    """pty-output (push): Terminal output (and the replay on re-attach)."""
    dropped: int  # bytes this socket missed while it read too slowly
    replay: bool  # true on the recent output sent when attaching


class PtyExitData(TypedDict):
    """pty-exit (push): A terminal's shell ended."""
    terminalId: str
    exitCode: int


class PortData(TypedDict):
    """port (push): A port in the container started or stopped listening."""
    port: int
    type: Literal["open", "close"]  # opened or closed
    url: str  # preview URL


class ServerReadyData(TypedDict):
    """server-ready (push): A server in the container listens on a port."""
    port: int
    url: str


class MetricsCpu(TypedDict):
    percent: float  # since the previous reading, in percent of one core (200: two cores busy)
    cores: int  # cores of the engine's host
    limit: float  # cores the container may use (0: no cap)


class MetricsMemory(TypedDict):
    used: int  # bytes
    limit: int  # bytes: the container's limit, else the machine's


class MetricsProcesses(TypedDict):
    count: int
    limit: int  # 0: no limit


class MetricsDisk(TypedDict):
    used: int | None
    limit: int  # the disk quota in bytes (0: none)


class MetricsNetwork(TypedDict):
    rx: int
    tx: int


class MetricsData(TypedDict):
    """metrics (push): A reading of the joined container's use of the machine (GET..."""
    containerId: str
    time: str  # when the engine read it (RFC 3339)
    cpu: MetricsCpu  # CPU
    memory: MetricsMemory  # memory, page cache not counted
    processes: MetricsProcesses  # processes
    disk: MetricsDisk  # disk
    network: MetricsNetwork  # bytes since the container started


class ImagePullLayers(TypedDict):
    total: int
    done: int


class ImagePullBytes(TypedDict):
    current: int
    total: int


class _ImagePullDataRequired(TypedDict):
    image: str
    status: Literal["pulling", "done", "failed"]


class ImagePullData(_ImagePullDataRequired, total=False):
    """image-pull (push): An image is being pulled for a new container (sent to every..."""
    layers: ImagePullLayers  # layers seen so far and pulled (or already there)
    bytes: ImagePullBytes  # bytes downloaded of the layers sized so far
    message: str  # with failed: why, in plain words


class _ContainerStatusDataRequired(TypedDict):
    containerId: str
    status: Literal[
        "creating",
        "running",
        "stopped",
        "exited",
        "error",
        "lost",
        "removed",
        "unknown",
    ]


class ContainerStatusData(_ContainerStatusDataRequired, total=False):
    """container-status (push): The joined container changed status (removed: deleted;..."""
    code: str  # with unknown and lost: ENGINE_UNAVAILABLE
    message: str  # with unknown and lost: what is wrong (which node) and how to fix it
