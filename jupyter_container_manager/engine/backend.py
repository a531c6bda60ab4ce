"""The backend seam: what the manager's parts need from an engine that runs containers.

``EngineBackend`` is the whole interface: create, start, stop, remove and list containers
by labels, inspect one, exec streams, archives in and out, events, and how to reach a
container's port. The parts (lifecycle, files, processes, agents, terminals, watchers,
ports) call nothing else, so another engine (a Docker Swarm cluster) is another class
here, picked by ``ContainerManager.make_backend``, with handlers, gateway and proxy
untouched. ``docker_backend.DockerBackend`` (one Docker engine) is the first.

Containers are named by the engine's own reference (``docker_id``, or a name). What an
inspect answers has the shape of Docker's ``GET /containers/{id}/json`` (``Id``, ``Name``,
``Config.Labels``, ``State``, ``NetworkSettings``, ``HostConfig``) and a list entry that of
``GET /containers/json``, because ``core.models`` reads those; a backend for another engine
maps its own answers onto them. Failures are the exceptions below, or the domain errors of
``core.errors`` (``EngineUnavailable`` when the engine does not answer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..core.models import ContainerInfo

if TYPE_CHECKING:
    from .docker_backend import ExecResult, ExecStream


SUBSCRIBED = "subscribed"  # the status of the first item of ``events``
# The events that change what a container's inspect says, the only ones ``events`` asks
# for: an exec (three events each: create, start, die), an attach or an archive changes
# nothing of it, and the engine need not send them nor this server decode them.
STATE_EVENTS = ("create", "start", "restart", "die", "stop", "pause", "unpause", "rename",
                "oom", "update", "destroy")


class BackendNotFound(Exception):
    """No such container (or exec, or path in a container)."""


class BackendConflict(Exception):
    """The container cannot do that now (not running, being removed, changing state)."""


class BackendRefused(Exception):
    """The engine refused the request (a bad option, a port taken...); ``message`` says
    why in the engine's words."""

    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class ContainerSpec:
    """A container to create and start: what the lifecycle decided, engine-neutral."""

    image: str
    name: str
    labels: dict[str, str]
    workdir: str
    command: list[str]
    hostname: str
    env: dict[str, str] = field(default_factory=dict)
    memory: int = 0  # bytes; swap is set equal (no extra swap)
    cpu_shares: int = 0
    cpu_limit: float = 0.0  # cores; 0: no cap
    pids_limit: int = 0
    nofile_limit: int = 0  # 0: the engine's default
    log_max_size: str = "10m"  # the engine's own notation
    log_max_files: int = 3
    publish_ports: list[int] = field(default_factory=list)  # on 127.0.0.1, 8000 and up
    # Made from a snapshot (engine/snapshots.py): where its workdir's files are in the
    # image, "image" (at the workdir) or "copy"; "" for a container not made from one.
    from_snapshot: str = ""


class EngineBackend(Protocol):
    """An engine that runs containers. Every method is async unless it says otherwise;
    none blocks the event loop."""

    url: str
    """Where the engine is (for logs and error messages)."""

    # --- containers ------------------------------------------------------------------

    async def create(self, spec: ContainerSpec) -> dict:
        """Create the container of ``spec``, prepare it (the user it runs as, the CA
        bundle, the workdir's owner) and start it: its inspect. The domain errors of
        ``core.errors`` when it cannot (Unprocessable, ImageNotFound...); a container
        made half-way is removed again."""
        ...

    async def start(self, ref: str) -> None:
        """Start a stopped container. Like every method that names one: ``BackendNotFound``
        when it is gone, ``BackendConflict`` when it cannot now, ``BackendRefused``."""
        ...

    async def stop(self, ref: str, timeout: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        ...

    async def restart(self, ref: str, timeout: float) -> None:
        """Stop (as :meth:`stop`) and start again."""
        ...

    async def kill(self, ref: str, signal: str) -> None:
        """Send ``signal`` to the container's main process."""
        ...

    async def remove(self, ref: str) -> None:
        """Remove the container (running or not) and its anonymous volumes.
        ``BackendNotFound`` when it is gone; ``BackendConflict`` when another removal of
        it is under way."""
        ...

    async def rename(self, ref: str, name: str) -> None:
        """Give the container another name (the warm pool's hand-out)."""
        ...

    async def list(self, labels: dict[str, str | None]) -> list[dict]:
        """Every container, running or not, that carries all these labels (a None value:
        the label with any value), as list entries."""
        ...

    async def inspect(self, ref: str) -> dict | None:
        """The container's inspect, or None when there is no such container."""
        ...

    def events(self, labels: dict[str, str | None]) -> AsyncIterator[dict]:
        """The engine's container events (``{"status", "id", "Actor": {"Attributes"}}``)
        of containers with these labels, those of STATE_EVENTS, as they happen, until the
        iterator is closed. The first item is ``{"status": SUBSCRIBED}``, once the engine
        has the subscription: every change after it is in the stream (a reader that lists
        then misses nothing). The iterator ends, or raises, when the stream breaks."""
        ...

    def stats(self, ref: str, *, stream: bool = True) -> AsyncIterator[dict]:
        """The engine's resource readings of a running container in the shape of
        Docker's ``GET /containers/{id}/stats`` (``cpu_stats``, ``precpu_stats``,
        ``memory_stats``, ``pids_stats``, ``networks``): with ``stream`` about one a second
        on one connection until the iterator is closed or the container stops; else one
        reading whose ``precpu_stats`` are filled in."""
        ...

    async def logs(self, ref: str, *, tail: int | None = None) -> bytes:
        """What the container's main process printed (its last ``tail`` lines)."""
        ...

    async def disk_size(self, ref: str) -> int | None:
        """Bytes the container wrote to its own file system (costly: on request only)."""
        ...

    def address_of(self, info: ContainerInfo) -> str:
        """The address this server reaches the container's ports at (not async)."""
        ...

    # --- archives --------------------------------------------------------------------

    async def put_archive(self, ref: str, path: str, data: bytes) -> None:
        """Unpack the tar ``data`` into directory ``path`` of the container."""
        ...

    async def get_archive(self, ref: str, path: str) -> bytes:
        """``path`` of the container as a tar. ``BackendNotFound`` when it is missing."""
        ...

    # --- exec ------------------------------------------------------------------------

    async def exec_create(self, ref: str, argv: list[str], *, stdin: bool = False,
                          tty: bool = False, env: dict[str, str] | None = None,
                          workdir: str | None = None, user: str = "") -> str:
        """Prepare argv to run in the container: the exec's id."""
        ...

    async def exec_start(self, exec_id: str, *, tty: bool = False) -> ExecStream:
        """Run a prepared exec: its attached stream (stdin, stdout/stderr frames, exit
        code). ``ExecStartError`` when the engine refuses (404 gone, 409 not running)."""
        ...

    async def exec_run(self, ref: str, argv: list[str], *, stdin: bytes | None = None,
                       env: dict[str, str] | None = None, workdir: str | None = None,
                       limit: int | None = None) -> ExecResult:
        """Run argv to its end; stdout and stderr apart, each cut at ``limit`` bytes."""
        ...

    async def exec_inspect(self, exec_id: str) -> dict:
        """``{"Running", "ExitCode", "Pid"}`` of an exec."""
        ...

    async def exec_resize(self, exec_id: str, *, rows: int, cols: int) -> None:
        """Resize the TTY of an exec started with ``tty``."""
        ...

    async def close(self) -> None:
        """Let go of the engine (connections, threads)."""
        ...

