"""Large uploads over the agent's lane (engine/lane_upload.py, agent_upload.js): no docker
exec for them, the same checks and answers as the exec's WRITE script, and the same
all-or-nothing replacement: a client gone, a symlink leading out, a lane cut mid-upload
leave the old file as it was and no temporary."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time

import pytest

from jupyter_container_manager.engine.agent import FS, LANE
from tests.engine.test_agent import execs_during
from tests.engine.test_agent_lane import lane_of, manager_of
from tests.rest.test_atomic_writes import (
    OLD_SHA,
    assert_old_intact,
    container_sha,
    prepared,
    raw_put_head,
    temporaries,
    until,
)
from tests.support.helpers import assert_error
from tests.support.webcontainer_support import boot

MIB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def owner_and_mode(wc, path: str) -> str:
    code, out = wc.sh('stat -c "%u:%g %a" -- "$1"', f"{wc.workdir}/{path}")
    assert code == 0, out
    return out.decode().strip()


async def test_a_large_upload_takes_the_lane_not_an_exec(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    lane = agent.lane
    code, _ = wc.sh('cd "$1" && : > made-by-sh && : > kept.bin && chmod 640 kept.bin',
                    wc.workdir)
    assert code == 0
    kept_before = owner_and_mode(wc, "kept.bin")
    new, other = os.urandom(9 * MIB + 123), os.urandom(3 * MIB)
    time.sleep(1.1)  # events have whole seconds
    since = time.time()
    before = lane.requests
    assert (await wc.put("new.bin", new)).status == 204
    assert (await wc.put("kept.bin", other)).status == 204
    # No docker exec for either (nor for their sweep: the first operation made it)...
    assert execs_during(docker_client, wc, since) == 0
    # ...but requests over the lane: open, ten pieces of 1 MiB, commit; then open, three, commit.
    assert lane.requests - before == (1 + 10 + 1) + (1 + 3 + 1)
    assert agent.lane is lane and lane.alive
    assert container_sha(wc, "new.bin") == sha(new)
    assert container_sha(wc, "kept.bin") == sha(other)
    assert (await wc.read("new.bin")).body == new
    # A new file is the user's, as one the user makes; a replaced one keeps mode and owner.
    assert owner_and_mode(wc, "new.bin") == owner_and_mode(wc, "made-by-sh")
    assert owner_and_mode(wc, "kept.bin") == kept_before
    assert temporaries(wc) == []

    # Of unknown size (chunked), as small as it may be: over the lane too.
    async def chunked(write):
        await write(b"small ")
        await write(b"and chunked")

    before = lane.requests
    answer = await api._fetch("webcontainer", wc.id, "fs", "writeFile", method="PUT",
                              params={"path": "chunked.txt"}, body_producer=chunked)
    assert answer.code == 204
    assert lane.requests - before == 3
    assert (await wc.read("chunked.txt")).body == b"small and chunked"


async def test_a_cut_upload_over_the_lane_keeps_the_old_file(
    api, docker_client, jp_serverapp, jp_http_port, jp_base_url, jp_auth_header
):
    manager = manager_of(jp_serverapp)
    wc, rest_before, ls_before = await prepared(api, docker_client)
    lane = (await lane_of(manager, wc)).lane
    before = lane.requests
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(raw_put_head(jp_base_url, jp_http_port, jp_auth_header["Authorization"],
                              wc.id, 64 * MIB))
    for _ in range(8):  # 8 MiB of a 64 MiB body
        writer.write(os.urandom(MIB))
        await writer.drain()
    await until(lambda: temporaries(wc), what="the upload's temporary")
    await until(lambda: lane.requests - before >= 4, what="pieces over the lane")
    writer.close()  # the client goes away mid-body
    await until(lambda: not temporaries(wc), what="the temporary to go")
    await assert_old_intact(wc, rest_before, ls_before, "lane upload cut after 8 MiB")
    assert lane.alive and agent_of(manager, wc).lane is lane  # the lane goes on


def agent_of(manager, wc):
    return manager._agents.running(wc.container.id)


@pytest.fixture(params=["lane", "exec"])
def route(request, manager_config):
    if request.param == "exec":
        manager_config["agent_lane"] = False
    return request.param


async def test_a_symlink_leading_out_is_refused_the_same_way(route, api, docker_client,
                                                             jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client, files={"src": {"directory": {
        "m.js": {"file": {"contents": "m"}}}}})
    code, _ = wc.sh("mkdir -p /outside && echo secret > /outside/secret", user="root")
    assert code == 0
    code, _ = wc.sh(
        "ln -s /outside /workspace/out && ln -s /outside/secret /workspace/secret-link && "
        "ln -s /outside/new /workspace/dangling && ln -s src /workspace/inner-link && "
        "ln -s ../../outside /workspace/src/up"
    )
    assert code == 0
    if route == "lane":
        lane = (await lane_of(manager, wc)).lane
        before = lane.requests
    big = os.urandom(2 * MIB)
    for path in ("out/secret", "secret-link", "dangling", "src/up/secret", "out/new.bin"):
        assert_error(await wc.put(path, big), 403, "EACCES")
    assert_error(await wc.put("src", big), 409, "EISDIR")
    assert_error(await wc.put("missing/x.bin", big), 404, "ENOENT")
    assert_error(await wc.put("src/m.js/x.bin", big), 409, "ENOTDIR")
    if route == "lane":  # each asked over the lane (upload-open), refused there
        assert lane.requests - before == 8
    assert wc.cat("/outside/secret") == b"secret\n"
    assert wc.sh("ls -A /outside")[1] == b"secret\n"
    # A link that stays inside is written through, as by the script.
    assert (await wc.put("inner-link/m.js", big)).status == 204
    assert container_sha(wc, "src/m.js") == sha(big)
    assert wc.sh("test -L /workspace/inner-link")[0] == 0
    assert temporaries(wc) == []


@pytest.mark.parametrize("where", ["server", "container"])
async def test_a_lane_cut_mid_upload_answers_an_error_and_keeps_the_old_file(
    where, api, docker_client, jp_serverapp, jp_http_port, jp_base_url, jp_auth_header
):
    manager = manager_of(jp_serverapp)
    wc, rest_before, ls_before = await prepared(api, docker_client)
    agent = await lane_of(manager, wc)
    lane = agent.lane
    size = 24 * MIB
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(raw_put_head(jp_base_url, jp_http_port, jp_auth_header["Authorization"],
                              wc.id, size))
    chunk = os.urandom(MIB)
    for _ in range(6):
        writer.write(chunk)
        await writer.drain()
    size_of = lambda: int(  # noqa: E731
        wc.sh('stat -c %s "$1"/.jcm-tmp-* 2>/dev/null || echo 0', wc.workdir)[1].split()[0])
    await until(lambda: size_of() >= 2 * MIB, what="MiBs in the temporary")
    if where == "server":
        lane._writer.transport.abort()
    else:  # the agent closes it (as when its socket is cut in the container)
        await agent.request(LANE, {"close": True})
    for _ in range(size // MIB - 6):  # the rest of the body: the server takes it all
        writer.write(chunk)
        await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    body = json.loads(await asyncio.wait_for(reader.readexactly(length), 10))
    writer.close()
    assert int(head.split()[1]) == 500 and body["code"] == "EIO", (head, body)  # no 204
    assert not lane.alive
    await until(lambda: not temporaries(wc), what="the temporary to go")
    assert container_sha(wc, "data.bin") == OLD_SHA
    await assert_old_intact(wc, rest_before, ls_before, f"lane cut by the {where}")
    # The next upload goes on (over a new lane, or the exec's way meanwhile).
    again = os.urandom(2 * MIB)
    assert (await wc.put("data.bin", again)).status == 204
    assert container_sha(wc, "data.bin") == sha(again)


async def test_a_folder_the_user_cannot_write_keeps_the_exec_way(api, docker_client,
                                                                 jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    lane = (await lane_of(manager, wc)).lane
    code, out = wc.sh('mkdir "$1/ro" && echo old > "$1/ro/f.bin" && chmod 555 "$1/ro"',
                      wc.workdir)
    assert code == 0, out
    new = os.urandom(2 * MIB)
    time.sleep(1.1)  # events have whole seconds
    since = time.time()
    before = lane.requests
    # No temporary can be made there: the lane says so (one request), the exec's script
    # writes the file in place, as before.
    assert (await wc.put("ro/f.bin", new)).status == 204
    assert lane.requests - before == 1
    assert execs_during(docker_client, wc, since) == 1
    assert container_sha(wc, "ro/f.bin") == sha(new)
    assert wc.sh('ls -A "$1/ro"', wc.workdir)[1] == b"f.bin\n"


async def test_uploads_are_taken_over_the_lane_only(api, docker_client, jp_serverapp):
    manager = manager_of(jp_serverapp)
    wc = await boot(api, docker_client)
    agent = await lane_of(manager, wc)
    request = {"op": "upload-open", "workdir": wc.workdir, "path": f"{wc.workdir}/x.bin",
               "token": "0123abcd"}
    # Over the exec stream an upload has no connection to belong to: refused.
    reply, _ = await agent.request(FS, request)
    assert reply["code"] == "EINVAL"
    # Over the lane: a token that could name another path is refused too.
    for token in ("../x", "a/b", "", "G" * 8):
        reply, _ = await agent.lane.fs({**request, "token": token})
        assert reply["code"] == "EINVAL", token
    assert temporaries(wc) == [] and wc.sh('ls -A "$1"', wc.workdir)[1] == b""
