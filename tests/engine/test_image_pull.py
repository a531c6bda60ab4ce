"""Pulling an image for a new container, from a real registry on this machine
(tests/support/registry.py: the Registry HTTP API, served slowly enough to watch): every
open ``/container`` socket, joined or not, gets ``image-pull`` progress (layers, bytes)
and then ``done``; the container is created from the pulled image. A pull that fails
answers 503 IMAGE_NOT_FOUND saying why (no such image in the registry; no registry
there), and the sockets get ``failed`` with the same words."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import RUN_ID, remove_run_containers
from tests.support.helpers import assert_error
from tests.support.registry import Registry


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "pull_missing_images": True}


@pytest.fixture
def registry(docker_client):
    with Registry(pause=0.04) as running:
        yield running
    remove_run_containers(docker_client)  # first: an image in use would stay, untagged
    running.remove_pulled_images(docker_client)


async def test_pull_progress_reaches_every_socket_then_the_container_runs(api, ws, registry,
                                                                         docker_client):
    image = registry.add("jcm-test/pulled", f"t{RUN_ID}", filler=4 * 1024**2)
    watcher = await ws()  # not joined to anything: a pull is server-wide news
    created = await api.create(image=image)
    assert created["image"] == image and created["status"] == "running"

    done = await watcher.push("image-pull", lambda d: d["status"] == "done", timeout=10)
    assert done["image"] == image
    assert done["layers"] == {"total": 2, "done": 2}, done
    assert done["bytes"]["current"] == done["bytes"]["total"] > 4 * 1024**2
    pulling = [p for p in watcher.pushes("image-pull") if p["status"] == "pulling"]
    assert pulling, "no progress before the end"
    assert any(p["bytes"]["current"] < done["bytes"]["total"] for p in pulling), pulling
    assert any(path.startswith("GET /v2/jcm-test/pulled/blobs/") for path in registry.requests)

    # The container runs on the pulled image (its `sleep`: the image has no shell); the
    # image is there now: no pull again.
    container = docker_client.containers.get(f"jcm-{created['id']}")
    assert container.status == "running" and image in container.image.tags
    second = await api.create(image=image)
    assert len([p for p in watcher.pushes("image-pull") if p["status"] == "done"]) == 1
    assert second["image"] == image


async def test_a_failed_pull_says_why(api, ws, registry):
    watcher = await ws()
    missing = f"127.0.0.1:{registry.port}/jcm-test/nothing-{uuid.uuid4().hex[:6]}:1"
    answer = await api.post("containers", body={"image": missing})
    assert_error(answer, 503, "IMAGE_NOT_FOUND", "registry has no image")
    failed = await watcher.push("image-pull", lambda d: d["status"] == "failed", timeout=10)
    assert failed["image"] == missing and "registry has no image" in failed["message"]

    unreachable = "127.0.0.1:1/jcm-test/nowhere:1"
    answer = await api.post("containers", body={"image": unreachable})
    assert_error(answer, 503, "IMAGE_NOT_FOUND", "could not reach the registry")


async def test_the_python_client_follows_a_pull(api, registry, jp_http_port, jp_base_url,
                                               jp_serverapp):
    from jupyter_container_manager.client import (
        AsyncContainers,
        ImageNotFound,
        PullProgress,
        ServerInfo,
    )

    server = ServerInfo(f"http://127.0.0.1:{jp_http_port}{jp_base_url}",
                        jp_serverapp.identity_provider.token)
    image = registry.add("jcm-test/client", f"t{RUN_ID}", filler=2 * 1024**2)
    seen: list[PullProgress] = []
    async with AsyncContainers(server=server) as client:
        info = await client.create(image=image, on_pull=seen.append)
        assert info.image == image and info.status == "running"
        assert seen and seen[-1].status == "done" and seen[-1].layers_done == 2, seen
        assert all(p.image == image for p in seen)

        failures: list[PullProgress] = []
        missing = f"127.0.0.1:{registry.port}/jcm-test/absent:1"
        with pytest.raises(ImageNotFound, match="registry has no image"):
            await client.create(image=missing, on_pull=failures.append)
        assert failures[-1].status == "failed" and "registry has no image" in failures[-1].message
