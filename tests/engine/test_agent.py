"""The resident agent: file operations and spawns run without a docker exec
each, give the same answers, survive the agent being killed, and fall back to docker exec
in an image without node."""

from __future__ import annotations

import io
import time

import docker.errors
import pytest

from tests.conftest import TEST_IMAGE
from tests.support.helpers import assert_error
from tests.support.webcontainer_support import WebContainer, boot

NO_NODE_IMAGE = "jupyter-container-manager/test-no-node:latest"


def execs_during(docker_client, wc: WebContainer, since: float) -> int:
    """The docker execs created in the container from ``since`` until now (engine events)."""
    events = docker_client.api.events(
        since=int(since), until=int(time.time()) + 1, decode=True,
        filters={"container": wc.container.id, "event": "exec_create"},
    )
    return sum(1 for event in events if event.get("time", 0) >= int(since))


async def some_operations(wc: WebContainer) -> None:
    api, fs = wc.api, ("webcontainer", wc.id, "fs")
    for index in range(5):
        name = f"f{index}.txt"
        answer = await api.post(*fs, "writeFile", body={"path": name, "contents": name})
        assert answer.status == 204, answer
        assert (await api.get(*fs, "readFile", name)).body == name.encode()
        spawned = (await wc.spawn("sh", "-c", "echo out; echo err >&2; exit 3")).json()
        assert spawned["exitCode"] == 3
        assert sorted(spawned["output"].split()) == ["err", "out"]
    assert sorted((await wc.readdir()).json()) == [f"f{i}.txt" for i in range(5)]
    assert_error(await api.get(*fs, "readFile", "missing"), 404, code="ENOENT")
    assert_error(await api.get(*fs, "readFile", "../../etc/passwd"), 403, code="EACCES")


async def test_operations_go_through_the_agent(api, docker_client):
    wc = await boot(api, docker_client)
    assert (await wc.readdir()).json() == []  # starts the agent
    time.sleep(1.1)  # events have whole seconds
    since = time.time()
    await some_operations(wc)
    # 17 operations in the container: no docker exec for any of them.
    assert execs_during(docker_client, wc, since) == 0


async def test_a_killed_agent_is_started_again(api, docker_client):
    wc = await boot(api, docker_client)
    assert (await wc.spawn("true")).json()["exitCode"] == 0
    # By its command line: Node 24 names its main thread "MainThread", so `pkill -x node`
    # finds nothing.
    code, out = wc.container.exec_run(
        ["sh", "-c", "pkill -f '[j]upyter-container-manager agent'; echo $?"]
    )
    assert out.strip() == b"0"
    await some_operations(wc)


@pytest.fixture(scope="module")
def no_node_image(docker_client):
    recipe = f"FROM {TEST_IMAGE}\nRUN rm -f /usr/local/bin/node /usr/bin/node /usr/bin/nodejs\n"
    docker_client.images.build(fileobj=io.BytesIO(recipe.encode()), tag=NO_NODE_IMAGE, rm=True)
    yield NO_NODE_IMAGE
    try:
        docker_client.images.remove(NO_NODE_IMAGE, force=True)
    except docker.errors.APIError:
        pass


async def test_an_image_without_node_falls_back_to_docker_exec(no_node_image, api, docker_client):
    info = await api.create(image=no_node_image)
    wc = WebContainer(api, docker_client, info["id"], info["workdir"])
    since = time.time() - 1
    await some_operations(wc)
    # One exec per operation (the path that escapes is refused before any).
    assert execs_during(docker_client, wc, since) >= 17


@pytest.fixture
def without_agent(manager_config):
    manager_config["agent"] = False


async def test_the_agent_can_be_turned_off(without_agent, api, docker_client):
    wc = await boot(api, docker_client)
    since = time.time() - 1
    await some_operations(wc)
    assert execs_during(docker_client, wc, since) >= 17
