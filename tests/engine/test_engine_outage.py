"""An engine connection outage: a relay in front of the real Docker engine
(tests/support/engine_relay.py) is cut in the middle of operations and brought back. During the
outage the REST routes answer 503 JSON with a hint, within a bounded time; a streamed
spawn ends with an error line; joined sockets are told (`container-status` `unknown`);
once the engine answers again everything works without restarting the server. (dockerd
itself is not restarted: that would take every other test's containers with it.)"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.support.engine_relay import EngineRelay
from tests.support.gateway_client import GatewayClient
from tests.support.helpers import assert_outage, timed
from tests.support.webcontainer_support import boot, ndjson_lines

BOUND = 5.0  # seconds any answer may take during the outage


@pytest.fixture
def relay():
    with EngineRelay(f"/tmp/jcm-relay-{uuid.uuid4().hex[:8]}.sock") as running:
        yield running


@pytest.fixture
def manager_config(manager_config, relay):
    return {**manager_config, "docker_url": relay.url, "docker_timeout": 10.0}


async def bounded(awaitable, bound: float = BOUND):
    return (await timed(awaitable, bound))[0]


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def temporary_size(wc) -> int:
    """Bytes in the workdir's upload temporaries (.jcm-tmp-*, see paths.TEMP_PREFIX)."""
    code, out = wc.sh('for f in "$1"/.jcm-tmp-*; do [ -f "$f" ] && stat -c %s "$f"; done; true',
                      wc.workdir)
    return sum(int(size) for size in out.split())


def size_in_container(wc, absolute: str) -> int:
    code, out = wc.sh('stat -c %s "$1" 2>/dev/null || echo 0', absolute)
    return int(out.strip() or 0)


@pytest.mark.security_case(25)
async def test_rest_routes_during_and_after_an_engine_connection_outage(
    api, docker_client, relay
):
    wc = await boot(api, docker_client, files={"a.txt": {"file": {"contents": "A"}}})
    # Listings in flight all along: each is answered 200 or 503, never 500, never hung.
    statuses: list[int] = []
    listing = True

    async def keep_listing():
        while listing:
            answer = await asyncio.wait_for(api.get("containers"), BOUND + 5)
            statuses.append(answer.status)
            if answer.status != 200:
                assert_outage(answer)

    lister = asyncio.ensure_future(keep_listing())
    # A streamed spawn, cut while it prints.
    streamed = asyncio.ensure_future(wc.spawn(
        "sh", "-c", "touch /tmp/started; while true; do echo tick; sleep 0.1; done",
        timeout=60, stream=True))
    await wait_until(lambda: streamed.done() or wc.sh("test -e /tmp/started")[0] == 0,
                     20, "the spawn to start")
    await asyncio.sleep(0.5)
    assert not streamed.done()
    relay.cut()
    answer = await bounded(streamed)
    assert answer.status == 200, answer
    lines = ndjson_lines(answer.body)
    assert {"output": "tick\n"} in lines, lines
    # The end is no made-up exit code: the outage (a docker exec's stream), or -1, the
    # "unknown" of a process whose connection went (a spawn through the resident agent).
    last = lines[-1]
    assert last == {"exitCode": -1} or (
        last.get("code") == "ENGINE_UNAVAILABLE" and "docker_url" in last["error"]), lines
    # Every kind of route answers 503 with the hint, at once.
    for call in (api.get("containers"), api.get("containers", wc.id), wc.read("a.txt"),
                 wc.readdir(), wc.write("b.txt", "B"), wc.spawn("true"),
                 api.post("containers", body={}), api.delete("containers", wc.id),
                 api.post("webcontainer", "boot", body={})):
        assert_outage(await bounded(call))
    # Back: the same server works again, docker-py client and exec streams alike.
    relay.restore()
    await asyncio.sleep(0.5)
    listing = False
    await lister
    assert 200 in statuses and 503 in statuses and statuses[-1] == 200, statuses
    assert set(statuses) == {200, 503}, statuses
    assert [c["id"] for c in (await api.get("containers")).json()] == [wc.id]
    assert (await wc.read("a.txt")).body == b"A"
    assert (await wc.write("b.txt", "B")).status == 204
    assert (await wc.spawn("cat", "b.txt")).json() == {"exitCode": 0, "output": "B"}
    lines = ndjson_lines((await wc.spawn("echo", "back", stream=True)).body)
    assert lines == [{"output": "back\n"}, {"exitCode": 0}], lines
    other = await api.create(name="after")
    assert (await api.delete("containers", other["id"])).status == 204


async def test_an_upload_cut_by_an_engine_connection_outage(api, docker_client, relay):
    wc = await boot(api, docker_client)
    target = f"{wc.workdir}/big.bin"
    upload = asyncio.ensure_future(wc.put("big.bin", b"x" * (300 * 1024**2)))
    # Cut once bytes arrive in the container (in the upload's temporary, beside the
    # file: writes are atomic), well before the end.
    await wait_until(lambda: upload.done() or temporary_size(wc) > 1024**2,
                     30, "the upload to start")
    relay.cut()
    assert not upload.done(), "the upload ended before the cut: make it larger"
    assert_outage(await bounded(upload, 10))
    relay.restore()
    # The cut upload made no file, and its temporary goes with its input.
    await wait_until(lambda: temporary_size(wc) == 0, 10, "the temporary to go")
    assert size_in_container(wc, target) == 0
    assert (await wc.put("small.bin", b"y" * 1024)).status == 204
    assert size_in_container(wc, f"{wc.workdir}/small.bin") == 1024
    assert (await api.delete("containers", wc.id)).status == 204


@pytest.mark.security_case(25)
async def test_joined_sockets_are_told_of_an_engine_connection_outage(
    api, docker_client, relay, jp_ws_fetch
):
    container = await api.create(name="joined")
    client = await GatewayClient.connect(jp_ws_fetch)
    try:
        await client.join(container["id"])
        tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await client.ok("fs-operation", {"type": "watch", "path": "/"})
        relay.cut()
        status = await client.push("container-status", timeout=BOUND)
        assert status["containerId"] == container["id"] and status["status"] == "unknown"
        assert status["code"] == "ENGINE_UNAVAILABLE" and "docker_url" in status["message"]
        assert (await client.push("pty-exit", timeout=BOUND))["terminalId"] == tid
        # Requests over the socket answer the outage as an error, within the bound.
        reply = await client.request("fs-operation", {"type": "readdir", "path": "/"},
                                     timeout=BOUND)
        assert reply["event"] == "error" and reply["data"]["code"] == "ENGINE_UNAVAILABLE"
        relay.restore()
        back = await client.push("container-status", timeout=10)
        assert back == {"containerId": container["id"], "status": "running"}
        # A new terminal, a new watch and file operations work on the same socket.
        tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await client.send("pty-input", {"terminalId": tid, "data": "echo again-$((40+2))\n"})
        await client.pty_text(tid, "again-42")
        await client.ok("fs-operation", {"type": "watch", "path": "/"})
        await client.ok("fs-operation", {"type": "writeFile", "path": "w.txt", "contents": "w"})
        change = await client.push("fs-change", lambda d: d["path"].endswith("w.txt"))
        assert change["kind"] in ("add", "change")
    finally:
        client.close()
