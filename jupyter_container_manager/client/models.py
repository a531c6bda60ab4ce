"""Plain values the client returns, built from the server's JSON answers (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Port:
    """A container port and its preview URL (a path from the server root)."""

    port: int
    url: str


@dataclass(frozen=True)
class ContainerInfo:
    """One managed container, as ``GET /containers/{id}`` describes it."""

    id: str
    name: str
    image: str
    status: str
    created: str
    owner: str
    workdir: str
    ports: tuple[Port, ...] = ()
    limits: dict = field(default_factory=dict, compare=False)
    disk: dict = field(default_factory=dict, compare=False)  # {limit, used} in bytes
    reason: str = ""  # with status "lost": which node does not answer, and why
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> ContainerInfo:
        return cls(
            id=data["id"],
            name=data.get("name", ""),
            image=data.get("image", ""),
            status=data.get("status", ""),
            created=data.get("created", ""),
            owner=data.get("owner", ""),
            workdir=data.get("workdir", ""),
            ports=tuple(Port(int(p["port"]), p.get("url", "")) for p in data.get("ports") or []),
            limits=dict(data.get("limits") or {}),
            disk=dict(data.get("disk") or {}),
            reason=data.get("reason") or "",
            raw=dict(data),
        )


@dataclass(frozen=True)
class DirEnt:
    """A directory entry of ``readdir(path, with_file_types=True)``, like Node's Dirent."""

    name: str
    type: str  # "file" | "directory" | "symlink"

    def is_file(self) -> bool:
        return self.type == "file"

    def is_directory(self) -> bool:
        return self.type == "directory"

    def is_symbolic_link(self) -> bool:
        return self.type == "symlink"


@dataclass(frozen=True)
class SpawnResult:
    """A finished process of ``run()``: exit code and merged stdout/stderr."""

    exit_code: int
    output: str
    timed_out: bool = False
    truncated: bool = False

    @classmethod
    def from_json(cls, data: dict) -> SpawnResult:
        return cls(
            exit_code=int(data.get("exitCode", -1)),
            output=data.get("output", ""),
            timed_out=bool(data.get("timedOut", False)),
            truncated=bool(data.get("truncated", False)),
        )


@dataclass(frozen=True)
class LineResult:
    """One command line of the line terminal: its output, exit code and the cwd after it."""

    output: str
    exit_code: int
    cwd: str

    @classmethod
    def from_json(cls, data: dict) -> LineResult:
        return cls(
            output=data.get("output", ""),
            exit_code=int(data.get("exitCode", -1)),
            cwd=data.get("cwd", ""),
        )


@dataclass(frozen=True)
class Metrics:
    """One reading of a running container's use of the machine
    (``GET /containers/{id}/metrics``, the socket's ``metrics`` push)."""

    time: str
    cpu_percent: float | None  # since the engine's previous reading; 100: one core busy
    cpu_limit: float  # cores the container may use (0: no cap)
    memory_used: int  # bytes, page cache not counted
    memory_limit: int  # bytes: the container's limit, else the machine's
    processes: int
    processes_limit: int  # 0: no limit
    disk_used: int | None  # bytes; None when not known
    disk_limit: int  # the disk quota in bytes (0: none)
    network_rx: int  # bytes since the container started
    network_tx: int
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def memory_percent(self) -> float | None:
        return 100.0 * self.memory_used / self.memory_limit if self.memory_limit else None

    @classmethod
    def from_json(cls, data: dict) -> Metrics:
        cpu, memory = data.get("cpu") or {}, data.get("memory") or {}
        processes, disk = data.get("processes") or {}, data.get("disk") or {}
        network = data.get("network") or {}
        return cls(
            time=data.get("time", ""),
            cpu_percent=cpu.get("percent"),
            cpu_limit=float(cpu.get("limit") or 0.0),
            memory_used=int(memory.get("used") or 0),
            memory_limit=int(memory.get("limit") or 0),
            processes=int(processes.get("count") or 0),
            processes_limit=int(processes.get("limit") or 0),
            disk_used=disk.get("used"),
            disk_limit=int(disk.get("limit") or 0),
            network_rx=int(network.get("rx") or 0),
            network_tx=int(network.get("tx") or 0),
            raw=dict(data),
        )


@dataclass(frozen=True)
class PullProgress:
    """How far an image pull for a new container is (the socket's ``image-pull`` push)."""

    image: str
    status: str  # "pulling", "done" or "failed"
    layers_done: int = 0
    layers_total: int = 0
    bytes_current: int = 0  # of the layers sized so far
    bytes_total: int = 0
    message: str = ""  # with "failed": why

    @classmethod
    def from_json(cls, data: dict) -> PullProgress:
        layers, sizes = data.get("layers") or {}, data.get("bytes") or {}
        return cls(
            image=data.get("image", ""),
            status=data.get("status", ""),
            layers_done=int(layers.get("done") or 0),
            layers_total=int(layers.get("total") or 0),
            bytes_current=int(sizes.get("current") or 0),
            bytes_total=int(sizes.get("total") or 0),
            message=data.get("message") or "",
        )
