"""State in labels only, on a real Docker Swarm: a restarted server finds its containers
on every node; servers of two owners share the swarm and never see each other's."""

from __future__ import annotations

import uuid

from tests.conftest import RUN_ID
from tests.support.servers import ServerProcess
from tests.swarm.conftest import node_of, swarm_manager_config


def test_a_restarted_server_finds_every_container_and_owners_stay_apart(swarm, swarm_clients):
    owner = f"test-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    with ServerProcess(swarm_manager_config(swarm, owner)) as server:
        made = []
        for i in range(4):
            answer = server.request("POST", "containers", json={"name": f"kept-{i}"})
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["id"])
        assert len({node_of(swarm_clients, cid) for cid in made}) >= 2
        wrote = server.request("POST", f"webcontainer/{made[-1]}/fs/writeFile",
                               json={"path": "/f", "contents": "still here"})
        assert wrote.status_code == 204
        stopped = server.request("POST", f"containers/{made[0]}/stop")
        assert stopped.json()["status"] == "stopped"

        server.restart()
        listed = server.request("GET", "containers").json()
        assert sorted(c["id"] for c in listed) == sorted(made)
        assert {c["id"]: c["status"] for c in listed}[made[0]] == "stopped"
        read = server.request("GET", f"webcontainer/{made[-1]}/fs/readFile/f",
                              params={"encoding": "utf-8"})
        assert read.text == "still here"

        with ServerProcess(swarm_manager_config(swarm, owner + "-other")) as other:
            assert other.request("GET", "containers").json() == []
            assert other.request("GET", f"containers/{made[1]}").status_code == 404
            assert other.request("DELETE", f"containers/{made[1]}").status_code == 404
            theirs = other.request("POST", "containers", json={"name": "theirs"}).json()
            assert [c["id"] for c in other.request("GET", "containers").json()] == [theirs["id"]]
        assert theirs["id"] not in [c["id"] for c in server.request("GET", "containers").json()]

        for cid in made:
            assert server.request("DELETE", f"containers/{cid}").status_code == 204
        assert server.request("GET", "containers").json() == []
