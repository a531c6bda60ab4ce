"""Snapshots, forks and checkpoints: ``/containers/snapshots``, ``/containers/{id}/snapshots``,
``/containers/{id}/fork``, ``/containers/{id}/checkpoints``. Thin handlers over the
manager (engine/snapshots.py and engine/checkpoints.py say how)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base_handler import ContainerAPIHandler
from ..core.validation import check_body

ID = r"(?P<container_id>[^/]+)"
SNAPSHOT_ID = r"(?P<snapshot_id>[^/]+)"
CHECKPOINT_ID = r"(?P<checkpoint_id>[^/]+)"


class SnapshotsHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        snapshots = await self.manager.list_snapshots()
        self.write_json([snapshot.to_json() for snapshot in snapshots])


class SnapshotHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, snapshot_id: str):
        self.write_json((await self.manager.get_snapshot(snapshot_id)).to_json())

    @web.authenticated
    @authorized
    async def delete(self, snapshot_id: str):
        await self.manager.delete_snapshot(snapshot_id)
        self.set_status(204)
        self.finish()


class ContainerSnapshotsHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "CreateSnapshot")
        snapshot = await self.manager.take_snapshot(container_id, body.get("name"))
        self.set_header("Location", self.url("containers", "snapshots", snapshot.id))
        self.write_json(snapshot.to_json(), status=201)


class ForkHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "ForkRequest")
        copies = await self.manager.fork_container(container_id, body.get("count", 1))
        self.write_json({"containers": [self.info_json(info) for info in copies]}, status=201)


class CheckpointsHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, container_id: str):
        self.write_json(await self.manager.list_checkpoints(container_id))

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        check_body(self.json_body(), "CreateCheckpoint")
        self.write_json(await self.manager.checkpoint(container_id), status=201)


class RestoreHandler(ContainerAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, container_id: str, checkpoint_id: str):
        body = check_body(self.json_body(), "RestoreRequest")
        restored = await self.manager.restore_checkpoint(container_id, checkpoint_id,
                                                         body.get("paths"))
        self.rooms.files_changed(container_id, restored)
        self.write_json({"restored": restored})


# Before rest/containers.py's routes: /containers/snapshots is no container id.
default_handlers = [
    (r"/containers/snapshots", SnapshotsHandler),
    (rf"/containers/snapshots/{SNAPSHOT_ID}", SnapshotHandler),
    (rf"/containers/{ID}/snapshots", ContainerSnapshotsHandler),
    (rf"/containers/{ID}/fork", ForkHandler),
    (rf"/containers/{ID}/checkpoints", CheckpointsHandler),
    (rf"/containers/{ID}/checkpoints/{CHECKPOINT_ID}/restore", RestoreHandler),
]
