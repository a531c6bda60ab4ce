"""Labels <-> ContainerInfo: how a managed container is described, in Docker and in the API.

Pure: the Docker service hands in the plain ``attrs`` dict that the engine's inspect
answers, and gets plain dicts back. Docker labels are the only state: everything a
ContainerInfo says comes from the container itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

LABEL_PREFIX = "jupyter-container-manager"
LABEL_ID = f"{LABEL_PREFIX}.id"
LABEL_OWNER = f"{LABEL_PREFIX}.owner"
LABEL_NAME = f"{LABEL_PREFIX}.name"
LABEL_WORKDIR = f"{LABEL_PREFIX}.workdir"
LABEL_CREATED = f"{LABEL_PREFIX}.created"
LABEL_PORTS = f"{LABEL_PREFIX}.ports"
# On warm-pool containers: the digest of the proxy variables and CA certificates they
# were made with (engine/network_setup.py), so a server with other ones does not adopt them.
LABEL_SETUP = f"{LABEL_PREFIX}.setup"
# The disk quota of a container (engine/disk.py): how it is held ("storage": the engine's
# --storage-opt size; "loop": a loop-mounted file system for the workdir and /tmp) and its
# size in bytes. LABEL_DISK is also on the volume that holds a "loop" disk.
LABEL_DISK = f"{LABEL_PREFIX}.disk"
LABEL_DISK_LIMIT = f"{LABEL_PREFIX}.disk-limit"

STATUSES = ("creating", "running", "stopped", "exited", "error", "lost")
# ``State.Status`` of an inspect a backend makes for a container whose node does not
# answer (the swarm backend; Docker itself never says it): status "lost", and
# ``State.Error`` says which node and why.
STATE_LOST = "lost"

# Exit codes of a container that `docker stop` ended: SIGTERM (143) or SIGKILL (137),
# or that the idle reaper stopped: SIGUSR1 (138, see engine/idle.py).
_STOP_EXIT_CODES = {137, 138, 143}


def new_container_id() -> str:
    return str(uuid.uuid4())


def is_container_id(value: str) -> bool:
    """True for the canonical text of a UUID4, the only form a public id takes."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return parsed.version == 4 and str(parsed) == value


def docker_name(container_id: str) -> str:
    """Docker's name for a managed container (Docker names allow no free text)."""
    return f"jcm-{container_id}"


POOL_NAME_PREFIX = "jcm-pool-"


def pool_name(container_id: str) -> str:
    """Docker's name for a container waiting in the warm pool: no API route finds it
    (they look for ``docker_name``) until the hand-out renames it."""
    return f"{POOL_NAME_PREFIX}{container_id}"


def is_pooled(summary_or_attrs: dict) -> bool:
    """Whether a container (a list summary's ``Names`` or an inspect's ``Name``) waits in
    the warm pool."""
    names = summary_or_attrs.get("Names") or [summary_or_attrs.get("Name") or ""]
    return any(name.lstrip("/").startswith(POOL_NAME_PREFIX) for name in names)


def make_labels(
    *,
    container_id: str,
    owner: str,
    name: str,
    workdir: str,
    created: str,
    ports: list[int],
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    labels = dict(extra or {})
    labels.update(
        {
            LABEL_ID: container_id,
            LABEL_OWNER: owner,
            LABEL_NAME: name,
            LABEL_WORKDIR: workdir,
            LABEL_CREATED: created,
            LABEL_PORTS: ",".join(str(p) for p in sorted(set(ports))),
        }
    )
    return labels


def owner_filter(owner: str) -> dict:
    """Docker list filter for the containers of one owner."""
    return {"label": [f"{LABEL_OWNER}={owner}", LABEL_ID]}


def parse_ports(text: str | None) -> list[int]:
    ports = []
    for part in (text or "").split(","):
        part = part.strip()
        if part.isdigit():
            ports.append(int(part))
    return ports


def status_of(state: dict) -> str:
    """Map Docker's ``State`` to one of STATUSES."""
    docker_status = state.get("Status", "")
    if docker_status in ("running", "restarting"):
        return "running"
    if docker_status == "created":
        return "creating"
    if docker_status == "paused":
        return "stopped"
    if docker_status == STATE_LOST:
        return "lost"
    if docker_status == "exited":
        if state.get("OOMKilled"):
            return "error"
        return "stopped" if state.get("ExitCode") in _STOP_EXIT_CODES else "exited"
    return "error"  # dead, removing, unknown


def network_address(attrs: dict) -> str:
    """The container's IP address on its Docker network ('' when it has none, e.g. stopped)."""
    network = attrs.get("NetworkSettings") or {}
    if network.get("IPAddress"):
        return network["IPAddress"]
    for settings in (network.get("Networks") or {}).values():
        if (settings or {}).get("IPAddress"):
            return settings["IPAddress"]
    return ""


def published_ports(attrs: dict) -> dict[int, int]:
    """TCP container ports published on host ports: ``{3000: 8000}``."""
    published = {}
    for key, bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        if proto == "tcp" and port.isdigit() and bindings:
            host_port = str(bindings[0].get("HostPort", ""))
            if host_port.isdigit():
                published[int(port)] = int(host_port)
    return published


def disk_mount_point(attrs: dict) -> str:
    """Where a "loop" disk is mounted on the engine's host: the parent of the directory
    the workdir's volume binds ('' for a container without one)."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if labels.get(LABEL_DISK) != "loop":
        return ""
    workdir = labels.get(LABEL_WORKDIR, "")
    for mount in (attrs.get("HostConfig") or {}).get("Mounts") or []:
        if mount.get("Target") == workdir:
            options = ((mount.get("VolumeOptions") or {}).get("DriverConfig") or {}).get(
                "Options") or {}
            device = options.get("device") or ""
            return device.rsplit("/", 1)[0] if "/" in device else ""
    return ""


def attrs_from_summary(summary: dict) -> dict:
    """The part of an inspect answer a list summary (``GET /containers/json``) has: for a
    container whose inspect would wait on the engine's lock (one being started)."""
    names = summary.get("Names") or [""]
    return {
        "Id": summary.get("Id", ""),
        "Name": names[0],
        "Created": summary.get("Created", ""),
        "Config": {"Labels": summary.get("Labels") or {}, "Image": summary.get("Image", "")},
        "State": {"Status": summary.get("State", "")},
        "HostConfig": {},
        "NetworkSettings": summary.get("NetworkSettings") or {},
    }


@dataclass
class ContainerInfo:
    """What the API tells about a container (``ContainerInfo`` in API.md)."""

    id: str
    name: str
    image: str
    status: str
    created: str
    owner: str
    workdir: str
    announced_ports: list[int] = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    docker_id: str = ""  # internal only: never serialised
    address: str = ""  # internal: IP on its Docker network, where the preview proxy connects
    published_ports: dict[int, int] = field(default_factory=dict)  # container port -> host port
    pid: int = 0  # internal: its init process on the engine's host (0: not running)
    user: str = ""  # internal: the user its processes run as ("": root)
    disk_limit: int = 0  # bytes (0: no quota)
    disk_used: int | None = None  # bytes, where known cheaply (set by the engine side)
    disk_path: str = ""  # internal: a "loop" disk's mount point on the engine's host
    reason: str = ""  # why the status is "lost" (which node, what failed); "" otherwise

    @classmethod
    def from_attrs(cls, attrs: dict) -> ContainerInfo:
        """Build from a container's inspect answer (``container.attrs``)."""
        config = attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        host = attrs.get("HostConfig") or {}
        return cls(
            id=labels[LABEL_ID],
            name=labels.get(LABEL_NAME, ""),
            image=config.get("Image", ""),
            status=status_of(attrs.get("State") or {}),
            created=labels.get(LABEL_CREATED) or attrs.get("Created", ""),
            owner=labels.get(LABEL_OWNER, ""),
            workdir=labels.get(LABEL_WORKDIR) or config.get("WorkingDir") or "/",
            announced_ports=parse_ports(labels.get(LABEL_PORTS)),
            limits={
                "memory": host.get("Memory") or 0,
                "cpu_shares": host.get("CpuShares") or 0,
                "pids": host.get("PidsLimit") or 0,
            },
            docker_id=attrs.get("Id", ""),
            address=network_address(attrs),
            published_ports=published_ports(attrs),
            pid=int((attrs.get("State") or {}).get("Pid") or 0),
            user=config.get("User") or "",
            disk_limit=int(limit) if (limit := labels.get(LABEL_DISK_LIMIT, "")).isdigit() else 0,
            disk_path=disk_mount_point(attrs),
            reason=_lost_reason(attrs.get("State") or {}),
        )

    def to_json(self, ports: list[dict] | None = None) -> dict:
        """The public answer; ``ports`` are ``[{port, url}]`` computed by the caller.
        ``reason`` only where the status has one (``lost``)."""
        answer = {
            "id": self.id,
            "name": self.name,
            "image": self.image,
            "status": self.status,
            "created": self.created,
            "owner": self.owner,
            "workdir": self.workdir,
            "ports": ports if ports is not None else [],
            "limits": dict(self.limits),
            "disk": {"limit": self.disk_limit, "used": self.disk_used},
        }
        if self.reason:
            answer["reason"] = self.reason
        return answer


def _lost_reason(state: dict) -> str:
    if state.get("Status") != STATE_LOST:
        return ""
    return str(state.get("Error") or "its node does not answer")
