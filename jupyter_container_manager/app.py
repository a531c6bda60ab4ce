"""The Jupyter server extension: owns the Docker service and registers every route."""

from __future__ import annotations

import functools

from jupyter_server.extension.application import ExtensionApp

from .config import ContainerManager
from .docker import DockerService
from .handlers import route_table
from .handlers.base import ROOMS_KEY, SERVICE_KEY, preview_url
from .rooms import ContainerRooms


class ContainerManagerApp(ExtensionApp):
    """Real Docker containers for Jupyter users, with a WebContainer-compatible API."""

    name = "jupyter_container_manager"
    load_other_extensions = True
    classes = [ContainerManager]

    service: DockerService | None = None
    rooms: ContainerRooms | None = None

    def initialize_settings(self) -> None:
        settings = ContainerManager(parent=self, config=self.config)
        self.service = DockerService(settings, log=self.log)
        base_url = self.serverapp.base_url if self.serverapp is not None else "/"
        self.rooms = ContainerRooms(self.service, functools.partial(preview_url, base_url))
        self.settings.update({SERVICE_KEY: self.service, ROOMS_KEY: self.rooms})
        self.log.info(
            "jupyter-container-manager: owner %r, image %r, engine %s",
            settings.owner,
            settings.image,
            self.service.engine.url,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        if self.service is not None:
            self.service.start_background_tasks()

    async def stop_extension(self) -> None:
        if self.service is not None:
            await self.service.apply_shutdown_policy()  # c.ContainerManager.on_shutdown
        if self.rooms is not None:
            self.rooms.close()
            self.rooms = None
        if self.service is not None:
            await self.service.close()
            self.service = None
