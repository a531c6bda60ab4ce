"""Warm kernels behind ``POST /containers/{id}/run-code``: one kernel per container, kept
by the server between calls (state persists, as in E2B's code interpreter), started on
the first call, stopped when the container stops or is removed, and at server stop.

A kernel runs one execution at a time (a lock per container); output is read from iopub
until the kernel goes idle for that request, each message turned into a run-code event
(core/execution.py). Past ``timeout`` the kernel is interrupted (SIGINT), and the answer
carries a ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance
from traitlets.config import LoggingConfigurable

from ..core.errors import ContainerManagerError, ServiceUnavailable
from ..core.execution import Execution, event_of, timeout_error
from ..core.models import ContainerInfo
from ..manager import ContainerManager
from .provisioner import ContainerProvisioner
from .spec import kernel_spec
from .wire import Reader

WARM_KERNELS_KEY = "container_warm_kernels"
READY_TIMEOUT = 60.0
ALIVE_CHECK = 1.0  # while waiting for output, how often to ask whether the kernel lives
INTERRUPT_GRACE = 5.0  # after an interrupt, how long the kernel may take to go idle
SHELL_DRAIN_LIMIT = 100  # replies taken off the shell channel after one execution, at most
REPLY_GRACE = 1.0  # after the idle status, how long the execute_reply may take to come
# The run-code kernel keeps its history in memory (In, Out, _ work) but writes none to
# the container's ~/.ipython history database: that write (a thread and an SQLite commit
# per execution) was a third of the kernel's round trip for `1+1`.
KERNEL_ARGUMENTS = ("--HistoryManager.enabled=False",)


class KernelNotReady(ServiceUnavailable):
    code = "EKERNEL"


@dataclass
class WarmKernel:
    manager: AsyncKernelManager
    client: Any
    iopub: Reader
    shell: Reader
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class WarmKernels(LoggingConfigurable):
    """The run-code kernels of one server, by container id."""

    container_manager = Instance(ContainerManager)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._kernels: dict[str, WarmKernel] = {}
        self._starting: dict[str, asyncio.Future] = {}

    async def _start(self, info: ContainerInfo) -> WarmKernel:
        km = AsyncKernelManager(parent=self, log=self.log, kernel_id=str(uuid.uuid4()))
        spec = kernel_spec()
        km._kernel_spec = spec  # the packaged spec, whatever is installed
        km.provisioner = ContainerProvisioner(kernel_id=km.kernel_id, kernel_spec=spec,
                                              parent=km, container_id=info.id, log=self.log)
        await km.start_kernel(extra_arguments=list(KERNEL_ARGUMENTS))
        client = km.client()
        # Shell and iopub only: interrupts are signals, liveness the provisioner's, and
        # no stdin (input() fails at once instead of waiting for the timeout).
        client.start_channels(stdin=False, hb=False, control=False)
        try:
            await client.wait_for_ready(timeout=READY_TIMEOUT)
        except Exception as err:
            client.stop_channels()
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
            if isinstance(err, ContainerManagerError):
                raise
            raise KernelNotReady(f"The kernel in container {info.id} did not start: {err}") \
                from None
        return WarmKernel(km, client,
                          Reader(client.session, client.iopub_channel.socket, self.log),
                          Reader(client.session, client.shell_channel.socket, self.log))

    async def kernel(self, info: ContainerInfo) -> WarmKernel:
        """The container's warm kernel, started if it has none (or its kernel died)."""
        warm = self._kernels.get(info.id)
        if warm is not None and await warm.manager.is_alive():
            return warm
        if warm is not None:
            await self.stop(info.id)
        pending = self._starting.get(info.id)
        if pending is None:
            # Awaited by every caller that wants it (shielded: one leaving does not
            # cancel it for the others), bounded by READY_TIMEOUT.
            pending = self._starting[info.id] = asyncio.ensure_future(self._start(info))
            pending.add_done_callback(lambda _: self._starting.pop(info.id, None))
        warm = await asyncio.shield(pending)
        self._kernels[info.id] = warm
        return warm

    async def run(self, info: ContainerInfo, code: str, timeout: float
                  ) -> AsyncIterator[dict]:
        """Run ``code`` in the container's warm kernel: its events as they come; the last
        is ``{"type": "end", ...}`` with the execution count."""
        warm = await self.kernel(info)
        async with warm.lock:
            execution = Execution()
            msg_id = warm.client.execute(code, stop_on_error=False)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            interrupted = False
            while True:
                left = deadline - loop.time()
                if left <= 0 and not interrupted:
                    interrupted = True
                    execution.timed_out = True
                    await warm.manager.interrupt_kernel()
                    deadline = loop.time() + INTERRUPT_GRACE
                    event = timeout_error(timeout)
                    execution.add(event)
                    yield event
                    continue
                if left <= 0:  # the interrupt was not heard: the kernel is restarted
                    await self.stop(info.id)
                    break
                msg = await warm.iopub.next(min(left, ALIVE_CHECK))
                if msg is None:
                    if not await warm.manager.is_alive():
                        break  # the kernel (or its container) ended
                    continue
                if msg["parent_id"] != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "status":
                    if msg["content"].get("execution_state") == "idle":
                        break
                    continue
                if kind == "execute_input":
                    execution.execution_count = msg["content"].get("execution_count")
                    continue
                event = event_of(msg)
                if event is None or (interrupted and event["type"] == "error"):
                    continue  # the KeyboardInterrupt of our own timeout
                execution.add(event)
                yield event
            alive = await warm.manager.is_alive()
            if alive:
                await _take_reply(warm, msg_id)
            elif execution.error is None and not execution.timed_out:
                event = {"type": "error", "name": "KernelDied",
                         "value": "The kernel ended during the execution",
                         "traceback": warm.manager.provisioner.output_tail
                         if isinstance(warm.manager.provisioner, ContainerProvisioner) else ""}
                execution.add(event)
                yield event
            self.container_manager.touch(info.id)
            yield execution.end_event()

    async def run_to_end(self, info: ContainerInfo, code: str, timeout: float) -> dict:
        """``run`` added up: ``{stdout, stderr, results, error, executionCount}``."""
        execution = Execution()
        async for event in self.run(info, code, timeout):
            if event["type"] == "end":
                execution.execution_count = event["executionCount"]
                execution.timed_out = bool(event.get("timedOut"))
            else:
                execution.add(event)
        return execution.to_json()

    async def stop(self, container_id: str) -> None:
        """Stop the container's warm kernel, if it has one (a stop or removal hook)."""
        warm = self._kernels.pop(container_id, None)
        if warm is None:
            return
        warm.client.stop_channels()
        try:
            if warm.manager.has_kernel:
                await warm.manager.shutdown_kernel(now=True)
            else:
                await warm.manager.cleanup_resources()
        except Exception as err:  # noqa: BLE001 - the container may be gone already
            self.log.debug("warm kernel of %s: shutdown: %r", container_id, err)

    def has_kernel(self, container_id: str) -> bool:
        return container_id in self._kernels

    async def close(self) -> None:
        for container_id in list(self._kernels):
            await self.stop(container_id)


async def _take_reply(warm: WarmKernel, msg_id: str) -> None:
    """Take the execution's reply off the shell channel: the kernel sends it just before
    its idle status, so it is there or about to be (left there, replies would pile up in
    the socket's queue; one that comes later is skipped by the next execution)."""
    for _ in range(SHELL_DRAIN_LIMIT):
        reply = await warm.shell.next(REPLY_GRACE)
        if reply is None or reply["parent_id"] == msg_id:
            return


async def shutdown_container_kernels(kernel_manager, log) -> int:
    """Shut down the server's kernels that run in containers (at extension stop, before
    the container manager closes: Jupyter stops extensions before its kernels, and a
    kernel's new container must be removed while the manager still can)."""
    if kernel_manager is None:
        return 0
    ids = [kernel_id for kernel_id in list(kernel_manager.list_kernel_ids())
           if isinstance(getattr(kernel_manager.get_kernel(kernel_id), "provisioner", None),
                         ContainerProvisioner)]
    for kernel_id in ids:
        try:
            await kernel_manager.shutdown_kernel(kernel_id, now=True)
        except Exception as err:  # noqa: BLE001 - one failure must not keep the others
            log.warning("kernel %s in a container: shutdown failed: %r", kernel_id, err)
    return len(ids)
