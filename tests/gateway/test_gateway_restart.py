"""What survives a restart of the Jupyter server: the line terminal's cwd (it lives in the
container); PTY shells do not outlive their server, and the next server ends the orphans."""

from __future__ import annotations

import json
import time

import pytest
import websocket

from tests.support.servers import ServerProcess


class SyncSocket:
    def __init__(self, server: ServerProcess):
        url = server.url.replace("http", "ws", 1) + "/container"
        self.ws = websocket.create_connection(url, header=server.headers, timeout=30)
        self.ids = 0

    def request(self, event: str, data: dict) -> dict:
        self.ids += 1
        request_id = f"s{self.ids}"
        self.ws.send(json.dumps({"event": event, "id": request_id, "data": data}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = json.loads(self.ws.recv())
            if frame.get("id") == request_id:
                assert frame["event"] != "error", frame
                return frame["data"]
        raise AssertionError(f"no reply to {event}")

    def close(self) -> None:
        self.ws.close()


def shells(docker_client, container_id: str) -> list[str]:
    box = docker_client.containers.get(f"jcm-{container_id}")
    lines = box.exec_run(["ps", "-eo", "pid,args"]).output.decode().splitlines()
    return [line for line in lines if "bash -i" in line]


@pytest.mark.security_case(27)
def test_line_cwd_survives_a_server_restart_and_orphan_shells_end(owner, manager_config,
                                                                  docker_client):
    with ServerProcess(manager_config) as server:
        created = server.request("POST", "containers", json={"name": "restart"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        sock = SyncSocket(server)
        sock.request("join-container", {"containerId": cid})
        moved = sock.request("terminal-input", {"input": "mkdir -p deep/er && cd deep/er"})
        assert moved["cwd"] == "/workspace/deep/er"
        terminal = sock.request("pty-open", {"cols": 80, "rows": 24})["terminalId"]
        assert terminal
        deadline = time.monotonic() + 10
        while not shells(docker_client, cid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(shells(docker_client, cid)) == 1
        sock.close()

        server.restart()

        sock = SyncSocket(server)
        joined = sock.request("join-container", {"containerId": cid})
        assert joined["cwd"] == "/workspace/deep/er"
        assert joined["terminals"] == []  # a pty ends with the server that ran it
        assert sock.request("terminal-input", {"input": "pwd"})["output"] == "/workspace/deep/er\n"
        deadline = time.monotonic() + 10
        while shells(docker_client, cid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert shells(docker_client, cid) == []  # the old server's shell was ended
        sock.close()
        server.request("DELETE", f"containers/{cid}")
