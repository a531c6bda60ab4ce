"""Files inside a container: bytes move through the Docker archive API or exec stdin and
stdout, never through a shell line."""

from __future__ import annotations

import docker.errors

from ..errors import FileSystemError
from ..fstree import Tree, tree_to_tar
from ..models import ContainerInfo
from .engine import DockerEngine


class ContainerFiles:
    def __init__(self, engine: DockerEngine):
        self.engine = engine

    async def mount(self, info: ContainerInfo, tree: Tree, relative_dir: str = "") -> None:
        """Write a FileSystemTree into ``<workdir>/<relative_dir>`` (folders made as
        needed, existing files replaced) with one archive upload."""
        archive = tree_to_tar(tree, prefix=relative_dir)

        def put(client):
            try:
                return client.api.put_archive(info.docker_id, info.workdir, archive)
            except docker.errors.NotFound as err:
                raise FileSystemError("ENOENT", "mount", info.workdir) from err

        await self.engine.run(put)
