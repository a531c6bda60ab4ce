"""Checkpoints of a container's workdir, file by file, and their restore.

A checkpoint records only the workdir's files that changed since the last one (size,
mtime or mode differ; names in ``checkpoint_ignore`` are not looked into), each as a
copy. They are kept inside the container, outside its workdir, in CHECKPOINT_STORE
(an index and one folder per checkpoint), so they live and die with the container and a
snapshot carries them. The container's agent does the work in its own process
(agent_checkpoints.js): a checkpoint of a few changed files in a tree of 10,000 costs the
stat of each file and the copies, no ``docker exec``. Images without ``node`` have no
agent and no checkpoints (422).

Bounds per container: ``max_checkpoints_per_container`` and ``max_checkpoint_size``
(bytes of copies kept). Past either, the oldest checkpoint is folded into the next; a
checkpoint that still does not fit is refused (429) and nothing is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core import paths
from ..core.errors import (
    CheckpointNotFound,
    FileSystemError,
    QuotaExceeded,
    Unprocessable,
)
from ..core.models import ContainerInfo
from .agent import AgentGone, Agents

if TYPE_CHECKING:
    from ..manager import ContainerManager

CHECKPOINT_STORE = "/var/tmp/.jupyter-container-manager-checkpoints"


class Checkpoints:
    """Checkpoints of the containers' workdirs, through their agents."""

    def __init__(self, agents: Agents, settings: ContainerManager):
        self.agents = agents
        self.settings = settings

    def _request(self, info: ContainerInfo, op: str, **more) -> dict:
        return {"op": op, "workdir": info.workdir, "store": CHECKPOINT_STORE,
                "ignore": list(self.settings.checkpoint_ignore), **more}

    async def _call(self, info: ContainerInfo, request: dict) -> dict:
        agent = await self.agents.get(info.docker_id)
        if agent is None or not agent.does_files:
            raise Unprocessable(
                "Checkpoints need Node.js in the container's image (the agent does them); "
                "this container has none, or c.ContainerManager.agent is off"
            )
        try:
            reply, _ = await agent.fs(request)
        except AgentGone:
            raise Unprocessable("The container's agent ended; try again") from None
        code = reply.get("code")
        if code == "EQUOTA":
            raise QuotaExceeded(
                f"This checkpoint would keep {reply.get('bytes', 0) + reply.get('stored', 0)} "
                f"bytes of copies, more than {self.settings.max_checkpoint_size} "
                "(c.ContainerManager.max_checkpoint_size); nothing was recorded."
            )
        if code == "ENOCHECKPOINT":
            raise CheckpointNotFound(f"No checkpoint {request.get('checkpoint')!r} of "
                                     f"container {info.id}")
        if code:
            raise FileSystemError(code, reply.get("syscall") or "checkpoint", info.workdir)
        return reply

    async def create(self, info: ContainerInfo) -> dict:
        """Record the files changed since the last checkpoint: ``{id, created, size,
        files: [{path, change}]}``."""
        return await self._call(info, self._request(
            info, "checkpoint", maxCount=self.settings.max_checkpoints_per_container,
            maxBytes=self.settings.max_checkpoint_size))

    async def list(self, info: ContainerInfo) -> list[dict]:
        return (await self._call(info, self._request(info, "checkpoints")))["checkpoints"]

    async def restore(self, info: ContainerInfo, checkpoint: str,
                      api_paths: list[str] | None = None) -> list[dict]:
        """Bring the workdir (or only ``api_paths``, files or folders) back to what it
        was at ``checkpoint``: ``[{path, kind}]`` of what changed. A path out of the
        workdir: EACCES, before anything changes."""
        wanted = None
        if api_paths is not None:
            wanted = []
            for api_path in api_paths:
                absolute = paths.resolve(info.workdir, api_path, "restore")
                wanted.append(paths.relative(info.workdir, absolute))
        reply = await self._call(info, self._request(
            info, "restore", checkpoint=str(checkpoint), paths=wanted))
        return reply["restored"]
