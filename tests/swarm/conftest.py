"""The swarm backend on a real Docker Swarm: the nodes `.ci/swarm.sh up` starts on this
machine (each a dockerd in a network namespace of its own). Every test here is skipped,
with the reason, when `.ci/swarm.sh status` says the swarm is not up.

The servers under test run with ``backend = "swarm"``; the containers they make are
services on the swarm's manager, labelled with this run's id like every test container,
and removed after each test, pass or fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker
import pytest

from tests.conftest import RUN_ID, RUN_LABEL

SWARM_SH = Path(__file__).resolve().parents[2] / ".ci" / "swarm.sh"
SERVICE_PREFIX = "jcm-"


def swarm_status() -> tuple[str, list[str]] | str:
    """``(manager URL, engine URLs)`` of the running swarm, or why there is none."""
    try:
        done = subprocess.run(["bash", str(SWARM_SH), "status"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f".ci/swarm.sh status failed: {err}"
    if done.returncode != 0:
        return (f"the test swarm is not up (`bash .ci/swarm.sh up` starts it): "
                f"{done.stderr.strip() or done.returncode}")
    lines = [line.split() for line in done.stdout.splitlines() if line.strip()]
    manager = next((words[1] for words in lines if words[0] == "manager"), "")
    engines = [words[1] for words in lines if words[0] == "engine"]
    return manager, engines


@pytest.fixture(scope="session")
def swarm():
    """``(manager URL, engine URLs)``; skips when the swarm is down."""
    found = swarm_status()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def swarm_clients(swarm):
    """``(manager client, [node clients])``: docker-py clients of the swarm's engines."""
    manager_url, engine_urls = swarm
    manager = docker.DockerClient(base_url=manager_url, version="auto")
    nodes = [docker.DockerClient(base_url=url, version="auto") for url in engine_urls]
    yield manager, nodes
    remove_run_services(manager)
    for client in (manager, *nodes):
        client.close()


def remove_run_services(manager: docker.DockerClient) -> int:
    found = manager.services.list(filters={"label": f"{RUN_LABEL}={RUN_ID}"})
    for service in found:
        try:
            service.remove()
        except docker.errors.NotFound:
            pass
    return len(found)


def swarm_manager_config(swarm, owner: str) -> dict:
    manager_url, engine_urls = swarm
    return {
        "owner": owner,
        "backend": "swarm",
        "swarm_manager_url": manager_url,
        "swarm_node_engines": engine_urls,
        "image": "jupyter-container-manager/node:24",
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "warm_pool_size": 0,
    }


@pytest.fixture
def manager_config(swarm, owner):
    """The in-process server of these tests runs on the swarm."""
    return swarm_manager_config(swarm, owner)


@pytest.fixture(autouse=True)
def _clean_services(request):
    """Remove this test's services afterwards, pass or fail."""
    yield
    if "swarm_clients" in request.fixturenames:
        remove_run_services(request.getfixturevalue("swarm_clients")[0])


def node_of(swarm_clients, container_id: str) -> int:
    """The index (in the engine list) of the node whose engine runs that container."""
    _, nodes = swarm_clients
    for index, client in enumerate(nodes):
        if client.containers.list(all=True, filters={
                "label": f"jupyter-container-manager.id={container_id}"}):
            return index
    raise AssertionError(f"container {container_id} is on no node")
