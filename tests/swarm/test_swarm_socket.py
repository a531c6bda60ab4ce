"""The /container socket and previews on a real Docker Swarm: processes, terminals, watch,
ports and server-ready on a container of each node, and a preview through the proxy
(the node's container addresses are not routable from the server: the agent tunnels)."""

from __future__ import annotations

import asyncio

from tests.support.proxy_support import APP_PORT, APP_SOURCE, Preview
from tests.swarm.conftest import node_of


async def one_per_node(api, swarm_clients, want: int = 2) -> list[dict]:
    """Containers until ``want`` nodes have one: one container of each."""
    made, by_node = [], {}
    for i in range(8):
        container = await api.create(name=f"socket-{i}")
        made.append(container)
        by_node.setdefault(node_of(swarm_clients, container["id"]), container)
        if len(by_node) >= want:
            break
    assert len(by_node) >= want, by_node
    return list(by_node.values())


async def test_socket_processes_terminals_watch_and_ports_on_each_node(ws, api, swarm_clients):
    for container in await one_per_node(api, swarm_clients):
        cid = container["id"]
        client = await ws()
        joined = await client.join(cid)
        assert joined["status"] == "running" and joined["cwd"] == "/workspace"

        pid = (await client.ok("process-operation", {
            "type": "spawn", "command": "sh",
            "args": ["-c", "read x; echo got-$x; exit 4"]}))["pid"]
        await client.ok("process-operation", {"type": "input", "pid": pid, "data": "it\n"})
        assert (await client.push("process-exit", lambda d, p=pid: d["pid"] == p))["exitCode"] == 4
        out = "".join(d["data"] for d in client.pushes("process-output") if d["pid"] == pid)
        assert out == "got-it\n"

        await client.ok("fs-operation", {"type": "watch", "path": "/"})
        written = await client.fs("writeFile", path="/w.txt", contents="x")
        assert written["event"] != "error", written
        change = await client.push("fs-change", lambda d: d["path"] == "/w.txt", timeout=10)
        assert change["kind"] in ("add", "change")

        tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await client.send("pty-input",
                          {"terminalId": tid, "data": "export M=k; echo pty-$((6*7))\r"})
        await client.pty_text(tid, "pty-42")
        client.close()
        await asyncio.sleep(0.2)
        again = await ws()
        await again.join(cid)
        reopened = await again.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": tid})
        assert reopened["reattached"] is True
        await again.send("pty-input", {"terminalId": tid, "data": "echo again-$M\r"})
        await again.pty_text(tid, "again-k")

        server = await again.ok("process-operation", {
            "type": "spawn", "command": "node", "args": ["-e", APP_SOURCE, str(APP_PORT)],
            "env": {"BIND_HOST": "127.0.0.1"}})
        ready = await again.push("server-ready", timeout=20)
        assert ready["port"] == APP_PORT and cid in ready["url"]
        await again.ok("process-operation", {"type": "kill", "pid": server["pid"]})
        again.close()


async def test_preview_through_the_agent_on_each_node(api, swarm_clients, jp_serverapp,
                                                      jp_http_port, jp_base_url):
    _, nodes = swarm_clients
    for bind in ("127.0.0.1", "0.0.0.0"):
        for container in await one_per_node(api, swarm_clients):
            box = nodes[node_of(swarm_clients, container["id"])].containers.list(
                filters={"label": f"jupyter-container-manager.id={container['id']}"})[0]
            box.exec_run(["node", "-e", APP_SOURCE, str(APP_PORT)], detach=True,
                         environment={"BIND_HOST": bind})
            preview = Preview(container_id=container["id"],
                              server=f"http://127.0.0.1:{jp_http_port}", base_url=jp_base_url,
                              token=jp_serverapp.identity_provider.token)
            await preview.wait_ready()
            seen = await preview.echo("echo/x?a=1", method="POST", body=b"hello")
            assert seen["url"] == "/echo/x?a=1" and seen["method"] == "POST"
            assert (await api.delete("containers", container["id"])).status == 204
