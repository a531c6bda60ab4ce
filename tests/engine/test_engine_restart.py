"""Real engine restarts (security case 25: "dockerd restarted mid-spawn and
mid-terminal → 503 with a hint during the outage; everything recovers; WebSockets
reconnect").

A ``dockerd`` of this module's own (tests/support/private_engine.py: own socket, data root, exec
root and containerd namespace; the engine the rest of the suite uses is never touched)
serves a real Jupyter server subprocess (tests/support/servers.py). In the middle of a streamed
spawn, of a PTY on a joined ``/container`` socket and of a raw PUT upload, the daemon is
killed (SIGKILL, as a crash; SIGTERM, as `systemctl restart docker`), then started again on
the same data root, with the server left running:

- during the outage every route answers 503 ``ENGINE_UNAVAILABLE`` with its hint, within a
  bound, never 500; the streamed spawn ends with an error line (or exit code -1), the
  upload answers 503, and the joined socket gets ``container-status`` ``unknown`` and
  ``pty-exit``;
- once the engine is back, without restarting the server: the container is listed again.
  Containers are created with no restart policy (Docker's default, ``no``; README
  "Settings"), so one the restart ended comes back stopped: the API and the joined socket
  say ``stopped``, ``POST /containers/{id}/start`` starts it, and its files written
  before (checked by sha256) are intact. A new spawn, a new upload, a new container, a
  new socket with a PTY, and a PTY on the socket that lived through the outage all work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from urllib.parse import urlencode

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.gateway_client import GatewayClient
from tests.support.helpers import Api, assert_error, assert_outage, timed
from tests.support.private_engine import PrivateEngine
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import WebContainer, ndjson_lines

BOUND = 5.0  # seconds any answer may take during the outage
BIG = 300 * 1024**2  # the upload cut by the restart
CHUNK = b"x" * 1024**2


@pytest.fixture(scope="module")
def engine(docker_client):
    """The module's own dockerd with the test image; stopped and deleted at the end."""
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.skip("a dockerd of its own needs the dockerd binary and root")
    bridge = host_bridge()
    with PrivateEngine(RUN_ID[:8]) as running:
        running.load_image(TEST_IMAGE, docker_client)
        yield running
    # The main engine's network was left alone (a dockerd with --bridge none in the
    # host's namespace would have deleted its docker0).
    assert host_bridge() == bridge, "the main engine's docker0 changed"


def host_bridge() -> str | None:
    """The host's docker0 as ``<ifindex>: docker0 ...``, or None."""
    found = subprocess.run(["ip", "-o", "link", "show", "docker0"], capture_output=True,
                           text=True)
    return found.stdout.split(": <")[0] if found.returncode == 0 else None


@pytest.fixture(scope="module")
def server(engine):
    config = {
        "owner": f"test-{RUN_ID}-restart",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "docker_url": engine.url,
        "docker_timeout": 10.0,
    }
    with ServerProcess(config) as running:
        yield running


@pytest.fixture
def private_client(engine):
    """A client of the private engine; after the test the engine runs again (a test that
    failed mid-outage leaves it down) and has no container left."""
    client = engine.client()
    yield client
    client.close()
    if not engine.answers():
        if engine.process is not None and engine.process.poll() is None:
            engine.kill()
        engine.start()
    with contextlib.closing(engine.client()) as cleaner:
        for container in cleaner.containers.list(all=True):
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)


@pytest.fixture
def http():
    client = AsyncHTTPClient(force_instance=True, max_clients=32)
    yield client
    client.close()


@pytest.fixture
def api(server, http):
    """tests/helpers.Api over the subprocess server, like jp_fetch."""

    async def fetch(*parts, method="GET", headers=None, params=None, body=None,
                    **options):
        url = server.url + "/" + "/".join(part.strip("/") for part in parts)
        if params:
            url += "?" + urlencode(params)
        request = HTTPRequest(url, method=method, headers={**server.headers, **(headers or {})},
                              body=body, request_timeout=120, **options)
        return await http.fetch(request)

    return Api(fetch)




async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def connect(server) -> GatewayClient:
    url = server.url.replace("http", "ws", 1) + "/container"
    return GatewayClient(await websocket_connect(HTTPRequest(url, headers=server.headers)))


def upload_bytes(size: int) -> tuple[bytes, str]:
    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


@pytest.mark.security_case(25)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
async def test_dockerd_restarted_mid_spawn_terminal_and_upload(
    sig, engine, server, api, http, private_client
):
    measured: dict[str, object] = {"signal": sig.name}
    booted = await api.post("webcontainer", "boot",
                            body={"files": {"a.txt": {"file": {"contents": "A"}}}})
    assert booted.status == 201, booted
    wc = WebContainer(api, private_client, booted.json()["containerId"],
                      booted.json()["workdir"])
    data, digest = upload_bytes(4 * 1024**2)
    assert (await wc.put("data.bin", data)).status == 204

    # A socket joined to the container with a PTY open.
    sock = await connect(server)
    try:
        await sock.join(wc.id)
        tid = (await sock.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await sock.send("pty-input", {"terminalId": tid, "data": "echo before-$((40+2))\n"})
        await sock.pty_text(tid, "before-42")

        # Listings in flight all along: each 200 or 503, never 500, never hung.
        statuses: list[int] = []
        listing = True

        async def keep_listing():
            while listing:
                answer = await asyncio.wait_for(api.get("containers"), BOUND + 5)
                statuses.append(answer.status)
                if answer.status != 200:
                    assert_outage(answer)
                await asyncio.sleep(0.05)

        lister = asyncio.ensure_future(keep_listing())

        # A streamed spawn that prints until it is cut.
        printed: list[bytes] = []
        streamed = asyncio.ensure_future(http.fetch(HTTPRequest(
            f"{server.url}/webcontainer/{wc.id}/spawn", method="POST", headers=server.headers,
            body=json.dumps({"command": "sh", "args": ["-c", "while true; do echo tick; "
                                                       "sleep 0.1; done"], "stream": True,
                             "timeout": 120}),
            streaming_callback=printed.append, request_timeout=120), raise_error=False))

        # A raw upload streaming its body.
        async def produce(write):
            for _ in range(BIG // len(CHUNK)):
                await write(CHUNK)

        upload = asyncio.ensure_future(http.fetch(HTTPRequest(
            f"{server.url}/webcontainer/{wc.id}/fs/writeFile?path=big.bin", method="PUT",
            headers={**server.headers, "Content-Length": str(BIG)}, body_producer=produce,
            request_timeout=120), raise_error=False))

        async def upload_arriving():
            code, out = await in_thread(wc.sh, 'for f in "$1"/.jcm-tmp-*; do [ -f "$f" ] '
                                        '&& stat -c %s "$f"; done; true', wc.workdir)
            return upload.done() or sum(int(size) for size in out.split()) > 1024**2

        async def spawn_printing():
            return streamed.done() or b"tick" in b"".join(printed)

        await wait_until(spawn_printing, 20, "the spawn to print")
        await wait_until(upload_arriving, 30, "the upload to arrive")
        assert not streamed.done() and not upload.done()

        # The restart's first half: the engine goes.
        killed_at = time.monotonic()

        def since_kill(what):
            return lambda _: measured.setdefault(what, round(time.monotonic() - killed_at, 2))

        streamed.add_done_callback(since_kill("spawn ended after (s)"))
        upload.add_done_callback(since_kill("upload answered after (s)"))
        told_first = asyncio.ensure_future(sock.push("container-status", timeout=BOUND + 5))
        told_first.add_done_callback(since_kill("socket told after (s)"))
        await in_thread(engine.kill, sig)
        measured["daemon gone after (s)"] = round(time.monotonic() - killed_at, 2)

        spawned, took = await timed(streamed, BOUND + 5)
        assert spawned.code == 200, spawned
        lines = ndjson_lines(b"".join(printed))
        assert {"output": "tick\n"} in lines, lines[-5:]
        last = lines[-1]
        assert last == {"exitCode": -1} or (
            last.get("code") == "ENGINE_UNAVAILABLE" and "docker_url" in last["error"]), last

        cut, took = await timed(upload, BOUND + 5)
        if sig == signal.SIGTERM and cut.code == 409:
            # A stopping dockerd stops its containers first, and still answers: the
            # upload may learn that its container exited before the engine went away.
            assert json.loads(cut.body)["code"] == "ENOTRUNNING", cut.body
        else:
            assert cut.code == 503, (cut.code, cut.body)
            assert json.loads(cut.body)["code"] == "ENGINE_UNAVAILABLE"

        status = await told_first
        measured["socket told"] = status["status"]
        assert status["containerId"] == wc.id, status
        if sig == signal.SIGTERM and status["status"] == "stopped":
            pass  # a stopping dockerd stops its containers first, and still answers
        else:
            assert status["status"] == "unknown", status
            assert status["code"] == "ENGINE_UNAVAILABLE" and "docker_url" in status["message"]
        assert (await sock.push("pty-exit", timeout=BOUND))["terminalId"] == tid

        # During the outage every kind of route answers 503 with the hint, at once.
        times = []
        for call in (api.get("containers"), api.get("containers", wc.id), wc.read("a.txt"),
                     wc.readdir(), wc.write("b.txt", "B"), wc.put("c.bin", b"c" * 1024),
                     wc.spawn("true"), api.post("containers", body={}),
                     api.post("containers", wc.id, "start"),
                     api.delete("containers", wc.id),
                     api.post("webcontainer", "boot", body={})):
            answer, took = await timed(call)
            assert_outage(answer)
            times.append(took)
        measured["503 answers, slowest (s)"] = round(max(times), 3)
        reply = await sock.request("fs-operation", {"type": "readdir", "path": "/"},
                                   timeout=BOUND)
        assert reply["event"] == "error" and reply["data"]["code"] == "ENGINE_UNAVAILABLE"
        refused = await sock.request("pty-open", {"cols": 80, "rows": 24}, timeout=BOUND)
        assert refused["event"] == "error", refused

        # The second half: the engine is back, on the same data root; the server was
        # never restarted.
        back_at = time.monotonic()
        measured["daemon answers after (s)"] = round(await in_thread(engine.start), 2)
        # No restart policy: the restart ended the container, it comes back stopped, and
        # a socket told "unknown" is told so within a few seconds.
        if status["status"] == "unknown":
            told = await sock.push("container-status", timeout=10)
            measured["socket told 'stopped' after start"] = round(time.monotonic() - back_at, 2)
            assert told == {"containerId": wc.id, "status": "stopped"}, told
        listed = (await api.get("containers")).json()
        assert [(c["id"], c["status"]) for c in listed] == [(wc.id, "stopped")], listed
        assert_error(await wc.read("a.txt"), 409, code="ENOTRUNNING")
        await asyncio.sleep(0.3)
        listing = False
        await lister
        assert statuses[-1] == 200 and set(statuses) == {200, 503}, statuses

        started = await api.post("containers", wc.id, "start")
        assert started.status == 200 and started.json()["status"] == "running", started
        # Its files are intact; the cut upload left neither a file nor a temporary.
        assert (await wc.read("a.txt")).body == b"A"
        assert hashlib.sha256((await wc.read("data.bin")).body).hexdigest() == digest
        code, out = await in_thread(wc.sh, 'sha256sum data.bin; ls -a "$1"', wc.workdir)
        assert out.split()[0].decode() == digest
        assert b"big.bin" not in out and b".jcm-tmp-" not in out, out
        # Everything works again on the same server.
        lines = ndjson_lines((await wc.spawn("echo", "back", stream=True)).body)
        assert lines == [{"output": "back\n"}, {"exitCode": 0}], lines
        more, more_digest = upload_bytes(1024**2)
        assert (await wc.put("more.bin", more)).status == 204
        assert (await wc.spawn("sha256sum", "more.bin")).json()["output"].split()[0] == \
            more_digest
        other = await api.post("containers", body={"name": "after"})
        assert other.status == 201, other
        assert (await api.delete("containers", other.json()["id"])).status == 204
        # The socket that lived through the outage opens a PTY again (and hears
        # "running"); a new socket joins and opens one too.
        tid = (await sock.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        assert await sock.push("container-status", timeout=5) == {
            "containerId": wc.id, "status": "running"}
        await sock.send("pty-input", {"terminalId": tid, "data": "echo again-$((40+2))\n"})
        await sock.pty_text(tid, "again-42")
        fresh = await connect(server)
        try:
            await fresh.join(wc.id)
            ftid = (await fresh.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
            await fresh.send("pty-input", {"terminalId": ftid,
                                           "data": "cat a.txt; echo -$((1+1))\n"})
            await fresh.pty_text(ftid, "A-2")
        finally:
            fresh.close()
        assert (await api.delete("containers", wc.id)).status == 204
    finally:
        sock.close()
        for task in (locals().get("lister"), locals().get("streamed"), locals().get("upload")):
            if task is not None and not task.done():
                task.cancel()
        print(f"\nengine restart ({sig.name}): {measured}")
