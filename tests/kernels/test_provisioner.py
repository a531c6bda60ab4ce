"""The kernel provisioner on the real engine, outside any server: a kernel in a new
container or an existing one, interrupted, restarted, shut down, and dying with its
container; another owner's container is not found."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
import tomllib
from jupyter_client.manager import AsyncKernelManager

from jupyter_container_manager.core.errors import ContainerNotFound
from jupyter_container_manager.kernels.provisioner import KernelContainerGone
from jupyter_container_manager.kernels.spec import PROVISIONER_NAME, kernel_spec
from jupyter_container_manager.manager import ContainerManager

from .conftest import SPEC

pytestmark = pytest.mark.slow


async def started(kernel_specs, kernel_config, **kw):
    km = AsyncKernelManager(kernel_name=SPEC, kernel_spec_manager=kernel_specs,
                            config=kernel_config)
    await km.start_kernel(**kw)
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return km, client


async def run(client, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    outputs: list[dict] = []
    reply = await client.execute_interactive(code, timeout=timeout,
                                             output_hook=lambda msg: outputs.append(msg))
    return reply["content"], outputs


def stdout_of(outputs: list[dict]) -> str:
    return "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")


async def stop(km, client) -> None:
    client.stop_channels()
    if km.has_kernel:
        await km.shutdown_kernel(now=True)


async def test_a_new_container_per_kernel_removed_at_shutdown(kernel_specs, kernel_config,
                                                              docker_client, owner):
    km, client = await started(kernel_specs, kernel_config)
    try:
        info = km.provisioner.container
        assert info is not None and km.provisioner.made_container
        content, outputs = await run(client, "import os, sys; print(os.getcwd(), sys.executable)")
        assert content["status"] == "ok"
        assert stdout_of(outputs).split() == ["/workspace", "/usr/bin/python3"]
        # The connection is to the container's address; no port is published on the host.
        assert km.ip == info.address
        container = docker_client.containers.get(info.docker_id)
        assert not any(container.attrs["NetworkSettings"]["Ports"].values())
        # The key is in no label, no argv and no env of the container or its processes.
        key = km.session.key.decode()
        assert key not in str(container.attrs["Config"])
        ps = container.exec_run(["sh", "-c", "cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ"],
                                user="root").output.decode(errors="replace")
        assert key not in ps
    finally:
        await stop(km, client)
    gone = docker_client.containers.list(all=True, filters={"id": info.docker_id})
    assert gone == []


async def test_interrupt_a_busy_loop_then_restart(kernel_specs, kernel_config):
    km, client = await started(kernel_specs, kernel_config)
    try:
        container_id = km.provisioner.container.id
        await run(client, "x = 41")
        msg_id = client.execute("while True: pass", stop_on_error=False)
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        await km.interrupt_kernel()
        reply = await client.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 5
        content, outputs = await run(client, "x + 1")  # the same kernel lives on
        results = [m["content"]["data"]["text/plain"] for m in outputs
                   if m["msg_type"] == "execute_result"]
        assert content["status"] == "ok" and results == ["42"]

        await km.restart_kernel(now=False)
        await client.wait_for_ready(timeout=60)
        assert km.provisioner.container.id == container_id  # same container
        content, _ = await run(client, "x")
        assert content["status"] == "error" and content["ename"] == "NameError"
    finally:
        await stop(km, client)


async def test_a_removed_container_ends_its_kernel_with_a_clear_message(
        kernel_specs, kernel_config, caplog):
    km, client = await started(kernel_specs, kernel_config)
    try:
        provisioner = km.provisioner
        manager = provisioner._get_manager()
        await manager.delete_container(provisioner.container.id)
        for _ in range(100):  # it ends at once; why is known a moment later
            if not await km.is_alive() and provisioner.container_gone:
                break
            await asyncio.sleep(0.1)
        assert not await km.is_alive()
        assert provisioner.container_gone
        assert "its container" in caplog.text and "was removed" in caplog.text
        with pytest.raises(KernelContainerGone, match="was removed"):
            await km.restart_kernel(now=True)
    finally:
        client.stop_channels()
        await km.cleanup_resources()


async def test_a_kernel_in_an_existing_container_and_owner_rules(kernel_specs, kernel_config,
                                                                 owner):
    manager = ContainerManager(config=kernel_config)
    try:
        info = await manager.create_container(files={"data.txt": {"file": {"contents": "hi"}}})
        km, client = await started(kernel_specs, kernel_config, container_id=info.id)
        try:
            content, outputs = await run(client, "print(open('data.txt').read())")
            assert stdout_of(outputs).strip() == "hi"
            assert not km.provisioner.made_container
        finally:
            await stop(km, client)
        # Kept: not the kernel's container.
        assert (await manager.get_container(info.id)).status == "running"

        other = kernel_config.copy()
        other.ContainerManager.owner = owner + "-other"
        km = AsyncKernelManager(kernel_name=SPEC, kernel_spec_manager=kernel_specs,
                                config=other)
        with pytest.raises(ContainerNotFound):
            await km.start_kernel(container_id=info.id)
        await km.cleanup_resources()
    finally:
        await manager.close()


def test_the_package_declares_the_provisioner_and_ships_the_spec():
    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    points = project["project"]["entry-points"]["jupyter_client.kernel_provisioners"]
    assert points[PROVISIONER_NAME] == (
        "jupyter_container_manager.kernels.provisioner:ContainerProvisioner")
    shared = project["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["jupyter_container_manager/kernelspecs/python3-new-container"] == (
        "share/jupyter/kernels/python3-new-container")
    spec = kernel_spec()
    assert spec.display_name == "Python 3 (new container)"
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == PROVISIONER_NAME


async def test_a_restart_takes_the_standby_which_ends_with_the_last_kernel(
        kernel_specs, kernel_config, docker_client, caplog, monkeypatch):
    from jupyter_container_manager.kernels import standby

    monkeypatch.setattr(standby, "STANDBY_DELAY", 0.0)
    caplog.set_level(logging.INFO, logger="traitlets")  # the provisioner's log
    manager = ContainerManager(config=kernel_config)
    try:
        info = await manager.create_container()

        def bootstraps() -> int:
            container = docker_client.containers.get(info.docker_id)
            out = container.exec_run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"],
                                     user="root").output.decode(errors="replace")
            return out.count("python3 -c")

        km, client = await started(kernel_specs, kernel_config, container_id=info.id)
        try:
            for _ in range(100):  # the kernel (bootstrap and child) and a standby
                if bootstraps() >= 3:
                    break
                await asyncio.sleep(0.2)
            assert bootstraps() == 3
            await run(client, "x = 1")
            await km.restart_kernel(now=True)
            await client.wait_for_ready(timeout=60)
            assert "(standby)" in caplog.text
            content, _ = await run(client, "x")
            assert content["ename"] == "NameError"  # a fresh kernel all the same
        finally:
            await stop(km, client)
        for _ in range(50):  # no kernel left: no standby either
            if bootstraps() == 0:
                break
            await asyncio.sleep(0.2)
        assert bootstraps() == 0
    finally:
        await manager.delete_container(info.id)
        await manager.close()
