"""Live pushes over the /container WebSocket on the real engine: fs-change from any writer,
port and server-ready, two sockets on one container, and the end of a container."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.helpers import preview_target

SERVER = "require('http').createServer((q,s)=>s.end('ok')).listen(3000)"




async def test_watch_sees_changes_by_anyone_within_a_second(ws, api, docker_client):
    container = await api.create(name="watch", files={"src": {"directory": {}}})
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    loop = asyncio.get_running_loop()

    async def seen(path, kind):  # in any order among the changes of one batch
        expected = {"event": "fs-change", "data": {"path": path, "kind": kind}}
        return await client.wait_for(lambda f: f == expected, timeout=5)

    # Through REST.
    started = loop.time()
    written = await api.post("webcontainer", container["id"], "fs", "writeFile",
                             body={"path": "/src/rest.js", "contents": "1"})
    assert written.status == 204, written
    await seen("/src/rest.js", "add")
    assert loop.time() - started < 2.0  # the write itself, then one look every 0.25 s

    # By a process in the container (spawned over the socket), names with newlines too.
    started = loop.time()
    pid = (await client.ok("process-operation", {
        "type": "spawn", "command": "sh",
        "args": ["-c", "mkdir lib && echo x > 'lib/odd\nname.js' && echo 2 >> src/rest.js"],
    }))["pid"]
    await client.push("process-exit", lambda d: d["pid"] == pid)
    await seen("/lib", "addDir")
    await seen("/lib/odd\nname.js", "add")
    await seen("/src/rest.js", "change")
    assert loop.time() - started < 2.5

    # By someone outside the API (docker exec), then removals.
    box = docker_client.containers.get(f"jcm-{container['id']}")
    box.exec_run(["rm", "-rf", "/workspace/lib", "/workspace/src/rest.js"])
    await seen("/lib/odd\nname.js", "unlink")
    await seen("/lib", "unlinkDir")
    await seen("/src/rest.js", "unlink")

    # unwatch: no more pushes for that path.
    await client.ok("fs-operation", {"type": "unwatch", "path": "/"})
    count = len(client.pushes("fs-change"))
    box.exec_run(["touch", "/workspace/after-unwatch"])
    await asyncio.sleep(1.0)
    assert len(client.pushes("fs-change")) == count


async def test_watch_of_a_subfolder_and_its_escapes(ws, api, docker_client):
    container = await api.create(name="watch", files={"a": {"directory": {}},
                                                      "b": {"directory": {}}})
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/a"})
    box = docker_client.containers.get(f"jcm-{container['id']}")
    box.exec_run(["sh", "-c", "touch /workspace/b/not-watched /workspace/a/watched"])
    change = await client.push("fs-change", timeout=5)
    assert change == {"path": "/a/watched", "kind": "add"}
    escape = await client.fs("watch", path="/../etc")
    assert escape["event"] == "error" and escape["data"]["code"] == "EACCES"


async def test_server_ready_and_port_pushes_for_a_node_server(ws, api, jp_base_url):
    container = await api.create(name="ports")
    client = await ws()
    await client.join(container["id"])
    target = (3000, container["id"])
    loop = asyncio.get_running_loop()
    pid = (await client.ok("process-operation",
                           {"type": "spawn", "command": "node", "args": ["-e", SERVER]}))["pid"]
    started = loop.time()
    ready = await client.push("server-ready", timeout=10)
    assert ready["port"] == 3000 and preview_target(ready["url"]) == target
    opened = await client.push("port", lambda d: d["port"] == 3000)
    assert opened["type"] == "open" and preview_target(opened["url"]) == target

    info = (await api.get("containers", container["id"])).json()
    assert [preview_target(p["url"]) for p in info["ports"]] == [target]
    listed = (await api.get("containers")).json()
    assert [preview_target(p["url"]) for p in listed[0]["ports"]] == [target]

    await client.ok("process-operation", {"type": "kill", "pid": pid})
    closed = await client.push("port", lambda d: d["type"] == "close", timeout=10)
    assert closed["port"] == 3000 and closed["type"] == "close"
    assert preview_target(closed["url"]) == target
    assert loop.time() - started < 20
    info = (await api.get("containers", container["id"])).json()
    assert all(entry["port"] != 3000 for entry in info["ports"])


async def test_two_sockets_on_one_container(ws, api):
    container = await api.create(name="two")
    one, two = await ws(), await ws()
    await one.join(container["id"])
    await two.join(container["id"])
    await one.ok("fs-operation", {"type": "watch", "path": "/"})
    await two.ok("fs-operation", {"type": "watch", "path": "/"})
    await one.ok("fs-operation", {"type": "writeFile", "path": "/shared.txt", "contents": "1"})
    for client in (one, two):
        assert await client.push("fs-change", timeout=5) == {"path": "/shared.txt",
                                                             "kind": "add"}
    assert (await two.ok("fs-operation", {"type": "readFile", "path": "/shared.txt"}))[
        "result"]["contents"] == "1"
    # Ports reach every joined socket; process output only the socket that spawned it.
    pid = (await one.ok("process-operation",
                        {"type": "spawn", "command": "node", "args": ["-e", SERVER]}))["pid"]
    for client in (one, two):
        assert (await client.push("server-ready", timeout=10))["port"] == 3000
    await one.ok("process-operation", {"type": "kill", "pid": pid})
    await one.push("process-exit", lambda d: d["pid"] == pid)
    assert not two.pushes("process-exit")
    # Closing one socket leaves the other's watch alone.
    one.close()
    await two.ok("fs-operation", {"type": "writeFile", "path": "/later.txt", "contents": "2"})
    assert await two.push("fs-change", timeout=5) == {"path": "/later.txt", "kind": "add"}


async def test_delete_while_joined_ends_everything_and_tells_every_socket(ws, api,
                                                                         docker_client):
    container = await api.create(name="doomed")
    cid = container["id"]
    one, two = await ws(), await ws()
    await one.join(cid)
    await two.join(cid)
    tid = (await one.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await one.ok("fs-operation", {"type": "watch", "path": "/"})
    pid = (await one.ok("process-operation",
                        {"type": "spawn", "command": "sleep", "args": ["1000"]}))["pid"]

    assert (await api.delete("containers", cid)).status == 204
    for client in (one, two):
        assert await client.push("container-status", timeout=5) == {"containerId": cid,
                                                                    "status": "removed"}
    assert (await one.push("pty-exit", timeout=5))["terminalId"] == tid
    assert (await one.push("process-exit", lambda d: d["pid"] == pid, timeout=10))["pid"] == pid
    for request in (
        ("fs-operation", {"type": "readdir", "path": "/"}),
        ("terminal-input", {"input": "ls"}),
        ("pty-open", {"cols": 80, "rows": 24}),
        ("process-operation", {"type": "spawn", "command": "ls"}),
    ):
        failed = await two.request(*request)
        assert failed["event"] == "error" and failed["data"]["code"] == "ENOCONTAINER", failed
    typed = await one.request("pty-input", {"terminalId": tid, "data": "ls\r"})
    assert typed["event"] == "error"
    # Nothing of ours is left running for that container.
    rooms = two  # the socket still works for other containers
    other = await api.create(name="next")
    assert (await rooms.join(other["id"]))["status"] == "running"


@pytest.mark.security_case(26)
async def test_a_stopped_container_is_reported_and_refused(ws, api):
    container = await api.create(name="stopped")
    cid = container["id"]
    client = await ws()
    await client.join(cid)
    tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    assert (await api.post("containers", cid, "stop")).status == 200
    status = await client.push("container-status", timeout=10)
    assert status == {"containerId": cid, "status": "stopped"}
    assert (await client.push("pty-exit", timeout=10))["terminalId"] == tid
    refused = await client.request("fs-operation", {"type": "readdir", "path": "/"})
    assert refused["event"] == "error" and refused["data"]["code"] == "ENOTRUNNING"
    assert (await api.post("containers", cid, "start")).status == 200
    back = await client.request("fs-operation", {"type": "readdir", "path": "/"})
    assert back["event"] == "fs-result"
    assert await client.push("container-status") == {"containerId": cid, "status": "running"}
    rejoined = await client.join(cid)
    assert rejoined["status"] == "running" and rejoined["terminals"] == []


async def test_watchers_come_back_when_someone_kills_them(ws, api, docker_client):
    container = await api.create(name="killer")
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    box = docker_client.containers.get(f"jcm-{container['id']}")
    assert box.exec_run(["pkill", "-f", "jcm-watch|jcm-ports"]).exit_code == 0
    await asyncio.sleep(1.5)
    box.exec_run(["touch", "/workspace/after-kill"])
    assert await client.push("fs-change", timeout=10) == {"path": "/after-kill", "kind": "add"}
    box.exec_run(["sh", "-c", f"node -e \"{SERVER}\" >/dev/null 2>&1 &"], detach=True)
    assert (await client.push("server-ready", timeout=10))["port"] == 3000
    assert not client.pushes("container-status")  # the container itself was fine


async def test_watch_refuses_missing_paths_and_symlink_escapes(ws, api, docker_client):
    container = await api.create(name="escape")
    box = docker_client.containers.get(f"jcm-{container['id']}")
    box.exec_run(["ln", "-s", "/etc", "/workspace/etc-link"])
    client = await ws()
    await client.join(container["id"])
    for path, code in (("/missing", "ENOENT"), ("/etc-link", "EACCES"),
                       ("/etc-link/ssl", "EACCES")):
        refused = await client.fs("watch", path=path)
        assert refused["event"] == "error" and refused["data"]["code"] == code, (path, refused)
        assert path.split("/")[1] in refused["data"]["message"] or code == "EACCES"
    await client.ok("fs-operation", {"type": "watch", "path": "/"})  # still works
    box.exec_run(["touch", "/workspace/fine"])
    assert await client.push("fs-change", timeout=5) == {"path": "/fine", "kind": "add"}


@pytest.mark.security_case(26)
async def test_a_container_removed_behind_our_back_is_reported(ws, api, docker_client):
    container = await api.create(name="lost")
    cid = container["id"]
    client = await ws()
    await client.join(cid)
    tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    docker_client.containers.get(f"jcm-{cid}").remove(force=True)
    assert await client.push("container-status", timeout=10) == {"containerId": cid,
                                                                 "status": "removed"}
    assert (await client.push("pty-exit", timeout=10))["terminalId"] == tid
    failed = await client.request("terminal-input", {"input": "ls"})
    assert failed["event"] == "error" and failed["data"]["code"] == "ENOCONTAINER"


async def test_ports_are_read_from_the_host_and_survive_a_restart(ws, api, docker_client):
    container = await api.create(name="restarted")
    cid = container["id"]
    client = await ws()
    await client.join(cid)
    box = docker_client.containers.get(f"jcm-{cid}")
    await asyncio.sleep(0.5)
    # The server runs on the engine's host here: nothing polls inside the container.
    assert b"jcm-ports" not in box.exec_run(["ps", "-eo", "args"]).output
    assert (await api.post("containers", cid, "restart")).status == 200
    await asyncio.sleep(1.0)
    pid = (await client.ok("process-operation",
                           {"type": "spawn", "command": "node", "args": ["-e", SERVER]}))["pid"]
    assert (await client.push("server-ready", timeout=15))["port"] == 3000
    await client.ok("process-operation", {"type": "kill", "pid": pid})


async def test_the_in_container_port_watcher_for_remote_engines(jp_serverapp, api,
                                                                docker_client):
    """Where the host's /proc cannot be read (a remote engine), one exec polls inside."""
    import dataclasses

    from jupyter_container_manager.base_handler import MANAGER_KEY
    from jupyter_container_manager.engine.ports import PortWatcher

    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    container = await api.create(name="remote")
    info = dataclasses.replace(await manager.get_container(container["id"]), pid=0)
    changes: asyncio.Queue = asyncio.Queue()
    ended = asyncio.Event()
    watcher = PortWatcher(manager._backend, info, 0.25,
                          lambda opened, closed: changes.put_nowait((opened, closed)),
                          ended.set, tasks=manager.tasks)
    watcher.start()
    try:
        assert watcher.in_container
        box = docker_client.containers.get(f"jcm-{container['id']}")
        box.exec_run(["sh", "-c", f"node -e \"{SERVER}\" >/dev/null 2>&1 &"], detach=True)
        assert await asyncio.wait_for(changes.get(), 10) == ({3000}, set())
        box.stop(timeout=1)
        await asyncio.wait_for(ended.wait(), 10)  # the exec ends with the container
    finally:
        watcher.stop()


# A server that restarts itself on the same port faster than a look at the ports
# (nodemon's restart): it closes its listening socket and opens a new one within ~20 ms.
RESTARTING = """
const http = require('http');
let generation = 0;
function serve() {
  generation += 1;
  const mine = generation;
  const server = http.createServer((q, s) => s.end('generation ' + mine));
  server.listen(3000, '127.0.0.1');
  return server;
}
let server = serve();
process.stdin.on('data', () => { server.close(); server.closeAllConnections(); server = serve(); });
"""


async def test_a_server_on_the_loopback_is_ready_and_every_restart_is_told(ws, api):
    """A server bound to 127.0.0.1 (Vite's default) gets server-ready (the preview reaches
    it through the agent), and a restart within a few ms, between two looks at the ports,
    gives port close/open and a second server-ready."""
    container = await api.create(name="restarts")
    client = await ws()
    await client.join(container["id"])
    pid = (await client.ok("process-operation", {
        "type": "spawn", "command": "node", "args": ["-e", RESTARTING]}))["pid"]
    first = await client.push("server-ready", timeout=15)
    assert preview_target(first["url"]) == (3000, container["id"])
    await client.ok("process-operation", {"type": "input", "pid": pid, "data": "restart\n"})
    second = await client.push("server-ready", timeout=10)
    assert preview_target(second["url"]) == (3000, container["id"])
    assert second["url"] != first["url"]  # a fresh grant
    closed = await client.push("port", lambda d: d["type"] == "close", timeout=5)
    assert closed["port"] == 3000
    await client.ok("process-operation", {"type": "kill", "pid": pid})
