"""The user a container's processes run as: a non-root user where the image
has one, the workdir and mounted files theirs; root where the image has none."""

from __future__ import annotations

import io

import docker.errors
import pytest

from tests.conftest import TEST_IMAGE
from tests.support.webcontainer_support import WebContainer

NODE_USER_IMAGE = "jupyter-container-manager/test-node-user:latest"
DECLARED_USER_IMAGE = "jupyter-container-manager/test-declared-user:latest"
ROOT_ONLY_IMAGE = "jupyter-container-manager/test-root-only:latest"

# Users are written into /etc/passwd and /etc/group by hand: the test image need not have
# useradd. Every derived image starts without a `node` user (the default image has one).
WITHOUT_NODE = "USER root\nRUN sed -i '/^node:/d' /etc/passwd /etc/group\n"


def add_user(name: str, uid: int) -> str:
    return (
        f"RUN echo '{name}:x:{uid}:{uid}::/home/{name}:/bin/sh' >> /etc/passwd"
        f" && echo '{name}:x:{uid}:' >> /etc/group"
        f" && mkdir -p /home/{name} && chown {uid}:{uid} /home/{name}\n"
    )


@pytest.fixture(scope="module")
def user_images(docker_client):
    """Images derived offline from the test image: one with a `node` user (like the
    official Node.js images, no USER), one that declares `USER app`, one with neither."""
    recipes = {
        NODE_USER_IMAGE: f"FROM {TEST_IMAGE}\n{WITHOUT_NODE}{add_user('node', 1000)}",
        DECLARED_USER_IMAGE: f"FROM {TEST_IMAGE}\n{WITHOUT_NODE}{add_user('app', 1001)}USER app\n",
        ROOT_ONLY_IMAGE: f"FROM {TEST_IMAGE}\n{WITHOUT_NODE}",
    }
    for tag, recipe in recipes.items():
        docker_client.images.build(fileobj=io.BytesIO(recipe.encode()), tag=tag, rm=True)
    yield
    for tag in recipes:
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.APIError:
            pass


async def create(api, docker_client, **body) -> WebContainer:
    answer = await api.post("containers", body=body)
    assert answer.status == 201, answer
    info = answer.json()
    return WebContainer(api, docker_client, info["id"], info["workdir"])


async def run(wc: WebContainer, script: str) -> str:
    answer = await wc.spawn("sh", "-c", script)
    assert answer.status == 200, answer
    assert answer.json()["exitCode"] == 0, answer.json()
    return answer.json()["output"].strip()


async def test_the_images_node_user_runs_everything(user_images, api, docker_client):
    files = {"app": {"directory": {"index.js": {"file": {"contents": "1\n"}}}}}
    wc = await create(api, docker_client, image=NODE_USER_IMAGE, files=files)
    assert await run(wc, "id -un; id -u") == "node\n1000"
    # The workdir and the mounted files are theirs, so the user can change them.
    assert await run(wc, "stat -c %U . app app/index.js") == "node\nnode\nnode"
    assert await run(wc, "echo 2 >> app/index.js && mkdir app/sub && cat app/index.js") == "1\n2"
    # Files written through the API are theirs too.
    written = await wc.api.post(
        "webcontainer", wc.id, "fs", "writeFile", body={"path": "new.txt", "contents": "x"}
    )
    assert written.status == 204, written
    assert await run(wc, "stat -c %U new.txt") == "node"
    # And they are not root: the rest of the system is not theirs to change.
    denied = await wc.spawn("sh", "-c", "touch /etc/pwned")
    assert denied.json()["exitCode"] != 0
    mounted = await wc.api.post(
        "webcontainer", wc.id, "mount", body={"tree": {"more": {"file": {"contents": "m"}}}}
    )
    assert mounted.status == 204, mounted
    assert await run(wc, "stat -c %U more") == "node"


async def test_a_declared_user_is_kept(user_images, api, docker_client):
    wc = await create(api, docker_client, image=DECLARED_USER_IMAGE)
    assert await run(wc, "id -un; stat -c %U .") == "app\napp"


async def test_an_image_without_such_user_runs_as_root(user_images, api, docker_client):
    wc = await create(api, docker_client, image=ROOT_ONLY_IMAGE)
    assert await run(wc, "id -u") == "0"


@pytest.fixture
def as_root(manager_config):
    manager_config["user"] = "root"


async def test_the_setting_overrides_the_image(as_root, user_images, api, docker_client):
    wc = await create(api, docker_client, image=NODE_USER_IMAGE)
    assert await run(wc, "id -u") == "0"


async def test_a_workdir_the_image_gives_the_user_is_left_as_it_is(user_images, docker_client,
                                                                  api):
    """An image whose workdir is the user's folder already needs nothing put into its
    containers (no archive at create); one whose workdir is root's gets it made theirs."""
    import time

    owned = "jupyter-container-manager/test-workdir-owned:latest"
    roots = "jupyter-container-manager/test-workdir-roots:latest"
    recipes = {
        owned: f"FROM {NODE_USER_IMAGE}\nRUN mkdir -p /workspace && chown 1000:1000 /workspace\n",
        roots: f"FROM {NODE_USER_IMAGE}\n"
               "RUN mkdir -p /workspace && chown 0:0 /workspace && chmod 700 /workspace\n",
    }
    try:
        for tag, recipe in recipes.items():
            docker_client.images.build(fileobj=io.BytesIO(recipe.encode()), tag=tag, rm=True)
        for tag, archives in ((owned, 0), (roots, 1)):
            since = int(time.time())
            wc = await create(api, docker_client, image=tag)
            assert await run(wc, "id -un; stat -c %U .; pwd") == "node\nnode\n/workspace"
            assert await run(wc, "touch mine && echo ok") == "ok"
            events = docker_client.api.events(
                since=since, until=int(time.time()) + 1, decode=True,
                filters={"container": wc.container.id, "event": "extract-to-dir"})
            assert sum(1 for _ in events) == archives, tag
            await wc.api.delete("containers", wc.id)
    finally:
        for tag in recipes:
            try:
                docker_client.images.remove(tag, force=True)
            except docker.errors.APIError:
                pass
