"""Shared fixtures: a real Jupyter server with the extension, on the real Docker engine.

Every container a test run creates carries the label ``jupyter-container-manager.test-run``
with this run's id; each test removes the containers it made (by that label), also when it
fails, and the run removes any left at the end.
"""

from __future__ import annotations

import os
import uuid

import docker
import pytest

from jupyter_container_manager.engine.disk import remove_disks
from tests.support.helpers import Api

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# A frame the server sends that breaks the protocol table raises (servers started by the
# tests in their own process inherit this too), and fails the test it happens in.
os.environ.setdefault("JCM_STRICT_PROTOCOL", "1")

RUN_LABEL = "jupyter-container-manager.test-run"
RUN_ID = uuid.uuid4().hex[:12]
TEST_IMAGE = os.environ.get("JCM_TEST_IMAGE", "jupyter-container-manager/node:24")


def remove_run_containers(client: docker.DockerClient, run_id: str = RUN_ID) -> int:
    found = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
    for container in found:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    # Their disks (disk_limit), labelled with the run like them.
    remove_disks(client, {"label": f"{RUN_LABEL}={run_id}"})
    # Snapshot images (a commit keeps its container's labels, the run's among them).
    for image in client.api.images(filters={"label": f"{RUN_LABEL}={run_id}"}):
        try:
            client.api.remove_image(image["Id"], force=True)
        except docker.errors.APIError:
            pass
    return len(found)


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env()
    try:
        client.ping()
    except Exception as err:  # noqa: BLE001
        pytest.exit(f"No Docker engine answers ({err}); run `bash .ci/setup` first", 2)
    try:
        client.images.get(TEST_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.exit(f"Test image {TEST_IMAGE} is missing; run `bash .ci/image.sh`", 2)
    yield client
    remove_run_containers(client)
    client.close()


@pytest.fixture
def owner():
    """A fresh owner label per test: tests never see each other's containers."""
    return f"test-{RUN_ID}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def manager_config(owner):
    """``c.ContainerManager`` for the test server; tests may change it before the server starts."""
    return {
        "owner": owner,
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "warm_pool_size": 0,  # tests/engine/test_warm_pool.py turns it on
    }


@pytest.fixture
def jp_server_config(manager_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_container_manager": True},
            "allow_unauthenticated_access": False,
        },
        "ContainerManager": manager_config,
    }


@pytest.fixture(autouse=True)
def _clean_containers(request):
    """Remove this test's containers afterwards, pass or fail."""
    yield
    if "docker_client" in request.fixturenames or "api" in request.fixturenames:
        client = request.getfixturevalue("docker_client")
        remove_run_containers(client)


@pytest.fixture
def api(jp_fetch, docker_client):
    return Api(jp_fetch)


@pytest.fixture(scope="session")
def server_process(docker_client, tmp_path_factory):
    """A real ``jupyter server`` subprocess with the extension, for the sync client, widgets
    and notebook kernels (a blocking client must not share the test's event loop with the
    server it calls). Its containers carry this run's label, so they are cleaned too."""
    from tests.support.servers import ServerProcess

    server = ServerProcess(
        {
            "owner": f"test-{RUN_ID}-process",
            "image": TEST_IMAGE,
            "pull_missing_images": False,
            "extra_labels": {RUN_LABEL: RUN_ID},
        },
        base=tmp_path_factory.mktemp("jupyter-server"),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ws(jp_ws_fetch, api):
    """``await ws()``: a new ``/container`` socket (tests/support/gateway_client.py), closed after
    the test."""
    from tests.support.gateway_client import GatewayClient

    clients = []

    async def connect():
        client = await GatewayClient.connect(jp_ws_fetch)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def containers(server_process):
    """The sync client (Direct API and boot) over the subprocess server."""
    from jupyter_container_manager.client import Containers

    client = Containers(server_process.url, server_process.token)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def frames_out_keep_the_protocol():
    """Every frame the in-process server sent during the test passed the protocol table."""
    from jupyter_container_manager.gateway import protocol

    protocol.VIOLATIONS.clear()
    yield
    assert not protocol.VIOLATIONS, list(protocol.VIOLATIONS)
