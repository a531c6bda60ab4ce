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
