"""The synchronous client against a real ``jupyter server`` subprocess and the real engine.

The sync client blocks its caller, so its server runs in another process
(``server_process``), exactly as for a notebook kernel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import os
import threading
import zipfile

import pytest

from jupyter_container_manager.client import (
    ContainerError,
    Containers,
    DirEnt,
    WebContainer,
    find_server,
)
from tests.support.helpers import preview_target
from tests.support.servers import free_port

STARTER = {
    "package.json": {"file": {"contents": '{"name": "starter", "type": "module"}'}},
    "index.js": {"file": {"contents": (
        "import { greet } from './src/greet.js';\nconsole.log(greet('node'));\n"
    )}},
    "src": {"directory": {"greet.js": {"file": {"contents": (
        "export const greet = (who) => `hello ${who}`;\n"
    )}}}},
}

HTTP_SERVER = """
const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('preview says hi at ' + req.url);
}).listen(Number(process.argv[2]), () => console.log('listening'));
"""


@pytest.fixture
def wc(containers):
    container = containers.boot(files=STARTER)
    yield container
    container.teardown()


def test_direct_api_lifecycle(containers):
    info = containers.create("direct", env={"GREETING": "hi"}, ports=[3000],
                             files={"a.txt": {"file": {"contents": b"\x00\x01"}}})
    assert info.status == "running" and info.name == "direct" and info.workdir == "/workspace"
    assert [p.port for p in info.ports] == [3000]
    assert preview_target(info.ports[0].url) == (3000, info.id)
    assert info.id in [c.id for c in containers.list()]
    again = containers.get(info.id)  # the same, but for a fresh grant in each preview URL
    assert [preview_target(p.url) for p in again.ports] == [(3000, info.id)]
    assert dataclasses.replace(again, ports=info.ports) == info
    assert containers.stop(info.id).status == "stopped"
    assert containers.start(info.id).status == "running"
    assert containers.restart(info.id).status == "running"
    containers.delete(info.id)
    with pytest.raises(ContainerError) as gone:
        containers.get(info.id)
    assert (gone.value.status, gone.value.code) == (404, "ENOCONTAINER")
    assert info.id not in [c.id for c in containers.list()]


def test_errors_carry_status_code_and_message(server_process, containers):
    with pytest.raises(ContainerError) as missing_image:
        containers.create("x", image="jcm-test/no-such-image:none")
    assert missing_image.value.status == 503 and missing_image.value.code == "IMAGE_NOT_FOUND"

    with pytest.raises(ContainerError) as refused:
        Containers(server_process.url, "not-the-token").list()
    assert refused.value.status == 403

    with pytest.raises(ContainerError) as unreachable:
        Containers(f"http://127.0.0.1:{free_port()}/", "t").list()
    assert unreachable.value.status is None and unreachable.value.code == "ECONNREFUSED"


def test_the_server_is_found_from_its_runtime_record(server_process):
    found = find_server(environ={}, runtime_dir=server_process.runtime_dir,
                        cwd=str(server_process.root_dir / "notebooks"))
    assert (found.url, found.token) == (server_process.url + "/", server_process.token)
    with Containers(server=found) as client:
        assert isinstance(client.list(), list)


def test_boot_read_write_and_errors(wc):
    assert wc.workdir == "/workspace"
    assert wc.fs.read_file("src/greet.js", "utf-8").startswith("export const greet")
    assert wc.fs.read_file("/package.json") == b'{"name": "starter", "type": "module"}'

    wc.fs.mkdir("deep/er/est", recursive=True)
    wc.fs.write_file("deep/er/est/note.txt", "tabs\tand 'quotes' $(id) é")
    assert wc.fs.read_file("deep/er/est/note.txt", "utf-8") == "tabs\tand 'quotes' $(id) é"
    blob = os.urandom(300_000)
    wc.fs.write_file("blob.bin", blob)
    assert hashlib.sha256(wc.fs.read_file("blob.bin")).digest() == hashlib.sha256(blob).digest()
    wc.fs.write_file("b64.txt", "aGVsbG8=", encoding="base64")
    assert wc.fs.read_file("b64.txt") == b"hello"

    assert sorted(wc.fs.readdir("/")) == sorted(
        ["package.json", "index.js", "src", "deep", "blob.bin", "b64.txt"]
    )
    assert DirEnt("src", "directory") in wc.fs.readdir("", with_file_types=True)
    wc.fs.rename("deep/er/est/note.txt", "src/note.txt")
    assert "note.txt" in wc.fs.readdir("src")
    wc.fs.rm("deep", recursive=True)
    wc.fs.rm("deep", force=True)  # already gone: fine with force

    for call, code in [
        (lambda: wc.fs.read_file("missing.js"), "ENOENT"),
        (lambda: wc.fs.write_file("no/parent.txt", "x"), "ENOENT"),
        (lambda: wc.fs.mkdir("src"), "EEXIST"),
        (lambda: wc.fs.rm("src"), None),  # ENOTEMPTY or EISDIR, as Node says
        (lambda: wc.fs.read_file("../../etc/passwd"), "EACCES"),
    ]:
        with pytest.raises(ContainerError) as caught:
            call()
        assert caught.value.status in (400, 403, 404, 409), caught.value
        if code:
            assert caught.value.code == code, caught.value
            assert caught.value.message.startswith(code)
        else:
            assert caught.value.code in ("ENOTEMPTY", "EISDIR")


def test_mount_and_export(wc):
    wc.mount({"lib": {"directory": {"x.js": {"file": {"contents": "1"}}}},
              "raw.bin": {"file": {"contents": b"\xff\x00"}}}, mount_point="extra")
    tree = wc.export("extra")
    assert tree == {"lib": {"directory": {"x.js": {"file": {"contents": "1"}}}},
                    "raw.bin": {"file": {"contents": b"\xff\x00"}}}
    assert wc.export()["src"] == STARTER["src"]
    with zipfile.ZipFile(io.BytesIO(wc.export("/", format="zip"))) as archive:
        assert "src/greet.js" in archive.namelist()
    with pytest.raises(ValueError):
        wc.export(format="binary")


def test_run_waits_for_the_exit_code_and_output(wc):
    result = wc.run("node", ["index.js"])
    assert (result.exit_code, result.output) == (0, "hello node\n")
    literal = wc.run("echo", ["$(id)", "; rm -rf /"])
    assert literal.output == "$(id) ; rm -rf /\n"
    failing = wc.run("sh", ["-c", "echo oops >&2; exit 3"], cwd="src", env={"X": "1"})
    assert (failing.exit_code, failing.output) == (3, "oops\n")
    slow = wc.run("sleep", ["30"], timeout=1)
    assert slow.timed_out and slow.exit_code == 124


def test_spawn_streams_output_takes_input_and_exits(wc):
    echo = wc.spawn(
        "node", ["-e", "process.stdin.on('data', d => process.stdout.write('got ' + d));"
                       "process.stdin.on('end', () => process.exit(7));"
                       "console.log('ready');"],
    )
    chunks = iter(echo.output)
    assert "ready" in next(chunks)
    echo.input.write("ping\n")
    seen = ""
    for chunk in chunks:
        seen += chunk
        if "got ping" in seen:
            break
    assert "got ping" in seen
    echo.kill("TERM")
    assert echo.wait(10) != 0

    counted = wc.spawn("sh", ["-c", "for i in 1 2 3; do echo $i; done; exit 5"])
    assert "".join(counted.output).split() == ["1", "2", "3"]
    assert counted.wait(10) == 5 and counted.exit_code == 5


def test_kill_ends_a_long_process(wc):
    sleeper = wc.spawn("sleep", ["300"])
    with pytest.raises(TimeoutError):
        sleeper.wait(0.5)
    sleeper.kill()
    assert sleeper.wait(10) != 0


def test_line_terminal_keeps_the_cwd(wc):
    first = wc.run_line("cd src && pwd")
    assert (first.output.strip(), first.cwd) == ("/workspace/src", "/workspace/src")
    second = wc.run_line("ls")
    assert "greet.js" in second.output and second.exit_code == 0
    assert wc.run_line("cd /no/such/dir").exit_code != 0
    assert wc.run_line("pwd").output.strip() == "/workspace/src"


def test_server_ready_event_and_preview_through_the_proxy(wc):
    wc.fs.write_file("server.cjs", HTTP_SERVER)  # package.json says "type": "module"
    ready = threading.Event()
    seen: list = []

    def on_ready(port, url):  # a listener may call the sync client itself
        seen.append((port, url, wc.fetch(url).status))
        ready.set()

    unsubscribe = wc.on("server-ready", on_ready)
    server = wc.spawn("node", ["server.cjs", "3000"])
    assert ready.wait(20), f"no server-ready push within 20 s; exit code {server.exit_code}"
    port, url, status = seen[0]
    assert port == 3000 and status == 200
    assert preview_target(url) == preview_target(wc.preview_url(3000)) == (3000, wc.id)
    answer = wc.fetch(url + "hello?x=1")
    assert answer.status == 200, answer.text
    assert answer.text == "preview says hi at /hello?x=1"
    unsubscribe()
    server.kill()


def test_attach_and_workdir_name(containers):
    info = containers.create("attached", files={"a.txt": {"file": {"contents": "A"}}})
    server = containers.server
    attached = WebContainer.attach(info.id, url=server.url, token=server.token)
    assert attached.fs.read_file("a.txt", "utf-8") == "A"
    attached.teardown()
    with pytest.raises(ContainerError):
        containers.get(info.id)

    with containers.boot(workdir_name="project") as named:
        assert named.workdir == "/home/project"
        assert named.run("pwd").output.strip() == "/home/project"
        named_id = named.id
    assert named_id not in [c.id for c in containers.list()]


def test_the_sync_client_works_where_a_loop_already_runs(server_process):
    """As in a notebook cell, whose thread runs the kernel's event loop."""

    async def cell():
        with Containers(server_process.url, server_process.token) as client:
            return client.list()

    assert isinstance(asyncio.run(cell()), list)
