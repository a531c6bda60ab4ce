"""Live metrics of a container (CPU, memory, processes, disk, network) from the engine's
stats (core/metrics.py computes them from a reading).

- :func:`read_metrics`: one reading, for ``GET /containers/{id}/metrics`` (the engine takes
  about a second: it samples twice to know the CPU use in between).
- :class:`MetricsStream`: the readings of one container as the engine streams them, about
  one a second, on ONE connection (no thread, no poll per tick), for the sockets that
  joined it (gateway/rooms.py starts one per container and stops it when the last
  subscriber leaves).

Disk use: a container with a "loop" disk quota (engine/disk.py) has its file system's use
read on this machine at every reading (a statvfs); others the size of their writable
layer, which the engine computes by walking it: on each REST reading, and in a stream at
most every ``disk_interval`` seconds (0: never).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from ..core.errors import EngineUnavailable
from ..core.metrics import container_metrics
from ..core.models import ContainerInfo
from .backend import BackendConflict, BackendNotFound, BackendRefused, EngineBackend
from .disk import disk_used

log = logging.getLogger("jupyter_container_manager")

OnSample = Callable[[dict], None]
OnEnd = Callable[[], Awaitable[None] | None]


async def _limits(engine: EngineBackend, info: ContainerInfo) -> tuple[float, int]:
    """``(CPU cores, pids)`` the container may use (0: no cap)."""
    attrs = await engine.inspect(info.docker_id) or {}
    host = attrs.get("HostConfig") or {}
    return (host.get("NanoCpus") or 0) / 1e9, int(host.get("PidsLimit") or 0)


async def _disk(engine: EngineBackend, info: ContainerInfo, *, layer: bool) -> int | None:
    used = disk_used(info.disk_path)
    if used is not None or not layer:
        return used
    try:
        return await engine.disk_size(info.docker_id)
    except (BackendNotFound, BackendConflict, BackendRefused):
        return None


async def read_metrics(engine: EngineBackend, info: ContainerInfo) -> dict:
    """One reading of a running container's metrics."""
    cpu_limit, pids_limit = await _limits(engine, info)
    readings = engine.stats(info.docker_id, stream=False)
    try:
        stats = await anext(readings, None)
    finally:
        await readings.aclose()
    if stats is None:
        raise BackendConflict("the container stopped")
    return container_metrics(stats, cpu_limit=cpu_limit, pids_limit=pids_limit,
                             disk_used=await _disk(engine, info, layer=True),
                             disk_limit=info.disk_limit)


class MetricsStream:
    """One container's metrics, as the engine streams its stats. ``on_sample(metrics)``
    for each reading (the first one, which has no CPU use yet, is skipped); ``on_end()``
    once the stream ends on its own (the container stopped, the engine went away)."""

    def __init__(self, engine: EngineBackend, info: ContainerInfo, on_sample: OnSample,
                 on_end: OnEnd, *, disk_interval: float = 10.0):
        self.engine = engine
        self.info = info
        self.disk_interval = disk_interval
        self.latest: dict | None = None
        self._on_sample = on_sample
        self._on_end = on_end
        self._task: asyncio.Task | None = None
        self._stopped = False

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        try:
            await self._read()
        except asyncio.CancelledError:
            raise
        except (BackendNotFound, BackendConflict, BackendRefused, EngineUnavailable) as err:
            log.debug("metrics of %s ended: %s", self.info.id, err)
        except Exception:  # noqa: BLE001 - a bad reading ends this stream, not the server
            log.exception("metrics of %s failed", self.info.id)
        if not self._stopped:
            result = self._on_end()
            if asyncio.iscoroutine(result):
                await result

    async def _read(self) -> None:
        cpu_limit, pids_limit = await _limits(self.engine, self.info)
        layer_disk = None
        disk_at = 0.0
        readings = self.engine.stats(self.info.docker_id, stream=True)
        try:
            async for stats in readings:
                disk = disk_used(self.info.disk_path)
                if disk is None and self.disk_interval > 0:
                    if time.monotonic() - disk_at >= self.disk_interval:
                        disk_at = time.monotonic()
                        with contextlib.suppress(BackendNotFound, BackendConflict,
                                                 BackendRefused):
                            layer_disk = await self.engine.disk_size(self.info.docker_id)
                    disk = layer_disk
                metrics = container_metrics(stats, cpu_limit=cpu_limit, pids_limit=pids_limit,
                                            disk_used=disk, disk_limit=self.info.disk_limit)
                if metrics["cpu"]["percent"] is None:
                    continue
                self.latest = metrics
                self._on_sample(metrics)
        finally:
            await readings.aclose()
