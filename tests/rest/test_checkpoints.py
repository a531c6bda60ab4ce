"""Checkpoints of the workdir, file by file, on the real engine through the real server."""

from __future__ import annotations

import pytest

from jupyter_container_manager.manager import ContainerManager
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import assert_error


def sh(docker_client, container_id: str, script: str) -> tuple[int, str]:
    done = docker_client.containers.get(f"jcm-{container_id}").exec_run(["sh", "-c", script])
    return done.exit_code, done.output.decode()


def changes(checkpoint: dict) -> dict[str, str]:
    return {entry["path"]: entry["change"] for entry in checkpoint["files"]}


async def checkpoint(api, container_id: str) -> dict:
    answer = await api.post("containers", container_id, "checkpoints")
    assert answer.status == 201, answer
    return answer.json()


async def test_checkpoints_record_changes_and_restore(api, ws, docker_client):
    container = await api.create()
    cid = container["id"]
    sh(docker_client, cid, "cd /workspace && mkdir -p src node_modules/x && echo one > src/a.js"
                           " && echo bee > b.txt && echo dep > node_modules/x/i.js"
                           " && ln -s src/a.js link && chmod 600 b.txt")
    first = await checkpoint(api, cid)
    assert changes(first) == {"/src/a.js": "add", "/b.txt": "add", "/link": "add"}
    assert first["size"] == len("one\n") + len("bee\n")

    unchanged = await checkpoint(api, cid)
    assert changes(unchanged) == {} and unchanged["size"] == 0

    sh(docker_client, cid, "cd /workspace && echo two >> src/a.js && rm b.txt"
                           " && echo new > c.txt && echo dep2 > node_modules/x/i.js")
    second = await checkpoint(api, cid)
    assert changes(second) == {"/src/a.js": "change", "/b.txt": "unlink", "/c.txt": "add"}

    listed = await api.get("containers", cid, "checkpoints")
    assert listed.status == 200
    assert [c["id"] for c in listed.json()] == [first["id"], unchanged["id"], second["id"]]
    assert listed.json()[2] == second

    client = await ws()
    await client.join(cid)
    sh(docker_client, cid, "echo three > /workspace/src/a.js")
    restored = await api.post("containers", cid, "checkpoints", first["id"], "restore")
    assert restored.status == 200, restored
    kinds = {entry["path"]: entry["kind"] for entry in restored.json()["restored"]}
    assert kinds == {"/src/a.js": "change", "/b.txt": "add", "/c.txt": "unlink"}
    assert sh(docker_client, cid, "cd /workspace && cat src/a.js b.txt && stat -c %a b.txt"
                                  " && test ! -e c.txt && readlink link") == (
        0, "one\nbee\n600\nsrc/a.js\n")
    # Ignored folders are left alone.
    assert sh(docker_client, cid, "cat /workspace/node_modules/x/i.js") == (0, "dep2\n")
    for path, kind in kinds.items():
        assert await client.push("fs-change", lambda d, p=path, k=kind: d == {"path": p,
                                                                          "kind": k})

    # Only the paths named, a folder among them.
    only = await api.post("containers", cid, "checkpoints", second["id"], "restore",
                          body={"paths": ["src"]})
    assert only.json()["restored"] == [{"path": "/src/a.js", "kind": "change"}]
    assert sh(docker_client, cid, "cd /workspace && cat src/a.js b.txt") == (
        0, "one\ntwo\nbee\n")

    # The files owner's: the container's user can go on writing them.
    assert sh(docker_client, cid, "echo more >> /workspace/src/a.js && echo ok") == (0, "ok\n")


async def test_bad_restores(api, docker_client, owner):
    container = await api.create()
    cid = container["id"]
    sh(docker_client, cid, "echo x > /workspace/a && mkdir /workspace/d && echo f > /workspace/d/f")
    first = await checkpoint(api, cid)
    sh(docker_client, cid, "echo y > /workspace/a")
    outside = await api.post("containers", cid, "checkpoints", first["id"], "restore",
                             body={"paths": ["a", "../etc/passwd"]})
    assert_error(outside, 403, "EACCES")
    assert sh(docker_client, cid, "cat /workspace/a") == (0, "y\n")  # nothing restored
    # A folder that leads out of the workdir through a symlink: nothing restored.
    sh(docker_client, cid, "rm -r /workspace/d && ln -s /tmp /workspace/d")
    assert_error(await api.post("containers", cid, "checkpoints", first["id"], "restore"),
                 403, "EACCES")
    assert sh(docker_client, cid, "cat /workspace/a; test -e /tmp/f || echo none") == (
        0, "y\nnone\n")
    # A symlink at a file's own name is replaced, never followed.
    sh(docker_client, cid, "rm /workspace/d && mkdir /workspace/d && echo f > /workspace/d/f"
                           " && rm /workspace/a && ln -s /tmp/victim /workspace/a")
    restored = await api.post("containers", cid, "checkpoints", first["id"], "restore")
    assert restored.status == 200, restored
    assert sh(docker_client, cid, "cat /workspace/a; test -e /tmp/victim || echo none") == (
        0, "x\nnone\n")
    assert_error(await api.post("containers", cid, "checkpoints", "99", "restore"), 404,
                 "ENOCHECKPOINT")
    assert_error(await api.post("containers", cid, "checkpoints", first["id"], "restore",
                                body={"paths": "a"}), 400)
    stranger = ContainerManager(owner=f"{owner}-other", image=TEST_IMAGE,
                                pull_missing_images=False, extra_labels={RUN_LABEL: RUN_ID},
                                warm_pool_size=0)
    try:
        theirs = await stranger.create_container()
        await stranger.checkpoint(theirs.id)
        assert_error(await api.post("containers", theirs.id, "checkpoints"), 404)
        assert_error(await api.get("containers", theirs.id, "checkpoints"), 404)
        assert_error(await api.post("containers", theirs.id, "checkpoints", "1", "restore"), 404)
    finally:
        await stranger.close()


@pytest.fixture
def few_checkpoints(manager_config):
    manager_config["max_checkpoints_per_container"] = 2
    manager_config["max_checkpoint_size"] = 1000


async def test_bounds(few_checkpoints, api, docker_client):
    cid = (await api.create())["id"]
    sh(docker_client, cid, "cd /workspace && echo a1 > a && echo b1 > b")
    first = await checkpoint(api, cid)
    sh(docker_client, cid, "echo a2 > /workspace/a")
    await checkpoint(api, cid)
    sh(docker_client, cid, "echo a3 > /workspace/a")
    await checkpoint(api, cid)
    listed = (await api.get("containers", cid, "checkpoints")).json()
    assert len(listed) == 2 and first["id"] not in [c["id"] for c in listed]
    # The folded checkpoint's files live on in the next: b is still restorable.
    sh(docker_client, cid, "rm /workspace/b")
    await api.post("containers", cid, "checkpoints", listed[0]["id"], "restore")
    assert sh(docker_client, cid, "cat /workspace/a /workspace/b") == (0, "a2\nb1\n")

    sh(docker_client, cid, "head -c 2000 /dev/zero > /workspace/big")
    assert_error(await api.post("containers", cid, "checkpoints"), 429, "EQUOTA")
    after = (await api.get("containers", cid, "checkpoints")).json()
    assert [c["id"] for c in after] == [c["id"] for c in listed]  # nothing folded either


async def test_stopped_container_is_409(api):
    cid = (await api.create())["id"]
    await api.post("containers", cid, "stop")
    assert_error(await api.post("containers", cid, "checkpoints"), 409)


async def test_checkpoints_outlive_the_agent_and_a_restart(api, docker_client):
    """After a restart (a new agent, no watch yet) changes made meanwhile are found by a
    full look, against the workdir the records say the last checkpoint saw."""
    cid = (await api.create())["id"]
    sh(docker_client, cid,
       "mkdir -p /workspace/d && echo 1 > /workspace/d/a && echo 1 > /workspace/b")
    first = await checkpoint(api, cid)
    assert (await api.post("containers", cid, "restart")).status == 200
    sh(docker_client, cid, "echo 2 > /workspace/d/a && rm /workspace/b")
    second = await checkpoint(api, cid)
    assert changes(second) == {"/d/a": "change", "/b": "unlink"}
    # And with the watch running now: a folder removed, a folder made.
    sh(docker_client, cid,
       "rm -r /workspace/d && mkdir -p /workspace/e/f && echo 3 > /workspace/e/f/g")
    third = await checkpoint(api, cid)
    assert changes(third) == {"/d/a": "unlink", "/e/f/g": "add"}
    sh(docker_client, cid, "echo 4 >> /workspace/e/f/g && mv /workspace/e /workspace/h")
    fourth = await checkpoint(api, cid)
    assert changes(fourth) == {"/e/f/g": "unlink", "/h/f/g": "add"}
    listed = (await api.get("containers", cid, "checkpoints")).json()
    assert [c["id"] for c in listed] == [first["id"], second["id"], third["id"], fourth["id"]]
    restored = await api.post("containers", cid, "checkpoints", first["id"], "restore")
    assert {e["path"]: e["kind"] for e in restored.json()["restored"]} == {
        "/d/a": "add", "/b": "add", "/h/f/g": "unlink"}
    assert sh(docker_client, cid, "cat /workspace/d/a /workspace/b") == (0, "1\n1\n")
