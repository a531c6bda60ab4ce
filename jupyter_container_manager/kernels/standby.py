"""Standby kernels: a bootstrap (core/kernel_launch.py) spawned ahead of time in a
container where a kernel runs, so that the next kernel start there (a restart, another
notebook, run-code's kernel after a failed interrupt) is a stdin write and a fork: the
bootstrap has imported ipykernel while it waited for its connection line.

One standby per container at most, kept only while a kernel of this server runs in the
container: the last kernel's end kills it (an idle interpreter does not linger in a
user's container). A kernel spec with an ``env`` of its own does not use standbys (its
variables must be there when the interpreter starts).

In a server (``c.ContainerManager.kernel_standby_in_pool``), warm-pool containers wait
with a standby too (``follow_pool``): the provisioner takes a pooled container for a new
kernel inside ``for_kernel()``, and its hand-out keeps the standby for it; any other
hand-out kills the standby as the create answers, so a container made for other uses
carries no interpreter of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import Iterator

from ..core import kernel_launch
from ..core.errors import ContainerManagerError
from ..core.models import ContainerInfo
from ..manager import ContainerManager

log = logging.getLogger(__name__)
STANDBY_DELAY = 3.0  # seconds after a kernel start before its standby is spawned
# Set while the provisioner takes a container for a kernel (a pooled one keeps its standby).
_FOR_KERNEL: contextvars.ContextVar[bool] = contextvars.ContextVar("jcm_for_kernel",
                                                                   default=False)


@contextlib.contextmanager
def for_kernel() -> Iterator[None]:
    """Containers created inside are for a kernel: a pooled one keeps its standby."""
    token = _FOR_KERNEL.set(True)
    try:
        yield
    finally:
        _FOR_KERNEL.reset(token)


class Standbys:
    """The standby bootstraps of one manager's containers, and their kernels' count."""

    def __init__(self, manager: ContainerManager):
        self._manager = weakref.ref(manager)
        self._ready: dict[str, object] = {}  # container id -> Process
        self._preparing: dict[str, asyncio.Task] = {}
        self._kernels: dict[str, int] = {}
        self._pooled: set[str] = set()  # waiting in the warm pool (not handed out yet)
        self._python = "python3"

    def follow_pool(self, python: str = "python3") -> None:
        """Have a standby in each container the warm pool starts from now on."""
        manager = self._manager()
        if manager is None:
            return
        self._python = python
        manager.on_pooled(self._pooled_ready)
        manager.on_pool_hand_out(self._handed_out)

    def _pooled_ready(self, info: ContainerInfo) -> None:
        manager = self._manager()
        if manager is None or info.id in self._ready or info.id in self._preparing:
            return
        self._pooled.add(info.id)
        # Delayed as a kernel's standby is: the refill follows a hand-out, often to a
        # kernel starting now, and the next request on its heels.
        task = manager.background(self._spawn(manager, info, self._python),
                                  f"standby kernel in pooled {info.id}")
        self._preparing[info.id] = task
        task.add_done_callback(lambda _: self._preparing.pop(info.id, None))

    def _handed_out(self, info: ContainerInfo) -> None:
        self._pooled.discard(info.id)
        if _FOR_KERNEL.get() or self._kernels.get(info.id):
            return  # the provisioner takes it (or, still starting, its next kernel will)
        process = self._ready.pop(info.id, None)
        manager = self._manager()
        if process is not None and manager is not None:
            # Ended as the create answers, not before: its kill is two agent round trips
            # (about 15 ms here), which a container for other uses should not wait for.
            manager.background(_end(process), f"standby of handed-out {info.id}")
        # One still being spawned ends what it started itself (_spawn: no longer wanted).

    @property
    def waiting(self) -> set[str]:
        """The containers with a standby ready now."""
        return set(self._ready)

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

    def _wanted(self, container_id: str) -> bool:
        return bool(self._kernels.get(container_id)) or container_id in self._pooled

    async def _spawn(self, manager: ContainerManager, info: ContainerInfo, python: str,
                     delay: float = STANDBY_DELAY) -> None:
        # After the kernel that asked for it has started: two interpreters importing
        # IPython at once would slow that kernel's start on a busy machine.
        await asyncio.sleep(delay)
        if not self._wanted(info.id):
            return
        argv = kernel_launch.bootstrap_argv(python)
        try:
            process = await manager.spawn(info, argv[0], argv[1:])
        except ContainerManagerError as err:  # the container went away meanwhile
            log.debug("no standby kernel in %s: %r", info.id, err)
            return
        if self._wanted(info.id):
            self._ready[info.id] = process
        else:  # its kernels ended (or it was handed out for other uses) while it started
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
