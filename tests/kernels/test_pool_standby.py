"""Warm-pool containers wait with a standby kernel bootstrap (kernels/standby.py
``follow_pool``): a "Python 3 (new container)" kernel takes the pooled container and its
standby; a container handed out for anything else has the standby killed as the create
answers."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance
from traitlets.config import LoggingConfigurable

from jupyter_container_manager.kernels.provisioner import ContainerProvisioner
from jupyter_container_manager.kernels.spec import kernel_spec
from jupyter_container_manager.kernels.standby import standbys_of
from jupyter_container_manager.manager import ContainerManager

pytestmark = pytest.mark.slow


class Holder(LoggingConfigurable):
    """What a server is to its kernels: the owner of the shared ContainerManager."""

    container_manager = Instance(ContainerManager)


def bootstraps(docker_client, docker_id: str) -> int:
    container = docker_client.containers.get(docker_id)
    out = container.exec_run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"],
                             user="root").output.decode(errors="replace")
    return out.count("python3 -c")


async def a_pooled_standby(standbys) -> str:
    for _ in range(300):
        if standbys.waiting:
            return next(iter(standbys.waiting))
        await asyncio.sleep(0.1)
    pytest.fail("no warm-pool container got a standby")


async def test_pooled_containers_wait_with_a_standby(kernel_config, docker_client, caplog):
    caplog.set_level(logging.INFO)
    kernel_config.ContainerManager.warm_pool_size = 1
    manager = ContainerManager(config=kernel_config)
    standbys = standbys_of(manager)
    standbys.follow_pool()
    manager.start()
    made = []
    try:
        # Handed out for other uses: no interpreter of ours is left in it.
        pooled = await a_pooled_standby(standbys)
        info = await manager.create_container()
        made.append(info.id)
        assert info.id == pooled and pooled not in standbys.waiting
        for _ in range(50):  # killed as the create answers; gone from /proc once reaped
            if bootstraps(docker_client, info.docker_id) == 0:
                break
            await asyncio.sleep(0.1)
        assert bootstraps(docker_client, info.docker_id) == 0

        # The spec's kernel takes the refilled pooled container and its standby.
        pooled = await a_pooled_standby(standbys)
        km = AsyncKernelManager(parent=Holder(container_manager=manager),
                                kernel_id=str(uuid.uuid4()))
        km._kernel_spec = kernel_spec()
        km.provisioner = ContainerProvisioner(kernel_id=km.kernel_id,
                                              kernel_spec=km._kernel_spec, parent=km)
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            assert km.provisioner.container.id == pooled and km.provisioner.made_container
            assert "(standby)" in caplog.text
            reply = await client.execute_interactive("1 + 1", timeout=30)
            assert reply["content"]["status"] == "ok"
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)
        assert docker_client.containers.list(all=True, filters={
            "id": km.provisioner.container.docker_id}) == []
    finally:
        for container_id in made:
            await manager.delete_container(container_id)
        await manager.close()
