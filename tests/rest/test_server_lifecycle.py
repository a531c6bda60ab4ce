"""State lives in Docker: a restarted server re-adopts its containers; owners are apart;
an unreachable engine answers 503 with a hint."""

from __future__ import annotations

import pytest

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess


def config(owner: str, **extra) -> dict:
    return {"owner": owner, "image": TEST_IMAGE, "pull_missing_images": False,
            "extra_labels": {RUN_LABEL: RUN_ID}, **extra}


@pytest.fixture
def server(owner, docker_client):
    with ServerProcess(config(owner)) as running:
        yield running


@pytest.mark.security_case(27)
def test_a_restarted_server_readopts_its_containers(server, docker_client):
    created = server.request("POST", "containers", json={"name": "survivor",
                             "files": {"a.txt": {"file": {"contents": "kept"}}}})
    assert created.status_code == 201, created.text
    info = created.json()
    server.restart()
    listed = server.request("GET", "containers")
    assert listed.status_code == 200
    assert [(c["id"], c["name"], c["status"]) for c in listed.json()] == [
        (info["id"], "survivor", "running")
    ]
    again = server.request("GET", f"containers/{info['id']}").json()
    assert again["created"] == info["created"]
    container = docker_client.containers.get(f"jcm-{info['id']}")
    assert container.exec_run(["cat", "/workspace/a.txt"]).output == b"kept"
    assert server.request("DELETE", f"containers/{info['id']}").status_code == 204


@pytest.mark.security_case(4)
def test_another_owner_sees_nothing_and_cannot_touch(server, owner, docker_client):
    mine = server.request("POST", "containers", json={"name": "mine"}).json()
    with ServerProcess(config(owner + "-other")) as other:
        assert other.request("GET", "containers").json() == []
        for method, path in [("GET", ""), ("DELETE", ""), ("POST", "/stop"), ("POST", "/restart")]:
            answer = other.request(method, f"containers/{mine['id']}{path}")
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["message"]
        theirs = other.request("POST", "containers", json={"name": "theirs"}).json()
        assert [c["id"] for c in server.request("GET", "containers").json()] == [mine["id"]]
        assert server.request("DELETE", f"containers/{theirs['id']}").status_code == 404
        assert other.request("DELETE", f"containers/{theirs['id']}").status_code == 204
    assert docker_client.containers.get(f"jcm-{mine['id']}").status == "running"


@pytest.fixture
def unreachable_engine(manager_config, tmp_path):
    manager_config["docker_url"] = f"unix://{tmp_path}/no-docker.sock"


@pytest.mark.security_case(25)
async def test_unreachable_engine_answers_503_with_a_hint(unreachable_engine, api):
    for answer in (await api.get("containers"), await api.post("containers", body={})):
        body = assert_error(answer, 503, code="ENGINE_UNAVAILABLE")
        assert "does not answer" in body["message"]
        assert "docker_url" in body["message"]


def test_idle_containers_are_stopped_and_used_ones_are_not(owner, docker_client):
    import time

    with ServerProcess(config(owner, idle_timeout=3)) as server:
        idle = server.request("POST", "containers", json={"name": "idle"}).json()
        busy = server.request("POST", "containers", json={"name": "busy"}).json()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # Preview traffic is activity too (here a closed port: 502, but still a use).
            server.request("GET", f"containers/{busy['id']}/proxy/3000/")
            if docker_client.containers.get(f"jcm-{idle['id']}").status == "exited":
                break
            time.sleep(0.5)
        assert docker_client.containers.get(f"jcm-{idle['id']}").status == "exited"
        assert server.request("GET", f"containers/{idle['id']}").json()["status"] == "stopped"
        assert docker_client.containers.get(f"jcm-{busy['id']}").status == "running"
        # A stopped container starts again on request.
        again = server.request("POST", f"containers/{idle['id']}/start")
        assert again.status_code == 200 and again.json()["status"] == "running"
