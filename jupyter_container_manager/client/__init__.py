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
``Containers`` is the Direct API (list, create, get, delete, start, stop, restart).
"""

from .code import Execution, ExecutionError, Result
from .containers import AsyncContainers
from .discovery import ServerInfo, find_server
from .errors import ContainerError, ServerNotFound
from .models import ContainerInfo, DirEnt, LineResult, Port, SpawnResult
from .process import AsyncProcess
from .sync import Containers, FileSystem, Process, WebContainer
from .webcontainer import AsyncWebContainer

__all__ = [
    "AsyncContainers",
    "AsyncProcess",
    "AsyncWebContainer",
    "ContainerError",
    "ContainerInfo",
    "Containers",
    "DirEnt",
    "Execution",
    "ExecutionError",
    "FileSystem",
    "LineResult",
    "Port",
    "Process",
    "Result",
    "ServerInfo",
    "ServerNotFound",
    "SpawnResult",
    "WebContainer",
    "find_server",
]
