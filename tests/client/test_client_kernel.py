"""A kernel started by the Jupyter server finds that server with no configuration."""

from __future__ import annotations

import json
import time
import uuid

import requests
import websocket

KERNEL_CODE = """
from jupyter_container_manager.client import Containers, find_server
server = find_server()
print("URL", server.url)
print("SOURCE", server.source)
with Containers() as containers:
    info = containers.create("from-kernel")
    print("ID", info.id, info.owner)
    containers.delete(info.id)
"""


def execute(server, kernel_id: str, code: str, timeout: float = 120.0) -> tuple[str, dict]:
    """Run ``code`` in the kernel over its channels WebSocket: (stdout, execute_reply)."""
    ws_url = server.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
    conn = websocket.create_connection(
        ws_url, header=[f"Authorization: token {server.token}"], timeout=timeout
    )
    try:
        msg_id = uuid.uuid4().hex
        conn.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        stdout, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(conn.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            if kind == "stream":
                stdout.append(message["content"]["text"])
            elif kind == "error":
                stdout.append("\n".join(message["content"]["traceback"]))
            elif kind == "execute_reply":
                return "".join(stdout), message["content"]
        raise TimeoutError("no execute_reply")
    finally:
        conn.close()


def test_a_kernel_of_the_server_finds_it(server_process):
    api = server_process.url + "/api/kernels"
    headers = server_process.headers
    started = requests.post(api, json={"name": "python3"}, headers=headers, timeout=60)
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    try:
        output, reply = execute(server_process, kernel_id, KERNEL_CODE)
        assert reply["status"] == "ok", output
        lines = dict(line.split(" ", 1) for line in output.splitlines() if " " in line)
        assert lines["URL"] == server_process.url + "/"
        assert f"pid {server_process.pid}" in lines["SOURCE"]  # its parent, not a guess
        assert lines["ID"].endswith(" " + server_process.manager_config["owner"])
    finally:
        requests.delete(f"{api}/{kernel_id}", headers=headers, timeout=60)
