"""The Jupyter server extension: builds the container manager and registers every route."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Type

from .base_handler import LINKS_KEY, MANAGER_KEY, ROOMS_KEY
from .core.preview_grants import derive_key
from .core.preview_links import PreviewLinks
from .gateway.rooms import ContainerRooms
from .gateway.socketio_transport import DEFAULT_MAX_MESSAGE, SocketIOGateway
from .kernels import spec as kernel_spec
from .kernels.container_specs import SETTINGS_KEY as CONTAINER_SPECS_KEY
from .kernels.container_specs import ContainerKernelSpecs
from .kernels.standby import standbys_of
from .kernels.warm import WARM_KERNELS_KEY, WarmKernels, shutdown_container_kernels
from .logs import follow_server_log, leave_server_log
from .manager import ContainerManager
from .proxy.origin import add_preview_origins
from .routes import route_table
from .server_heap import freeze_startup_heap


class ContainerManagerApp(ExtensionApp):
    """Real Docker containers for Jupyter users, with a WebContainer-compatible API."""

    name = "jupyter_container_manager"
    load_other_extensions = True
    classes = [ContainerManager]

    def _config_file_name_default(self) -> str:
        # The file `jupyter container-manager --generate-config` writes (the server also
        # reads jupyter_server_config, where most set c.ContainerManager.*).
        return "jupyter_container_manager_config"

    container_manager_class = Type(
        default_value=ContainerManager,
        klass=ContainerManager,
        config=True,
        help="""The container manager class to use: ContainerManager or a subclass of it
        (e.g. one whose make_backend() runs containers on another engine). Its settings
        stay c.ContainerManager.*.""",
    )

    manager: ContainerManager | None = None
    rooms: ContainerRooms | None = None
    links: PreviewLinks | None = None
    socketio: SocketIOGateway | None = None
    warm_kernels: WarmKernels | None = None
    container_specs: ContainerKernelSpecs | None = None

    def initialize_settings(self) -> None:
        if self.serverapp is not None:
            follow_server_log(self.serverapp.log)  # --log-level applies to our modules too
        manager = self.manager = self.container_manager_class(parent=self, log=self.log)
        base_url = self.serverapp.base_url if self.serverapp is not None else "/"
        secret = getattr(self.serverapp, "cookie_secret", None) or os.urandom(32)
        preview_host = manager.preview_host
        if preview_host == "auto" and os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
            # Behind JupyterHub the browser reaches this server through the hub's proxy,
            # which routes by path: *.localhost names would reach the hub, not us.
            preview_host = "path"
            self.log.info("jupyter-container-manager: under JupyterHub, previews use the path "
                          "proxy; set c.ContainerManager.preview_host to a template for "
                          "origins of their own (docs/previews.md)")
        self.links = PreviewLinks(
            preview_host=preview_host,
            key=derive_key(secret),
            owner=manager.owner,
            base_url=base_url,
            grant_lifetime=manager.preview_grant_lifetime,
            cookie_lifetime=manager.preview_cookie_lifetime,
        )
        self.rooms = ContainerRooms(manager, self.links)
        # The same gateway over Socket.IO, at <base_url>container/socket.io/.
        tornado_settings = self.serverapp.tornado_settings if self.serverapp is not None else {}
        self.socketio = SocketIOGateway(manager, self.rooms, max_message=tornado_settings.get(
            "websocket_max_message_size") or DEFAULT_MAX_MESSAGE)
        # run-code's kernels, one per container, stopped with it (kernels/warm.py)
        self.warm_kernels = WarmKernels(parent=self, log=self.log, container_manager=manager)
        manager.on_container_removed(self.warm_kernels.stop)
        manager.on_container_stopped(self.warm_kernels.stop)
        if manager.kernel_standby_in_pool and manager.warm_pool_size:
            standbys_of(manager).follow_pool()  # pooled containers wait with a standby kernel
        self.settings.update({MANAGER_KEY: manager, ROOMS_KEY: self.rooms,
                              LINKS_KEY: self.links, WARM_KERNELS_KEY: self.warm_kernels})
        specs = getattr(self.serverapp, "kernel_spec_manager", None)
        if specs is not None and kernel_spec.add_to(specs):  # "Python 3 (new container)"
            self.log.debug("jupyter-container-manager: kernel spec %s from the package",
                           kernel_spec.KERNEL_NAME)
        if specs is not None:  # "Python 3 (container <name>)" (kernels/container_specs.py)
            self.container_specs = ContainerKernelSpecs(specs)
            manager.on_container_removed(self.container_specs.remove)
            self.settings[CONTAINER_SPECS_KEY] = self.container_specs
        self.log.info(
            "jupyter-container-manager: owner %r, image %r, engine %s",
            manager.owner,
            manager.image,
            manager.engine_url,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())
        if self.socketio is not None:  # judged at its connect, not per request: see its module
            self.handlers.extend(self.socketio.routes())
        if self.serverapp is not None and self.serverapp.web_app is not None:
            pattern = add_preview_origins(self.serverapp.web_app, self.links)
            if pattern:
                self.log.info("jupyter-container-manager: previews on their own origins (%s)",
                              pattern)

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        if self.manager is not None:
            self.manager.start()
            if self.manager.freeze_startup_heap:  # after every extension has loaded
                freeze_startup_heap(self.log)

    async def stop_extension(self) -> None:
        if self.warm_kernels is not None:
            await self.warm_kernels.close()
            self.warm_kernels = None
        if self.manager is not None:  # their containers go while the manager can remove them
            await shutdown_container_kernels(getattr(self.serverapp, "kernel_manager", None),
                                             self.log)
        if self.container_specs is not None:
            self.container_specs.close()
            self.container_specs = None
        if self.manager is not None:
            await self.manager.apply_shutdown_policy()  # c.ContainerManager.on_shutdown
        if self.socketio is not None:
            await self.socketio.close()
            self.socketio = None
        if self.rooms is not None:
            self.rooms.close()
            self.rooms = None
        if self.manager is not None:
            await self.manager.close()  # its background tasks are cancelled here
            self.manager = None
        leave_server_log()
