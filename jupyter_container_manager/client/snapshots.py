"""Snapshots, forks and checkpoints from Python (the REST routes of rest/snapshots.py).

``AsyncSnapshots`` lists, gets and deletes the user's snapshots; ``ContainerSaves`` is
what one container can do: take a snapshot, fork, record a checkpoint, list them,
restore one. ``AsyncContainers``, ``AsyncWebContainer`` and their synchronous twins
expose them (``containers.snapshots.list()``, ``wc.snapshot()``, ``wc.fork(2)``,
``wc.checkpoint()``, ``wc.restore_checkpoint(cp.id, ["src"])``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import ContainerInfo
from .runner import LoopThread
from .transport import Transport


@dataclass(frozen=True)
class Snapshot:
    """A container's file system saved: start new containers from it
    (``create(snapshot=snapshot.id)``)."""

    id: str
    container: str
    name: str
    created: str
    size: int

    @classmethod
    def from_json(cls, data: dict) -> Snapshot:
        return cls(id=data["id"], container=data.get("container", ""),
                   name=data.get("name", ""), created=data.get("created", ""),
                   size=int(data.get("size") or 0))


@dataclass(frozen=True)
class Checkpoint:
    """The workdir's files that changed since the checkpoint before: ``files`` maps each
    path (from the workdir) to "add", "change" or "unlink"."""

    id: str
    created: str
    size: int
    files: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: dict) -> Checkpoint:
        return cls(id=str(data["id"]), created=data.get("created", ""),
                   size=int(data.get("size") or 0),
                   files={f["path"]: f["change"] for f in data.get("files") or []})


class AsyncSnapshots:
    """The user's snapshots."""

    def __init__(self, transport: Transport):
        self._transport = transport

    async def list(self) -> list[Snapshot]:
        answer = await self._transport.request("GET", "containers/snapshots")
        return [Snapshot.from_json(item) for item in answer.json()]

    async def get(self, snapshot_id: str) -> Snapshot:
        answer = await self._transport.request("GET", f"containers/snapshots/{snapshot_id}")
        return Snapshot.from_json(answer.json())

    async def delete(self, snapshot_id: str) -> None:
        await self._transport.request("DELETE", f"containers/snapshots/{snapshot_id}")


class ContainerSaves:
    """Snapshots, forks and checkpoints of one container."""

    def __init__(self, transport: Transport, container_id: str):
        self._transport = transport
        self._base = f"containers/{container_id}"

    async def snapshot(self, name: str | None = None) -> Snapshot:
        body = {} if name is None else {"name": name}
        answer = await self._transport.request("POST", f"{self._base}/snapshots",
                                               json_body=body)
        return Snapshot.from_json(answer.json())

    async def fork(self, count: int = 1) -> list[ContainerInfo]:
        answer = await self._transport.request("POST", f"{self._base}/fork",
                                               json_body={"count": count})
        return [ContainerInfo.from_json(item) for item in answer.json()["containers"]]

    async def checkpoint(self) -> Checkpoint:
        answer = await self._transport.request("POST", f"{self._base}/checkpoints",
                                               json_body={})
        return Checkpoint.from_json(answer.json())

    async def checkpoints(self) -> list[Checkpoint]:
        answer = await self._transport.request("GET", f"{self._base}/checkpoints")
        return [Checkpoint.from_json(item) for item in answer.json()]

    async def restore(self, checkpoint: str | Checkpoint,
                      paths: list[str] | None = None) -> dict[str, str]:
        """Bring the workdir (or only ``paths``) back to ``checkpoint``: what changed,
        ``{path: "add" | "change" | "unlink"}``."""
        checkpoint_id = checkpoint.id if isinstance(checkpoint, Checkpoint) else checkpoint
        body = {} if paths is None else {"paths": list(paths)}
        answer = await self._transport.request(
            "POST", f"{self._base}/checkpoints/{checkpoint_id}/restore", json_body=body)
        return {entry["path"]: entry["kind"] for entry in answer.json()["restored"]}


class Snapshots:
    """``AsyncSnapshots``, synchronously."""

    def __init__(self, snapshots: AsyncSnapshots, runner: LoopThread):
        self._snapshots = snapshots
        self._run = runner.run

    def list(self) -> list[Snapshot]:
        return self._run(self._snapshots.list())

    def get(self, snapshot_id: str) -> Snapshot:
        return self._run(self._snapshots.get(snapshot_id))

    def delete(self, snapshot_id: str) -> None:
        self._run(self._snapshots.delete(snapshot_id))
