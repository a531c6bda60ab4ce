"""The warm pool: started containers of the default image waiting to be handed out.

``boot`` and ``POST /containers`` with the defaults (no name, env, ports or other
workdir; the default image) take one at once instead of creating one (a create and a
start on the engine; the README's Performance table has the figures); the pool refills
in the background, one container at a time. A pooled container carries its owner's
labels from the start, under a Docker name no route looks up (models.pool_name); the
hand-out renames it (on a swarm: labels its service, engine/swarm_pool.py), so the
state stays in Docker: a pooled container is never listed, counted against the quota,
or stopped for idleness; a server that stops removes its pool, one that crashed leaves
it to the next server, which adopts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Callable

from ..core.models import ContainerInfo
from ..tasks import TaskOwner

RETRY_AFTER = 5.0  # seconds before refilling again after a failed create
REFILL_PAUSE = 0.05  # seconds between a hand-out and the refill it calls for


PoolHook = Callable[[ContainerInfo], object]


class WarmPool:
    def __init__(self, lifecycle, size: int, image: str, log: logging.Logger,
                 on_pooled: list[PoolHook] | None = None,
                 on_hand_out: list[PoolHook] | None = None):
        self.lifecycle = lifecycle
        self.size = max(0, size)
        self.image = image
        self.log = log
        # Called with a container this pool started once it waits (the kernels' standby),
        # and awaited with one handed out before the create answers.
        self.on_pooled = on_pooled if on_pooled is not None else []
        self.on_hand_out = on_hand_out if on_hand_out is not None else []
        self._ready: deque[tuple[str, str]] = deque()  # (docker id, public id)
        self._wanted = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def ready(self) -> int:
        return len(self._ready)

    def start(self, tasks: TaskOwner) -> None:
        """Fill the pool and keep it full, as a task of ``tasks``."""
        if self.size and self._task is None:
            self._task = tasks.spawn(self._run(), "warm pool")

    async def take(self, slot=None) -> ContainerInfo | None:
        """A running container of the default image made the owner's, or None when the
        pool is empty (the caller creates one then). ``slot``: the quota place it takes."""
        while self._ready:
            docker_id, container_id = self._ready.popleft()
            try:
                info = await self.lifecycle.hand_out(docker_id, container_id, slot)
            finally:
                # Refill once the hand-out is done and its answer on its way: a create
                # (docker-py in worker threads of this process) beside them slows both.
                asyncio.get_running_loop().call_later(REFILL_PAUSE, self._wanted.set)
            if info is not None:
                await self._call(self.on_hand_out, info)
                return info
        self._wanted.set()
        return None

    async def _call(self, hooks: list[PoolHook], info: ContainerInfo) -> None:
        for hook in list(hooks):
            try:
                result = hook(info)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # noqa: BLE001 - a hook's failure must not lose the container
                self.log.exception("warm pool: hook %r failed for %s", hook, info.id)

    async def _adopt(self) -> None:
        """Take back the pool a previous server left (same owner); drop what cannot serve
        (stopped, another image, or made with other proxy variables or CA certificates)."""
        setup = self.lifecycle.network.digest  # proxy variables and CA bundle alike
        for pooled in await self.lifecycle.pooled():
            if (
                pooled["running"]
                and pooled["image"] == self.image
                and pooled["setup"] == setup
                and len(self._ready) < self.size
            ):
                self._ready.append((pooled["docker_id"], pooled["id"]))
            else:
                await self.lifecycle.discard(pooled["docker_id"])

    async def _run(self) -> None:
        try:
            await self._adopt()
        except Exception as err:  # noqa: BLE001 - the engine may be down: fill from scratch
            self.log.warning("warm pool: could not adopt the previous pool: %s", err)
        while True:
            while len(self._ready) < self.size:
                try:
                    info = await self.lifecycle.create(image=self.image, pooled=True)
                except Exception as err:  # noqa: BLE001 - engine down, image missing...
                    self.log.warning("warm pool: could not start a container: %s", err)
                    await asyncio.sleep(RETRY_AFTER)
                    continue
                self._ready.append((info.docker_id, info.id))
                await self._call(self.on_pooled, info)
            self._wanted.clear()
            await self._wanted.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Stop refilling and remove the waiting containers: a server that stops leaves
        only its users' containers behind (a server that crashed leaves its pool to the
        next one, which adopts it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        waiting = [docker_id for docker_id, _ in self._ready]
        self._ready.clear()
        if waiting:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    asyncio.gather(*(self.lifecycle.discard(d) for d in waiting)), timeout
                )
