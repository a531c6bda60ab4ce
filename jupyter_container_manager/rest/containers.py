"""Direct API (ContainerManagerController): ``/containers`` and one container's lifecycle."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base_handler import ContainerAPIHandler
from ..core.validation import check_body

ID = r"(?P<container_id>[^/]+)"


class ContainersHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        infos = await self.manager.list_containers()
        listening = await self.rooms.listening_ports(infos)
        self.write_json([self.info_json(info, listening[info.id]) for info in infos])

    @web.authenticated
    @authorized
    async def post(self):
        body = check_body(self.json_body(), "CreateContainer")
        info = await self.manager.create_container(
            name=body.get("name"), image=body.get("image"), env=body.get("env"),
            files=body.get("files"), ports=body.get("ports", []),
            snapshot=body.get("snapshot"),
        )
        self.set_header("Location", self.url("containers", info.id))
        self.write_json(self.info_json(info), status=201)


class ContainerHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str):
        info = await self.manager.get_container(container_id)
        listening = await self.rooms.listening_ports([info])
        self.write_json(self.info_json(info, listening[info.id]))

    @web.authenticated
    @authorized
    async def delete(self, container_id: str):
        await self.manager.delete_container(container_id)
        self.set_status(204)
        self.finish()


class ContainerActionHandler(ContainerAPIHandler):
    """``POST /containers/{id}/start|stop|restart``; the action comes from the route."""

    def initialize(self, action: str, **kwargs):
        super().initialize(**kwargs)
        self.action = action

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        manager = self.manager
        act = {"start": manager.start_container, "stop": manager.stop_container,
               "restart": manager.restart_container}
        info = await act[self.action](container_id)
        self.write_json(self.info_json(info))


default_handlers = [
    (r"/containers", ContainersHandler),
    (rf"/containers/{ID}", ContainerHandler),
    (rf"/containers/{ID}/start", ContainerActionHandler, {"action": "start"}),
    (rf"/containers/{ID}/stop", ContainerActionHandler, {"action": "stop"}),
    (rf"/containers/{ID}/restart", ContainerActionHandler, {"action": "restart"}),
]
