"""Direct API on the real engine: create, list, get, delete, lifecycle, labels, limits."""

from __future__ import annotations

import docker
import pytest

from jupyter_container_manager.core.models import LABEL_ID, LABEL_NAME, LABEL_OWNER, LABEL_WORKDIR
from tests.support.helpers import assert_error, preview_target

MIB = 1024 * 1024


async def test_create_list_get_delete(api, docker_client, owner, jp_base_url):
    created = await api.create(name="first", env={"GREETING": "hi"}, ports=[3000])
    assert created["status"] == "running"
    assert created["name"] == "first"
    assert created["owner"] == owner
    assert created["workdir"] == "/workspace"
    assert created["limits"] == {"memory": 512 * MIB, "cpu_shares": 512, "pids": 512}
    assert [p["port"] for p in created["ports"]] == [3000]
    assert preview_target(created["ports"][0]["url"]) == (3000, created["id"])

    listed = await api.get("containers")
    assert listed.status == 200
    assert [c["id"] for c in listed.json()] == [created["id"]]

    one = await api.get("containers", created["id"])
    assert one.status == 200 and one.json()["id"] == created["id"]

    container = docker_client.containers.get(f"jcm-{created['id']}")
    assert container.exec_run(["printenv", "GREETING"]).output == b"hi\n"

    gone = await api.delete("containers", created["id"])
    assert gone.status == 204 and gone.body == b""
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container.id)
    assert_error(await api.get("containers", created["id"]), 404)
    assert_error(await api.delete("containers", created["id"]), 404)
    assert (await api.get("containers")).json() == []


async def test_labels_and_limits_on_the_real_container(api, docker_client, owner):
    created = await api.create(name="labelled")
    attrs = docker_client.api.inspect_container(f"jcm-{created['id']}")
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_ID] == created["id"]
    assert labels[LABEL_OWNER] == owner
    assert labels[LABEL_NAME] == "labelled"
    assert labels[LABEL_WORKDIR] == "/workspace"
    host = attrs["HostConfig"]
    assert host["Memory"] == 512 * MIB
    assert host["MemorySwap"] == 512 * MIB  # no extra swap
    assert host["CpuShares"] == 512
    assert host["PidsLimit"] == 512
    assert host["CapDrop"] == ["ALL"]
    assert not host.get("CapAdd")
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Init"] is True
    assert attrs["Config"]["WorkingDir"] == "/workspace"
    assert docker_client.containers.get(attrs["Id"]).exec_run(["test", "-d", "/workspace"]).exit_code == 0
    # The public API never shows Docker's ids.
    assert attrs["Id"] not in (await api.get("containers", created["id"])).text


async def test_files_given_at_create_are_written(api, docker_client):
    created = await api.create(
        files={
            "package.json": {"file": {"contents": '{"name": "demo"}'}},
            "src": {"directory": {"main.js": {"file": {"contents": "console.log('hi $(id)')"}}}},
            "bin.dat": {"file": {"contents": "AAEC/w==", "encoding": "base64"}},
        }
    )
    container = docker_client.containers.get(f"jcm-{created['id']}")
    assert container.exec_run(["cat", "/workspace/src/main.js"]).output == b"console.log('hi $(id)')"
    assert container.exec_run(["cat", "/workspace/package.json"]).output == b'{"name": "demo"}'
    assert container.exec_run(["od", "-An", "-tx1", "/workspace/bin.dat"]).output.split() == [
        b"00", b"01", b"02", b"ff"
    ]


async def test_stop_start_restart(api, docker_client):
    created = await api.create()
    cid = created["id"]
    stopped = await api.post("containers", cid, "stop")
    assert stopped.status == 200 and stopped.json()["status"] == "stopped"
    assert docker_client.containers.get(f"jcm-{cid}").status == "exited"
    assert (await api.get("containers", cid)).json()["status"] == "stopped"

    started = await api.post("containers", cid, "start")
    assert started.status == 200 and started.json()["status"] == "running"
    assert docker_client.containers.get(f"jcm-{cid}").status == "running"

    before = docker_client.api.inspect_container(f"jcm-{cid}")["State"]["StartedAt"]
    restarted = await api.post("containers", cid, "restart")
    assert restarted.status == 200 and restarted.json()["status"] == "running"
    after = docker_client.api.inspect_container(f"jcm-{cid}")["State"]["StartedAt"]
    assert after != before


@pytest.mark.security_case(5)
async def test_foreign_containers_are_invisible(api, docker_client, owner):
    stranger = docker_client.containers.create(
        "jupyter-container-manager/node:24",
        ["sleep", "60"],
        labels={"jupyter-container-manager.test-run": "x", "other": "1"},
    )
    try:
        assert (await api.get("containers")).json() == []
        assert_error(await api.get("containers", stranger.id), 404)
        assert_error(await api.get("containers", stranger.name), 404)
        assert_error(await api.delete("containers", stranger.id), 404)
        assert_error(await api.post("containers", stranger.id, "stop"), 404)
        stranger.reload()  # still there
    finally:
        stranger.remove(force=True)


@pytest.mark.security_case(5)
async def test_a_container_named_like_ours_without_labels_is_invisible(api, docker_client):
    fake_id = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
    impostor = docker_client.containers.create(
        "jupyter-container-manager/node:24", ["sleep", "60"], name=f"jcm-{fake_id}"
    )
    try:
        assert_error(await api.get("containers", fake_id), 404)
        assert_error(await api.delete("containers", fake_id), 404)
        impostor.reload()
    finally:
        impostor.remove(force=True)


@pytest.mark.security_case(30)
@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"name": 5}', "'name' must be a string"),
        (b'{"image": ["x"]}', "'image' must be a string"),
        (b'{"env": ["A=1"]}', "'env' must be an object"),
        (b'{"env": {"A": 1}}', "'env.A' must be a string"),
        (b'{"env": {"1A": "x"}}', "not a valid variable name"),
        (b'{"ports": "3000"}', "'ports' must be an array"),
        (b'{"ports": [0]}', "port number"),
        (b'{"ports": [70000]}', "port number"),
        (b'{"files": []}', "'files' must be an object"),
        (b'{"files": {"a/b": {"file": {"contents": "x"}}}}', "not a file name"),
        (b'{"files": {"a": {"file": {"contents": 5}}}}', "contents must be a string"),
        (b'{"files": {"a": {"nope": {}}}}', "each entry must be"),
    ],
)
async def test_bad_bodies_answer_400_and_create_nothing(api, docker_client, owner, raw, fragment):
    answer = await api.post("containers", raw=raw)
    assert_error(answer, 400, contains=fragment)
    assert (await api.get("containers")).json() == []


async def test_unknown_ids_are_404(api):
    for cid in ("nope", "00000000-0000-4000-8000-000000000000", "jcm-nope"):
        assert_error(await api.get("containers", cid), 404)
        assert_error(await api.post("containers", cid, "start"), 404)


async def test_unknown_image_names_the_image(api):
    answer = await api.post("containers", body={"image": "no-such-image-jcm:never"})
    body = assert_error(answer, 503, code="IMAGE_NOT_FOUND")
    assert "no-such-image-jcm:never" in body["message"]
    assert (await api.get("containers")).json() == []



@pytest.fixture
def small_quota(manager_config):
    manager_config["max_containers_per_user"] = 1


@pytest.mark.security_case(21)
async def test_quota(small_quota, api):
    await api.create()
    assert_error(await api.post("containers", body={}), 429, code="EQUOTA")
