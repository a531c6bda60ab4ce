"""Hostile input on the real engine: a fork bomb and a memory hog stay inside
their container, concurrent deletes of one id, ids that are not ours on every REST route,
and paths with invalid UTF-8 or NUL."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import pytest

from jupyter_container_manager.core.models import make_labels
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import Response, assert_error
from tests.support.webcontainer_support import boot

# --- resource abuse ----------------------------------------------------------------------


@pytest.fixture
def small_limits(manager_config):
    manager_config["pids_limit"] = 64
    manager_config["memory_limit"] = "96m"


@pytest.mark.security_case(17)
async def test_fork_bomb_is_contained_and_the_api_answers(small_limits, api, docker_client):
    wc = await boot(api, docker_client)
    bomb = asyncio.ensure_future(wc.spawn("bash", "-c", ":(){ :|:& };:", timeout=6))
    try:
        await asyncio.sleep(1.5)
        stats = await asyncio.to_thread(
            docker_client.api.stats, wc.container.id, stream=False, one_shot=True
        )
        pids = stats["pids_stats"]["current"]
        assert 32 <= pids <= 64, stats["pids_stats"]  # the bomb runs, up to the limit
        for _ in range(5):
            started = time.monotonic()
            answer = await api.get("containers", wc.id)
            assert time.monotonic() - started < 1.0
            assert answer.status == 200 and answer.json()["status"] == "running"
            assert answer.json()["limits"]["pids"] == 64
            await asyncio.sleep(0.3)
    finally:
        result = await asyncio.wait_for(bomb, 30)
    # The spawn answers JSON, not a 500 (its timeout kills the bomb's session, or what
    # of it the kill reaches while it forks); the delete below ends whatever is left.
    assert result.status == 200, result
    assert "exitCode" in result.json()
    started = time.monotonic()
    assert (await api.delete("containers", wc.id)).status == 204
    assert time.monotonic() - started < 30
    assert_error(await api.get("containers", wc.id), 404)
    assert not docker_client.containers.list(all=True, filters={"name": f"jcm-{wc.id}"})


@pytest.mark.security_case(18)
async def test_memory_hog_is_oom_killed_with_137(small_limits, api, docker_client):
    wc = await boot(api, docker_client)
    hog = "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));"
    answer = await asyncio.wait_for(wc.spawn("node", "-e", hog, timeout=25), 40)
    assert answer.status == 200, answer
    assert answer.json()["exitCode"] == 137, answer.json()
    # Only the hog died: the container still runs and answers.
    info = await api.get("containers", wc.id)
    assert info.json()["status"] == "running"
    assert (await wc.spawn("echo", "alive")).json() == {"exitCode": 0, "output": "alive\n"}


# --- concurrent deletes ------------------------------------------------------------------


@pytest.mark.security_case(29)
async def test_concurrent_deletes_of_one_id(api, docker_client):
    """Ten DELETEs of one id, mixed with file operations: exactly one 204, the others 404,
    and the file operations answer JSON (done, or 404/409), never a 500."""
    wc = await boot(api, docker_client, files={"a.txt": {"file": {"contents": "a"}}})
    cid, fs = wc.id, ("webcontainer", wc.id, "fs")
    deletes = [("DELETE", ("containers", cid), {})] * 6
    deletes += [("DELETE", ("webcontainer", cid), {})] * 4
    others = [
        ("POST", (*fs, "writeFile"), {"body": {"path": "b.txt", "contents": "b"}}),
        ("GET", (*fs, "readFile", "a.txt"), {}),
        ("GET", (*fs, "readdir"), {}),
        ("POST", (*fs, "mkdir"), {"body": {"path": "d"}}),
        ("POST", (*fs, "rename"), {"body": {"oldPath": "a.txt", "newPath": "c.txt"}}),
    ]
    mixed = [op for pair in zip(deletes, others * 2, strict=True) for op in pair]
    answers = await asyncio.gather(*(api.request(m, *parts, **kw) for m, parts, kw in mixed))
    statuses = sorted(a.status for (m, _, _), a in zip(mixed, answers) if m == "DELETE")
    assert statuses == [204] + [404] * 9, answers
    for (method, parts, _), answer in zip(mixed, answers, strict=True):
        assert answer.status < 500, (method, parts, answer)
        if answer.status >= 400:
            assert_error(answer, answer.status)
    assert not docker_client.containers.list(all=True, filters={"name": f"jcm-{cid}"})


# --- ids that are not ours ---------------------------------------------------------------


def every_route(cid: str):
    """(method, path parts, keyword arguments) for each REST route that takes an id."""
    wc = ("webcontainer", cid)
    return [
        ("GET", ("containers", cid), {}),
        ("DELETE", ("containers", cid), {}),
        ("POST", ("containers", cid, "start"), {}),
        ("POST", ("containers", cid, "stop"), {}),
        ("POST", ("containers", cid, "restart"), {}),
        ("DELETE", wc, {}),
        ("POST", (*wc, "mount"), {"body": {"tree": {"a": {"file": {"contents": "x"}}}}}),
        ("POST", (*wc, "fs", "writeFile"), {"body": {"path": "a", "contents": "x"}}),
        ("PUT", (*wc, "fs", "writeFile"), {"raw": b"x", "params": {"path": "a"}}),
        ("GET", (*wc, "fs", "readFile", "etc"), {}),
        ("GET", (*wc, "fs", "readdir"), {}),
        ("GET", (*wc, "fs", "readdir", "x"), {}),
        ("POST", (*wc, "fs", "mkdir"), {"body": {"path": "d"}}),
        ("DELETE", (*wc, "fs", "rm"), {"params": {"path": "a", "force": "true"}}),
        ("POST", (*wc, "fs", "rename"), {"body": {"oldPath": "a", "newPath": "b"}}),
        ("POST", (*wc, "spawn"), {"body": {"command": "true"}}),
        ("GET", (*wc, "url"), {"params": {"port": "3000"}}),
        ("GET", (*wc, "export"), {}),
        ("GET", ("containers", cid, "proxy", "3000", ""), {}),
        ("GET", ("containers", cid, "proxy", "absolute", "3000", "x"), {}),
        ("POST", ("containers", cid, "proxy", "3000", "x"), {"body": {}}),
    ]


async def assert_404_everywhere(api, cid: str):
    for method, parts, kwargs in every_route(cid):
        answer = await api.request(method, *parts, **kwargs)
        assert answer.status == 404, (method, parts, answer)
        assert_error(answer, 404)


@pytest.fixture
def strangers_container(docker_client):
    """A running container with all our labels but another owner's."""
    public_id = str(uuid.uuid4())
    labels = make_labels(
        container_id=public_id,
        owner=f"test-{RUN_ID}-stranger",
        name="stranger",
        workdir="/workspace",
        created="2026-01-01T00:00:00Z",
        ports=[],
        extra={RUN_LABEL: RUN_ID},
    )
    container = docker_client.containers.run(
        TEST_IMAGE,
        ["sleep", "300"],
        name=f"jcm-{public_id}",
        labels=labels,
        working_dir="/",
        detach=True,
        cap_drop=["ALL"],
    )
    yield public_id, container
    container.remove(force=True)


@pytest.mark.security_case(4)
async def test_another_owners_ids_are_404_on_every_route(api, strangers_container):
    public_id, container = strangers_container
    for cid in (public_id, container.id, container.id[:12], container.name):
        await assert_404_everywhere(api, cid)
    container.reload()
    assert container.status == "running"
    assert container.exec_run(["test", "-e", "/a"]).exit_code != 0
    assert container.exec_run(["test", "-e", "/workspace/a"]).exit_code != 0


@pytest.mark.security_case(5, 30)
async def test_ids_that_are_not_uuids_are_404_on_every_route(api, docker_client):
    ours = await api.create()
    docker_id = docker_client.containers.get(f"jcm-{ours['id']}").id
    for cid in (
        "nope",
        "..",
        "%2e%2e",
        "jcm-" + ours["id"],
        docker_id,
        docker_id[:12],
        ours["id"].upper(),
        "%00",
        "%FF",
        "a" * 300,
    ):
        await assert_404_everywhere(api, cid)
    assert (await api.get("containers", ours["id"])).status == 200


# --- hostile paths -----------------------------------------------------------------------


@pytest.mark.security_case(10, 30)
async def test_nul_and_bad_unicode_in_paths_are_400(
    api, docker_client, http_server_client, jp_auth_header, jp_base_url
):
    wc = await boot(api, docker_client)
    fs = ("webcontainer", wc.id, "fs")
    for path in ("a\x00b", "\x00", "dir/\x00/x", "\ud800", "a\udcff"):
        bodies = [
            ("writeFile", {"path": path, "contents": "x"}),
            ("mkdir", {"path": path, "recursive": True}),
            ("rename", {"oldPath": path, "newPath": "b"}),
            ("rename", {"oldPath": "b", "newPath": path}),
        ]
        for route, body in bodies:
            answer = await api.post(*fs, route, body=body)
            assert answer.status == 400, (route, body, answer)
            assert_error(answer, 400, code="EINVAL")
        assert_error(
            await api.post("webcontainer", wc.id, "mount", body={"tree": {}, "mountPoint": path}),
            400,
        )
    # Raw bytes in the URL path: NUL and invalid UTF-8, percent-encoded as sent.
    for raw in ("a%00b", "%FF%FE", "ok%C3", "%ED%A0%80"):
        for route in ("readFile", "readdir"):
            url = f"{jp_base_url}webcontainer/{wc.id}/fs/{route}/{raw}"
            answer = Response(
                await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
            )
            assert answer.status == 400, (url, answer)
            assert_error(answer, 400)
    # The same in the query string.
    for raw in (b"a\x00b", b"\xff\xfe", b"ok\xc3"):
        answer = await api.put(*fs, "writeFile", raw=b"x", params={"path": raw})
        assert_error(answer, 400)
        answer = await api.delete(*fs, "rm", params={"path": raw, "force": "true"})
        assert_error(answer, 400)
        answer = await api.get("webcontainer", wc.id, "export", params={"path": raw})
        assert_error(answer, 400)
    # Invalid UTF-8 inside a JSON body is a bad body.
    assert_error(await api.post(*fs, "writeFile", raw=b'{"path": "\xff", "contents": "x"}'), 400)
    # Nothing was written, and the container still works.
    assert (await wc.readdir()).json() == []


@pytest.mark.security_case(4)
async def test_another_owners_ids_cannot_be_joined_on_the_socket(ws, strangers_container):
    public_id, container = strangers_container
    client = await ws()
    for cid in (public_id, container.id, container.id[:12], container.name):
        answer = await client.request("join-container", {"containerId": cid})
        assert answer["event"] == "error", answer
        assert answer["data"]["code"] == "ENOCONTAINER", answer
        # Not joined: nothing reaches that container through this socket.
        listing = await client.fs("readdir", path="/")
        assert listing["event"] == "error" and listing["data"]["code"] == "ENOTJOINED"
        spawned = await client.request(
            "process-operation", {"type": "spawn", "command": "touch", "args": ["/pwned"]}
        )
        assert spawned["event"] == "error", spawned
    assert container.exec_run(["test", "-e", "/pwned"]).exit_code != 0


@pytest.mark.security_case(29)
async def test_operations_racing_a_delete_never_answer_500(api, docker_client):
    # Each round fires the operations with a little jitter, so they meet the delete at
    # different stages (before it, during the kill, after the removal).
    rng = random.Random(9)
    for _ in range(6):
        wc = await boot(api, docker_client)
        fs = ("webcontainer", wc.id, "fs")
        racing = [
            ("DELETE", ("containers", wc.id), {}),
            ("POST", ("containers", wc.id, "stop"), {}),
            ("POST", ("containers", wc.id, "restart"), {}),
            ("POST", ("containers", wc.id, "start"), {}),
            ("GET", ("containers", wc.id), {}),
            ("POST", (*fs, "writeFile"), {"body": {"path": "a", "contents": "x" * 100_000}}),
            ("PUT", (*fs, "writeFile"), {"raw": b"y" * 100_000, "params": {"path": "b"}}),
            ("GET", (*fs, "readdir"), {}),
            ("GET", (*fs, "readFile", "a"), {}),
            ("POST", ("webcontainer", wc.id, "spawn"), {"body": {"command": "true"}}),
            ("GET", ("webcontainer", wc.id, "export"), {}),
        ]

        async def fire(method, parts, kwargs):
            await asyncio.sleep(rng.uniform(0, 0.05))
            return await api.request(method, *parts, **kwargs)

        answers = await asyncio.gather(*(fire(*op) for op in racing))
        for (method, parts, _), answer in zip(racing, answers, strict=True):
            assert answer.status < 500, (method, parts, answer)
            if answer.status >= 400:
                assert_error(answer, answer.status)
        assert answers[0].status == 204
        assert_error(await api.get("containers", wc.id), 404)


# --- a 1 GiB upload ----------------------------------------------------------------------


@pytest.fixture
def upload_limit(manager_config):
    manager_config["max_file_size"] = 64 * 1024**2


@pytest.mark.security_case(22)
async def test_a_1_gib_upload_is_refused_before_its_body(
    upload_limit, api, docker_client, jp_http_port, jp_base_url, jp_auth_header
):
    """A declared Content-Length past max_file_size answers 413 while the client is still
    sending, after a few MB: the body is neither read nor written into the container."""
    wc = await boot(api, docker_client)
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    head = (
        f"PUT {jp_base_url}webcontainer/{wc.id}/fs/writeFile?path=big.bin HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{jp_http_port}\r\n"
        f"Authorization: {jp_auth_header['Authorization']}\r\n"
        f"Content-Length: {1024**3}\r\n\r\n"
    )
    sent = 0

    async def send_slowly():  # 1 MiB every 50 ms: 20 MiB/s at most
        nonlocal sent
        writer.write(head.encode())
        chunk = b"x" * 1024**2
        while True:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
            await asyncio.sleep(0.05)

    started = time.monotonic()
    sender = asyncio.ensure_future(send_slowly())
    try:
        status = await asyncio.wait_for(reader.readline(), 10)
        elapsed = time.monotonic() - started
    finally:
        sender.cancel()
        writer.close()
    assert status.split()[1] == b"413", status
    assert elapsed < 2.0, elapsed
    assert sent < 48 * 1024**2, sent
    print(f"413 after {elapsed * 1000:.0f} ms, {sent / 1024**2:.0f} MiB sent")
    assert wc.container.exec_run(["test", "-e", "/workspace/big.bin"]).exit_code != 0
    assert (await api.get("containers", wc.id)).status == 200
