"""Snapshots and forks on the real engine, through the real Jupyter server."""

from __future__ import annotations

import docker
import pytest

from jupyter_container_manager.core.errors import (
    ContainerNotFound,
    ImageNotAllowed,
    SnapshotNotFound,
)
from jupyter_container_manager.core.models import LABEL_OWNER
from jupyter_container_manager.core.snapshots import LABEL_SNAPSHOT, snapshot_tag
from jupyter_container_manager.manager import ContainerManager
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import assert_error

PACKAGE = "/home/node/.npm-global/lib/node_modules/left-pad/index.js"


def sh(docker_client, container_id: str, script: str, user: str = "") -> tuple[int, str]:
    done = docker_client.containers.get(f"jcm-{container_id}").exec_run(
        ["sh", "-c", script], user=user)
    return done.exit_code, done.output.decode()


def prepared(docker_client, container_id: str) -> None:
    """A workdir file, an 'installed package' outside it, and a live process."""
    code, out = sh(docker_client, container_id,
                   "echo 'console.log(1)' > /workspace/app.js && mkdir -p "
                   f"$(dirname {PACKAGE}) && echo 'module.exports = 1' > {PACKAGE}")
    assert code == 0, out
    docker_client.containers.get(f"jcm-{container_id}").exec_run(
        ["sh", "-c", "exec sleep 4321"], detach=True)


def other_manager(owner: str) -> ContainerManager:
    return ContainerManager(owner=owner, image=TEST_IMAGE, pull_missing_images=False,
                            extra_labels={RUN_LABEL: RUN_ID}, warm_pool_size=0)


async def test_snapshot_start_list_and_labels(api, docker_client, owner):
    source = await api.create(name="source", env={"GREETING": "hi"})
    prepared(docker_client, source["id"])

    made = await api.post("containers", source["id"], "snapshots", body={"name": "ready"})
    assert made.status == 201, made
    snapshot = made.json()
    assert set(snapshot) == {"id", "container", "name", "created", "size"}
    assert snapshot["container"] == source["id"] and snapshot["name"] == "ready"
    assert snapshot["size"] > 0
    assert made.headers["Location"].endswith(f"/containers/snapshots/{snapshot['id']}")

    image = docker_client.images.get(snapshot_tag(snapshot["id"]))
    assert image.labels[LABEL_OWNER] == owner and image.labels[LABEL_SNAPSHOT] == snapshot["id"]
    listed = await api.get("containers", "snapshots")
    assert listed.status == 200 and listed.json() == [snapshot]

    copy = await api.create(snapshot=snapshot["id"], name="copy")
    assert copy["id"] != source["id"] and copy["name"] == "copy"
    assert copy["status"] == "running" and copy["workdir"] == "/workspace"
    assert copy["limits"] == source["limits"]
    assert sh(docker_client, copy["id"], "cat /workspace/app.js") == (0, "console.log(1)\n")
    assert sh(docker_client, copy["id"], f"cat {PACKAGE}") == (0, "module.exports = 1\n")
    assert sh(docker_client, copy["id"], "printenv GREETING") == (0, "hi\n")
    code, processes = sh(docker_client, copy["id"], "ps -eo args")
    assert "sleep 4321" not in processes, processes
    # Its user owns the workdir as in the original.
    assert sh(docker_client, copy["id"], "id -u; touch /workspace/new && echo ok") == (
        0, "1000\nok\n")
    # The copy is a container of its own: listed, and the original untouched.
    ids = {c["id"] for c in (await api.get("containers")).json()}
    assert ids == {source["id"], copy["id"]}
    assert sh(docker_client, source["id"], "test -e /workspace/new")[0] == 1

    # Labels are the only state: another manager of the owner (a restarted server)
    # lists the same snapshot.
    restarted = other_manager(owner)
    try:
        assert [s.to_json() for s in await restarted.list_snapshots()] == [snapshot]
    finally:
        await restarted.close()
    # A snapshot of a copy keeps the image its chain began with; allowed_images judges
    # a start by it.
    again = (await api.post("containers", copy["id"], "snapshots")).json()
    stricter = other_manager(owner)
    stricter.allowed_images = ["some-other/*"]
    try:
        for snapshot_id in (snapshot["id"], again["id"]):
            with pytest.raises(ImageNotAllowed) as refused:
                await stricter.create_container(snapshot=snapshot_id)
            assert refused.value.image == TEST_IMAGE
    finally:
        await stricter.close()


async def test_delete_a_snapshot_its_containers_stay(api, docker_client, owner):
    source = await api.create()
    snapshot = (await api.post("containers", source["id"], "snapshots")).json()
    copy = await api.create(snapshot=snapshot["id"])
    gone = await api.delete("containers", "snapshots", snapshot["id"])
    assert gone.status == 204
    assert (await api.get("containers", "snapshots")).json() == []
    assert_error(await api.get("containers", "snapshots", snapshot["id"]), 410, "ESNAPSHOT_GONE")
    assert_error(await api.post("containers", body={"snapshot": snapshot["id"]}), 410)
    assert (await api.get("containers", copy["id"])).json()["status"] == "running"
    assert sh(docker_client, copy["id"], "echo alive") == (0, "alive\n")
    # Once the copy is gone the image goes at the next sweep (a server start).
    image_id = docker_client.api.inspect_container(f"jcm-{copy['id']}")["Image"]
    assert (await api.delete("containers", copy["id"])).status == 204
    assert docker_client.images.get(image_id)
    restarted = other_manager(owner)
    try:
        assert await restarted._snapshots.sweep() == 1
    finally:
        await restarted.close()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_id)


async def test_other_owners_snapshots_and_containers_are_not_found(api, docker_client, owner):
    mine = await api.create()
    stranger = other_manager(f"{owner}-other")
    try:
        theirs = await stranger.create_container()
        their_snapshot = await stranger.take_snapshot(theirs.id)
        with pytest.raises(ContainerNotFound):
            await stranger.take_snapshot(mine["id"])
        with pytest.raises(SnapshotNotFound):
            await stranger.get_snapshot("not-a-snapshot")
        for answer in (
            await api.post("containers", theirs.id, "snapshots"),
            await api.get("containers", "snapshots", their_snapshot.id),
            await api.delete("containers", "snapshots", their_snapshot.id),
            await api.post("containers", body={"snapshot": their_snapshot.id}),
            await api.post("containers", theirs.id, "fork", body={"count": 1}),
        ):
            assert_error(answer, 404)
        assert (await api.get("containers", "snapshots")).json() == []
        assert docker_client.images.get(snapshot_tag(their_snapshot.id))  # untouched
    finally:
        await stranger.close()


async def test_image_removed_behind_our_back(api, docker_client):
    source = await api.create()
    snapshot = (await api.post("containers", source["id"], "snapshots")).json()
    docker_client.images.remove(snapshot_tag(snapshot["id"]), force=True)
    assert_error(await api.get("containers", "snapshots", snapshot["id"]), 404, "ENOSNAPSHOT")
    assert_error(await api.post("containers", body={"snapshot": snapshot["id"]}), 404)
    assert_error(await api.delete("containers", "snapshots", snapshot["id"]), 404)
    assert (await api.get("containers", "snapshots")).json() == []

    # Untagged while a container uses it: the image lingers, the snapshot is gone.
    used = (await api.post("containers", source["id"], "snapshots")).json()
    await api.create(snapshot=used["id"])
    docker_client.images.remove(snapshot_tag(used["id"]), force=True)
    assert_error(await api.post("containers", body={"snapshot": used["id"]}), 410)
    assert_error(await api.post("containers", body={"snapshot": "bogus"}), 404)
    assert_error(await api.post("containers", body={"snapshot": used["id"],
                                                    "image": TEST_IMAGE}), 400)


@pytest.fixture
def two_snapshots(manager_config):
    manager_config["max_snapshots_per_user"] = 1
    manager_config["max_containers_per_user"] = 3


async def test_quotas(two_snapshots, api, docker_client, owner):
    source = await api.create()
    first = await api.post("containers", source["id"], "snapshots")
    assert first.status == 201
    assert_error(await api.post("containers", source["id"], "snapshots"), 429, "EQUOTA")

    before = {i.id for i in docker_client.images.list(filters={"label": f"{LABEL_OWNER}={owner}"})}
    assert_error(await api.post("containers", source["id"], "fork", body={"count": 3}), 429,
                 "EQUOTA")
    after = {i.id for i in docker_client.images.list(filters={"label": f"{LABEL_OWNER}={owner}"})}
    assert after == before  # no snapshot was even taken
    assert len((await api.get("containers")).json()) == 1
    assert_error(await api.post("containers", source["id"], "fork", body={"count": 0}), 400)


@pytest.fixture
def small_snapshots(manager_config):
    manager_config["max_snapshot_size"] = 1024 * 1024


async def test_size_bound(small_snapshots, api, docker_client, owner):
    source = await api.create()
    sh(docker_client, source["id"], "head -c 3000000 /dev/urandom > /workspace/big")
    assert_error(await api.post("containers", source["id"], "snapshots"), 413)
    assert (await api.get("containers", "snapshots")).json() == []
    left = docker_client.images.list(filters={"label": f"{LABEL_OWNER}={owner}"})
    assert [i for i in left if i.tags] == []


async def test_fork(api, docker_client):
    source = await api.create(name="orig")
    prepared(docker_client, source["id"])
    forked = await api.post("containers", source["id"], "fork", body={"count": 2})
    assert forked.status == 201, forked
    copies = forked.json()["containers"]
    assert len(copies) == 2
    assert len({c["id"] for c in copies} | {source["id"]}) == 3
    assert sorted(c["name"] for c in copies) == ["orig-fork-1", "orig-fork-2"]
    for copy in copies:
        assert copy["status"] == "running"
        assert sh(docker_client, copy["id"], "cat /workspace/app.js") == (0, "console.log(1)\n")
        assert "sleep 4321" not in sh(docker_client, copy["id"], "ps -eo args")[1]
    # Copies are independent of each other.
    sh(docker_client, copies[0]["id"], "echo changed > /workspace/app.js")
    assert sh(docker_client, copies[1]["id"], "cat /workspace/app.js")[1] == "console.log(1)\n"
    # A fork's snapshot is not the owner's to list.
    assert (await api.get("containers", "snapshots")).json() == []


@pytest.fixture
def loop_disk(manager_config):
    manager_config["disk_limit"] = "64m"


async def test_a_workdir_on_its_own_disk_is_in_the_snapshot(loop_disk, api, docker_client):
    source = await api.create()
    attrs = docker_client.api.inspect_container(f"jcm-{source['id']}")
    if not any(m.get("Destination") == "/workspace" for m in attrs.get("Mounts") or []):
        pytest.skip("the engine bounds the writable layer itself: no workdir volume")
    prepared(docker_client, source["id"])
    sh(docker_client, source["id"], "mkdir -p /workspace/src && echo deep > /workspace/src/x")
    snapshot = (await api.post("containers", source["id"], "snapshots")).json()
    copy = await api.create(snapshot=snapshot["id"])
    assert sh(docker_client, copy["id"], "cat /workspace/app.js /workspace/src/x") == (
        0, "console.log(1)\ndeep\n")
    assert sh(docker_client, copy["id"], f"cat {PACKAGE}") == (0, "module.exports = 1\n")
    assert sh(docker_client, copy["id"], "touch /workspace/mine && echo ok") == (0, "ok\n")
    # Its workdir is its own disk, bounded like any other; the image's copy was emptied.
    copy_attrs = docker_client.api.inspect_container(f"jcm-{copy['id']}")
    assert any(m.get("Destination") == "/workspace" for m in copy_attrs["Mounts"])
    assert sh(docker_client, copy["id"], "ls -A /.jcm-snapshot-workdir") == (0, "")
    # A snapshot of the copy, and a copy of that.
    sh(docker_client, copy["id"], "echo second > /workspace/src/x")
    again = (await api.post("containers", copy["id"], "snapshots")).json()
    third = await api.create(snapshot=again["id"])
    assert sh(docker_client, third["id"], "cat /workspace/src/x; ls /workspace") == (
        0, "second\napp.js\nmine\nsrc\n")
