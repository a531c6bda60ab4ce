"""Standby kernels: a bootstrap (core/kernel_launch.py) spawned ahead of time in a
container where a kernel runs, so that the next kernel start there (a restart, another
notebook, run-code's kernel after a failed interrupt) is a stdin write and a fork: the
bootstrap has imported ipykernel while it waited for its connection line.

One standby per container at most, kept only while a kernel of this server runs in the
container: the last kernel's end kills it (an idle interpreter does not linger in a
user's container). A kernel spec with an ``env`` of its own does not use standbys (its
variables must be there when the interpreter starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref

from ..core import kernel_launch
from ..core.errors import ContainerManagerError
from ..core.models import ContainerInfo
from ..manager import ContainerManager

log = logging.getLogger(__name__)
STANDBY_DELAY = 3.0  # seconds after a kernel start before its standby is spawned


class Standbys:
    """The standby bootstraps of one manager's containers, and their kernels' count."""

    def __init__(self, manager: ContainerManager):
        self._manager = weakref.ref(manager)
        self._ready: dict[str, object] = {}  # container id -> Process
        self._preparing: dict[str, asyncio.Task] = {}
        self._kernels: dict[str, int] = {}

    def take(self, container_id: str):
        """A running standby of the container (now the caller's), or None."""
        process = self._ready.pop(container_id, None)
        if process is not None and process.running:
            return process
        return None

    def kernel_started(self, info: ContainerInfo, python: str) -> None:
        """A kernel runs in the container now: have a standby ready for the next one."""
        self._kernels[info.id] = self._kernels.get(info.id, 0) + 1
        self.prepare(info, python)

    def prepare(self, info: ContainerInfo, python: str) -> None:
        manager = self._manager()
        if manager is None or info.id in self._ready or info.id in self._preparing:
            return
        task = manager.background(self._spawn(manager, info, python),
                                  f"standby kernel in {info.id}")
        self._preparing[info.id] = task
        task.add_done_callback(lambda _: self._preparing.pop(info.id, None))

    async def _spawn(self, manager: ContainerManager, info: ContainerInfo, python: str) -> None:
        # After the kernel that asked for it has started: two interpreters importing
        # IPython at once would slow that kernel's start on a busy machine.
        await asyncio.sleep(STANDBY_DELAY)
        if not self._kernels.get(info.id):
            return
        argv = kernel_launch.bootstrap_argv(python)
        try:
            process = await manager.spawn(info, argv[0], argv[1:])
        except ContainerManagerError as err:  # the container went away meanwhile
            log.debug("no standby kernel in %s: %r", info.id, err)
            return
        if self._kernels.get(info.id):
            self._ready[info.id] = process
        else:  # its kernels ended while it started
            await _end(process)

    async def kernel_ended(self, container_id: str) -> None:
        """A kernel of the container ended for good; the last one ends the standby."""
        left = self._kernels.get(container_id, 0) - 1
        if left > 0:
            self._kernels[container_id] = left
            return
        self._kernels.pop(container_id, None)
        preparing = self._preparing.pop(container_id, None)
        if preparing is not None:
            preparing.cancel()
        process = self._ready.pop(container_id, None)
        if process is not None:
            await _end(process)


async def _end(process) -> None:
    with contextlib.suppress(Exception):
        process.close_stdin()  # the bootstrap reads no line: it exits
        await process.kill("KILL")
    process.close()


_REGISTRY: weakref.WeakKeyDictionary[ContainerManager, Standbys] = weakref.WeakKeyDictionary()


def standbys_of(manager: ContainerManager) -> Standbys:
    """The standbys of that manager's containers."""
    found = _REGISTRY.get(manager)
    if found is None:
        found = _REGISTRY[manager] = Standbys(manager)
    return found
