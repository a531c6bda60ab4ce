"""The kernel provisioner: a Jupyter kernel that runs inside a managed container.

Registered as ``container`` on the ``jupyter_client.kernel_provisioners`` entry point and
named by the kernel spec "Python 3 (new container)". The kernel is the container's own
Python (``python3 -m ipykernel_launcher``, the kernel spec's argv) started through the
manager's ``spawn``: it lives in the container's process namespace, its cwd is the
container's workdir, and it ends with the container.

- **Which container**: ``container_id`` (a provisioner setting, or a ``container_id``
  keyword of ``start_kernel``, which is how ``POST /containers/{id}/kernels`` opens one in
  an existing container) or, without one, a new container of the manager's image, removed
  when the kernel shuts down unless ``keep_container``. A restart keeps the container.
- **Connections**: the kernel listens on five ports of the container (drawn once, kept
  across restarts); the server connects to the container's address on its Docker
  network, so nothing is published on the host. Where that address is not reachable (a
  swarm node's container) the kernel listens on the container's loopback and the server
  connects to five listeners on its own loopback, whose connections the container's
  agent carries (engine/port_forward.py); they close when the kernel ends. The
  connection file goes over the bootstrap's stdin (core/kernel_launch.py): the key is in
  no argv, env, label or log.
- **Signals**: an interrupt is SIGINT to the kernel's process group; kill and terminate
  are SIGKILL and SIGTERM to it.
- **Owner rules**: every container is looked up through the manager, by public id,
  within its owner: another owner's container is ContainerNotFound.

The manager is the server's (kernels/shared_manager.py) or, outside a server, one of the
provisioner's own, closed at the final cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Bool, Unicode

from ..core import kernel_launch
from ..core.errors import ContainerManagerError, ContainerNotFound
from ..core.models import ContainerInfo
from ..manager import ContainerManager
from .shared_manager import find_shared_manager, standalone_manager
from .standby import for_kernel, standbys_of

OUTPUT_TAIL = 4096  # bytes of the kernel's own output kept for the message when it dies
GONE_CHECKS = 5  # a container that stopped under its kernel: is it being removed?
GONE_CHECK_INTERVAL = 0.3
SPAWN_ENV_PASSED = ("JPY_SESSION_NAME",)  # of the server's kernel env, what goes in


class KernelContainerGone(ContainerManagerError):
    """The kernel's container was removed: the kernel ended with it and cannot restart."""

    status = 404
    reason = "Not Found"
    code = "ENOCONTAINER"

    def __init__(self, container_id: str):
        super().__init__(
            f"The kernel's container {container_id} was removed; the kernel ended with it "
            "and cannot be restarted there. Start a new kernel."
        )
        self.container_id = container_id


class ContainerProvisioner(KernelProvisionerBase):
    """Runs a kernel in a managed container (see the module docstring)."""

    container_id = Unicode(
        "",
        config=True,
        help="""Public id of the (running) container the kernel runs in. Empty: a new
        container of the manager's image, for this kernel only.""",
    )
    keep_container = Bool(
        False,
        config=True,
        help="""Keep the new container this kernel made when the kernel shuts down
        (it is removed by default). A container the kernel did not make is always kept.""",
    )
    python = Unicode(
        "python3",
        config=True,
        help="""The container's Python that runs the bootstrap (the kernel itself is the
        kernel spec's argv).""",
    )

    use_standby = Bool(
        True,
        config=True,
        help="""Keep a standby bootstrap (ipykernel imported, waiting) in the container
        while this kernel runs, so that its restart, or the next kernel there, starts in
        about a fork (kernels/standby.py). It ends with the container's last kernel.""",
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._counted = False  # counted among the container's kernels (standbys)
        self._manager: ContainerManager | None = None
        self._own_manager = False
        self._info: ContainerInfo | None = None
        self._made_container = False
        self._ports: dict[str, int] | None = None
        self._forward = None  # LoopbackForward of the kernel's ports, where needed
        self._launched = False  # a launch succeeded (later ones are restarts)
        self._key = ""
        self._process = None
        self._reader: asyncio.Task | None = None
        self._exit_code: int | None = None
        self._tail = bytearray()
        self._gone = False  # the container was removed under the kernel
        self._stopping = False  # a shutdown or kill was asked for: its end is no news

    # --- where -------------------------------------------------------------------------

    @property
    def container(self) -> ContainerInfo | None:
        """The container the kernel runs in (once launched)."""
        return self._info

    @property
    def made_container(self) -> bool:
        """Whether this kernel made its container (and removes it, unless kept)."""
        return self._made_container

    def _get_manager(self) -> ContainerManager:
        if self._manager is None:
            shared = find_shared_manager(self.parent)
            if shared is None:
                shared = standalone_manager(self.config, self.log)
                self._own_manager = True
            self._manager = shared
        return self._manager

    async def _container(self, manager: ContainerManager) -> ContainerInfo:
        if self._info is not None:  # a restart: the same container, if it still runs
            try:
                return await manager.require_running(self._info.id, fresh=True)
            except ContainerNotFound:
                self._gone = True
                raise KernelContainerGone(self._info.id) from None
        if self.container_id:
            return await manager.require_running(self.container_id, fresh=True)
        with for_kernel():  # a warm-pool container keeps its standby for this kernel
            info = await manager.create_container()
        self._made_container = True
        return info

    # --- launch ------------------------------------------------------------------------

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        container_id = kwargs.pop("container_id", None)
        if container_id and not self._info:
            self.container_id = str(container_id)
        kwargs.pop("cwd", None)  # a path on the server: the kernel's cwd is the workdir
        extra = kwargs.pop("extra_arguments", [])
        kwargs = await super().pre_launch(**kwargs)
        kwargs["cmd"] = list(self.kernel_spec.argv) + list(extra)
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        try:
            return await self._launch(cmd, **kwargs)
        except BaseException:
            if not self._launched and self._forward is not None:  # no client has its ports
                self._forward.close()
                self._forward = None
            raise

    async def _launch(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        manager = self._get_manager()
        info = await self._container(manager)
        self._info = info
        address = manager.container_address(info)
        if self._ports is None:  # kept across restarts: clients keep their connections
            self._ports = kernel_launch.choose_ports()
            self._key = kernel_launch.new_key()
        # No route to the container's address (a swarm node's): the kernel listens on
        # the container's loopback, the server connects to its own, and the container's
        # agent carries each connection (engine/port_forward.py). Kept across restarts.
        kernel_ip = "0.0.0.0" if address else "127.0.0.1"
        if not address and (self._forward is None or self._forward.closed):
            self._forward = await manager.forward_ports(info, self._ports.values())
        # The kernel's ports are the server's, not previews of the user's.
        manager.hide_ports(info.id, self._port_owner, self._ports.values())
        passed = {name: value for name, value in (kwargs.get("env") or {}).items()
                  if name in SPAWN_ENV_PASSED}
        spec_env = {name: value for name, value in (kwargs.get("env") or {}).items()
                    if name in (self.kernel_spec.env or {})}
        standbys = standbys_of(manager)
        process = None if spec_env or not self.use_standby else standbys.take(info.id)
        self.log.info("Kernel %s: starting %s in container %s%s", self.kernel_id,
                      kernel_launch.describe(cmd), info.id,
                      " (standby)" if process is not None else "")
        if process is None:
            argv = kernel_launch.bootstrap_argv(self.python)
            process = await manager.spawn(info, argv[0], argv[1:],
                                          env={**passed, **spec_env} or None)
        try:
            await process.write(kernel_launch.handover(cmd, self._ports, self._key,
                                                       self.kernel_id or "kernel", passed,
                                                       ip=kernel_ip))
            process.close_stdin()
        except Exception:
            await process.kill("KILL")
            raise
        self._process = process
        self._stopping = False
        self._exit_code = None
        self._tail.clear()
        # Owned by the manager's tasks too: cancelled at server stop, failures logged.
        self._reader = manager.background(self._follow(process),
                                          f"kernel {self.kernel_id} output")
        manager.touch(info.id)
        if not spec_env and self.use_standby:
            if not self._counted:  # restarts are the same kernel
                self._counted = True
                standbys.kernel_started(info, self.python)
            else:
                standbys.prepare(info, self.python)
        if address:
            self.connection_info = kernel_launch.server_side(self._ports, self._key, address)
        else:
            local = {name: self._forward.local[port] for name, port in self._ports.items()}
            self.connection_info = kernel_launch.server_side(local, self._key, "127.0.0.1")
        self._launched = True
        return self.connection_info

    @property
    def _port_owner(self) -> str:
        return f"kernel {self.kernel_id or id(self)}"

    async def _follow(self, process) -> None:
        """Read the kernel's own output (its crash messages) until it ends."""
        async for chunk in process:
            self._tail.extend(chunk)
            del self._tail[:-OUTPUT_TAIL]
        code = await process.wait()
        self._exit_code = -1 if code is None else code
        if self._stopping:
            return
        status = await self._container_status(abnormal=code != 0)
        if self._gone:
            self.log.warning("Kernel %s ended: its container %s was removed", self.kernel_id,
                             self._info.id if self._info else "?")
        elif status not in ("running", ""):
            self.log.warning("Kernel %s ended: its container %s is %s", self.kernel_id,
                             self._info.id if self._info else "?", status)
        elif code not in (0, None):
            self.log.warning("Kernel %s in container %s exited with %s: %s", self.kernel_id,
                             self._info.id if self._info else "?", code,
                             self.output_tail or "(no output)")

    async def _container_status(self, abnormal: bool) -> str:
        """The container's status once the kernel ended ("" unknown). After an abnormal
        end it is asked about again for a moment: a container being removed still runs
        for a while after its processes were killed."""
        if self._info is None or self._manager is None:
            return ""
        status = ""
        for _ in range(GONE_CHECKS):
            try:
                status = (await self._manager.get_container(self._info.id)).status
            except ContainerNotFound:
                self._gone = True
                return "removed"
            except ContainerManagerError:
                return ""
            if status == "running" and not abnormal:
                return status
            await asyncio.sleep(GONE_CHECK_INTERVAL)
        return status

    @property
    def output_tail(self) -> str:
        """The last of what the kernel process wrote outside Jupyter's channels."""
        return self._tail.decode("utf-8", errors="replace").strip()[-1000:]

    @property
    def container_gone(self) -> bool:
        """Whether the kernel ended because its container was removed."""
        return self._gone

    # --- the running kernel ------------------------------------------------------------

    @property
    def has_process(self) -> bool:
        return self._process is not None

    async def poll(self) -> int | None:
        if self._reader is None:
            return 0 if self._process is None else None
        if self._exit_code is None:
            return -1 if self._reader.done() else None
        return self._exit_code

    async def wait(self) -> int | None:
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(self._reader)
        return await self.poll()

    async def send_signal(self, signum: int) -> None:
        if self._process is None or (self._reader is not None and self._reader.done()):
            return
        if signum == 0:
            return
        try:
            await self._process.kill(signal.Signals(signum).name)
        except ContainerManagerError as err:  # the container went away meanwhile
            self.log.debug("Kernel %s: signal %s not sent: %r", self.kernel_id, signum, err)

    async def shutdown_requested(self, restart: bool = False) -> None:
        self._stopping = True

    async def kill(self, restart: bool = False) -> None:
        self._stopping = True
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        self._stopping = True
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        reader, process = self._reader, self._process
        self._reader = self._process = None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if process is not None:
            process.close()
        if restart:
            return
        if self._forward is not None:
            self._forward.close()
            self._forward = None
        manager, info = self._manager, self._info
        if manager is not None and info is not None:
            manager.show_ports(info.id, self._port_owner)
        if manager is not None and info is not None and self._counted:
            self._counted = False
            await standbys_of(manager).kernel_ended(info.id)
        if manager is not None and info is not None and self._made_container \
                and not self.keep_container and not self._gone:
            try:
                await manager.delete_container(info.id)
            except ContainerNotFound:
                pass
            except ContainerManagerError as err:
                self.log.warning("Kernel %s: its container %s was not removed: %s",
                                 self.kernel_id, info.id, err)
        if manager is not None and self._own_manager:
            self._manager = None
            await manager.close()

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return recommended

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return recommended

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info["container_id"] = self._info.id if self._info else self.container_id
        info["made_container"] = self._made_container
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.container_id = provisioner_info.get("container_id") or ""
        self._made_container = bool(provisioner_info.get("made_container"))
