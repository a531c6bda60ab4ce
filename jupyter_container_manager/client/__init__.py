"""Python client of jupyter-container-manager: ``@webcontainer/api`` in Python naming.

It speaks the server's REST API and ``/container`` WebSocket only, so it works from a
notebook kernel (which finds its own server without configuration) and from any Python
process given a URL and a token::

    from jupyter_container_manager.client import WebContainer

    wc = WebContainer.boot(files={"index.js": {"file": {"contents": "console.log('hi')"}}})
    wc.fs.write_file("hello.txt", "hello")
    process = wc.spawn("node", ["index.js"])
    for chunk in process.output:
        print(chunk, end="")
    print("exit code", process.wait())
    wc.teardown()

``AsyncWebContainer`` and ``AsyncContainers`` are the same API with ``await``;
``Containers`` is the Direct API (list, create, get, delete, start, stop, restart;
snapshots, forks and checkpoints: ``containers.snapshots.list()``, ``wc.snapshot()``,
``create(snapshot=...)``, ``wc.fork(2)``, ``wc.checkpoint()``, ``wc.restore_checkpoint()``).
"""

from .code import Execution, ExecutionError, Result
from .containers import AsyncContainers
from .discovery import ServerInfo, find_server
from .errors import (
    ConnectionFailed,
    ContainerError,
    ContainerNotFound,
    ContainerNotRunning,
    DirectoryNotEmpty,
    EngineUnavailable,
    FileExists,
    FileNotFound,
    ImageNotFound,
    InvalidArgument,
    IsADirectory,
    NoSpace,
    NotADirectory,
    PermissionDenied,
    QuotaExceeded,
    ServerNotFound,
)
from .models import ContainerInfo, DirEnt, LineResult, Metrics, Port, PullProgress, SpawnResult
from .process import AsyncProcess
from .snapshots import AsyncSnapshots, Checkpoint, Snapshot, Snapshots
from .sync import Containers, FileSystem, Process, WebContainer
from .webcontainer import AsyncWebContainer

__all__ = [
    "AsyncContainers",
    "AsyncProcess",
    "AsyncSnapshots",
    "Checkpoint",
    "AsyncWebContainer",
    "ConnectionFailed",
    "ContainerError",
    "ContainerInfo",
    "ContainerNotFound",
    "ContainerNotRunning",
    "Containers",
    "DirEnt",
    "DirectoryNotEmpty",
    "EngineUnavailable",
    "Execution",
    "ExecutionError",
    "FileExists",
    "FileNotFound",
    "FileSystem",
    "ImageNotFound",
    "InvalidArgument",
    "IsADirectory",
    "LineResult",
    "Metrics",
    "NoSpace",
    "NotADirectory",
    "PermissionDenied",
    "Port",
    "Process",
    "PullProgress",
    "QuotaExceeded",
    "Result",
    "ServerInfo",
    "ServerNotFound",
    "Snapshot",
    "Snapshots",
    "SpawnResult",
    "WebContainer",
    "find_server",
]
