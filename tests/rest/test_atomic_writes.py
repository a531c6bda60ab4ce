"""Atomic writes: a file is replaced all at once, or not at all.

Every write that replaces a file (REST writeFile JSON and raw PUT, socket writeFile,
mount, files at create) writes a temporary beside it and renames it over the file once
the whole body arrived. An upload cut short (client gone, 413, server killed) leaves the
old bytes exactly as they were (checked by sha256) and no name in the folder that was not
there before; readdir and watch never show the temporary; a restarted server removes
the temporaries a crash left behind. All on the real engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import threading
import time

import pytest

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import boot

MIB = 1024 * 1024
OLD = os.urandom(MIB)  # the version a cut upload must not lose
OLD_SHA = hashlib.sha256(OLD).hexdigest()
LS = 'cd "$1" && ls -a -1'
FIND_TEMPORARIES = 'find "$1" -name ".jcm-tmp-*"'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def container_sha(wc, path: str) -> str:
    code, out = wc.sh('sha256sum < "$1"', f"{wc.workdir}/{path}")
    assert code == 0, out
    return out.split()[0].decode()


def listing(wc) -> list[str]:
    """Every name in the workdir as the container sees it (temporaries included)."""
    code, out = wc.sh(LS, wc.workdir)
    assert code == 0, out
    return sorted(out.decode().split("\n"))


def temporaries(wc) -> list[str]:
    return wc.sh(FIND_TEMPORARIES, wc.workdir)[1].decode().split()


async def until(check, timeout: float = 15.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def prepared(api, docker_client):
    """A container whose data.bin holds OLD; its REST listing and `ls -a`."""
    wc = await boot(api, docker_client)
    assert (await wc.put("data.bin", OLD)).status == 204
    assert container_sha(wc, "data.bin") == OLD_SHA
    rest = (await wc.readdir(types=True)).json()
    return wc, rest, listing(wc)


async def assert_old_intact(wc, rest_before, ls_before, label: str):
    read = await wc.read("data.bin")
    assert read.status == 200 and sha(read.body) == OLD_SHA, label
    assert container_sha(wc, "data.bin") == OLD_SHA, label
    assert (await wc.readdir(types=True)).json() == rest_before, label
    assert listing(wc) == ls_before, label
    assert temporaries(wc) == [], label
    print(f"{label}: old sha256 {OLD_SHA}, after {sha(read.body)}")


def raw_put_head(base_url: str, port: int, auth: str, container_id: str, length: int,
                 path: str = "data.bin") -> bytes:
    return (
        f"PUT {base_url}webcontainer/{container_id}/fs/writeFile?path={path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def test_a_raw_put_cut_mid_upload_keeps_the_old_bytes(
    api, docker_client, jp_http_port, jp_base_url, jp_auth_header
):
    wc, rest_before, ls_before = await prepared(api, docker_client)
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(raw_put_head(jp_base_url, jp_http_port, jp_auth_header["Authorization"],
                              wc.id, 64 * MIB))
    new = os.urandom(MIB)
    for _ in range(8):  # 8 MiB of a 64 MiB body
        writer.write(new)
        await writer.drain()

    # Mid-upload: the bytes land in a temporary the API does not show; the file is old.
    def grown():
        return [line for line in listing(wc) if line.startswith(".jcm-tmp-")]

    (temporary,) = await until(grown, what="the upload's temporary")
    size = lambda: int(wc.sh('stat -c %s "$1"', f"{wc.workdir}/{temporary}")[1] or 0)  # noqa: E731
    await until(lambda: size() >= 4 * MIB, what="4 MiB in the temporary")
    assert [e["name"] for e in (await wc.readdir(types=True)).json()] == ["data.bin"]
    assert sha((await wc.read("data.bin")).body) == OLD_SHA
    assert_error(await wc.read(temporary), 403, "EACCES")  # a reserved name

    writer.close()  # the laptop lid closes
    await until(lambda: not temporaries(wc), what="the temporary to go")
    await assert_old_intact(wc, rest_before, ls_before, "raw PUT cut after 8 MiB")


@pytest.fixture
def small_files(manager_config):
    manager_config["max_file_size"] = 2 * MIB


async def test_a_413_mid_stream_keeps_the_old_bytes(small_files, api, docker_client):
    wc, rest_before, ls_before = await prepared(api, docker_client)

    async def chunked(write):  # no Content-Length: refused only past 2 MiB of body
        for _ in range(12):
            await write(os.urandom(256 * 1024))

    answer = await api._fetch(
        "webcontainer", wc.id, "fs", "writeFile", method="PUT",
        params={"path": "data.bin"}, body_producer=chunked, raise_error=False,
    )
    assert answer.code == 413, answer.body
    assert json.loads(answer.body)["code"] == "EFBIG"
    # The 413 answers once the temporary is gone: nothing to wait for.
    await assert_old_intact(wc, rest_before, ls_before, "chunked PUT refused by 413")
    # A refused upload of a new name leaves no empty file there either.
    answer = await api._fetch(
        "webcontainer", wc.id, "fs", "writeFile", method="PUT",
        params={"path": "new.bin"}, body_producer=chunked, raise_error=False,
    )
    assert answer.code == 413
    assert listing(wc) == ls_before
    # Within the limit, the replacement happens, all of it.
    smaller = os.urandom(MIB + 5)
    assert (await wc.put("data.bin", smaller)).status == 204
    assert container_sha(wc, "data.bin") == sha(smaller)
    assert listing(wc) == ls_before


def test_sigkill_of_the_server_mid_upload_then_a_restart_sweeps(docker_client, tmp_path):
    config = {
        "owner": f"test-{RUN_ID}-atomic-kill",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "on_shutdown": "keep",
    }
    server = ServerProcess(config, base=tmp_path)
    server.start()
    try:
        booted = server.request("POST", "webcontainer/boot", json={}).json()
        container_id = booted["containerId"]
        box = docker_client.containers.get(f"jcm-{container_id}")

        def sh(script, *args):
            result = box.exec_run(["sh", "-c", script, "sh", *args])
            return result.exit_code, result.output

        put = server.request("PUT", f"webcontainer/{container_id}/fs/writeFile",
                             params={"path": "data.bin"}, data=OLD)
        assert put.status_code == 204, put.text
        assert server.request("POST", f"webcontainer/{container_id}/fs/mkdir",
                              json={"path": "sub"}).status_code == 204
        rest_before = server.request(
            "GET", f"webcontainer/{container_id}/fs/readdir", params={"withFileTypes": "true"}
        ).json()
        # What an earlier crash left: a temporary an hour old, deeper in the tree.
        code, _ = sh('touch -d "1 hour ago" "$1"', "/workspace/sub/.jcm-tmp-0123abcd-7")
        assert code == 0

        upload = socket.create_connection(("127.0.0.1", server.port))
        upload.sendall(raw_put_head("/", server.port, server.headers["Authorization"],
                                    container_id, 64 * MIB))
        stop = threading.Event()

        def send():
            chunk = os.urandom(MIB)
            try:
                while not stop.is_set():
                    upload.sendall(chunk)
            except OSError:
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        deadline = time.monotonic() + 20
        while True:  # until MiBs of the new version are in a temporary
            out = sh('for f in "$1"/.jcm-tmp-*; do stat -c %s "$f"; done 2>/dev/null',
                     "/workspace")[1].split()
            if out and int(out[0]) >= 4 * MIB:
                break
            assert time.monotonic() < deadline, "the upload did not reach the container"
            time.sleep(0.1)
        server.process.kill()  # SIGKILL mid-upload
        server.process.wait(10)
        stop.set()
        upload.close()
        sender.join(5)
        assert sh('sha256sum < "$1"', "/workspace/data.bin")[1].split()[0].decode() == OLD_SHA

        server.process = None
        server._log.close()
        server.start()  # a new server, same owner
        deadline = time.monotonic() + 30
        while sh('find "$1" -name ".jcm-tmp-*"', "/workspace")[1].strip():
            assert time.monotonic() < deadline, sh("ls -aR /workspace")[1]
            time.sleep(0.2)
        read = server.request("GET", f"webcontainer/{container_id}/fs/readFile/data.bin")
        assert read.status_code == 200 and sha(read.content) == OLD_SHA
        after = server.request(
            "GET", f"webcontainer/{container_id}/fs/readdir", params={"withFileTypes": "true"}
        ).json()
        assert after == rest_before
        assert sh("ls -a /workspace /workspace/sub")[1].decode().split() == [
            "/workspace:", ".", "..", "data.bin", "sub", "/workspace/sub:", ".", "..",
        ]
        print(f"SIGKILL mid-upload: old sha256 {OLD_SHA}, after {sha(read.content)}")
    finally:
        server.stop()


async def _mixed_reads(wc, versions: set[str], writes) -> int:
    """Read data.txt over and over while ``writes`` replaces it; every read must be one
    whole version. How many reads were made."""
    seen = 0
    done = asyncio.ensure_future(writes())
    try:
        while not done.done() or seen == 0:
            read = await wc.read("data.txt")
            assert read.status == 200
            assert sha(read.body) in versions, f"a read of {len(read.body)} bytes mixed versions"
            seen += 1
    finally:
        await done
    return seen


async def test_socket_writefile_and_mount_replace_all_at_once(ws, api, docker_client):
    wc = await boot(api, docker_client)
    versions = [bytes([65 + index]) * (3 * MIB) for index in range(4)]  # AAA..., BBB...
    hashes = {sha(version) for version in versions}
    assert (await wc.put("data.txt", versions[0])).status == 204
    before = listing(wc)
    client = await ws()
    await client.join(wc.id)

    async def by_socket():
        for version in versions[1:] + versions[:1]:
            reply = await client.fs("writeFile", path="data.txt", contents=version.decode())
            assert reply["event"] in ("fs-result", "ok"), reply

    async def by_mount():
        for version in versions[1:] + versions[:1]:
            tree = {"data.txt": {"file": {"contents": version.decode()}}}
            assert (await api.post("webcontainer", wc.id, "mount",
                                   body={"tree": tree})).status == 204

    async def by_json():
        for version in versions[1:]:
            assert (await wc.write("data.txt", version.decode())).status == 204

    for name, writes in (("socket", by_socket), ("mount", by_mount), ("json", by_json)):
        reads = await _mixed_reads(wc, hashes, writes)
        print(f"{name}: {reads} reads during 4 replacements, each one whole version")
        assert listing(wc) == before and temporaries(wc) == []


async def test_mount_replaces_a_symlink_and_keeps_its_target(api, docker_client):
    wc = await boot(api, docker_client, files={"real": {"directory": {
        "f.txt": {"file": {"contents": "target"}}}}})
    wc.sh('ln -s real "$1/link" && ln -s real/f.txt "$1/flink"', wc.workdir)
    tree = {"link": {"file": {"contents": "now a file"}},
            "flink": {"file": {"contents": "also a file"}}}
    assert (await api.post("webcontainer", wc.id, "mount", body={"tree": tree})).status == 204
    assert (await wc.read("link")).body == b"now a file"
    assert (await wc.read("flink")).body == b"also a file"
    assert (await wc.read("real/f.txt")).body == b"target"
    assert wc.sh('ls -a "$1/real"', wc.workdir)[1].split() == [b".", b"..", b"f.txt"]
    # Reserved names are refused in trees and paths.
    bad = {".jcm-tmp-x": {"file": {"contents": "no"}}}
    assert_error(await api.post("webcontainer", wc.id, "mount", body={"tree": bad}), 400, "EINVAL")
    assert_error(await wc.write(".jcm-tmp-x", "no"), 403, "EACCES")
    assert temporaries(wc) == []


async def test_watch_never_reports_the_temporary(
    ws, api, docker_client, jp_http_port, jp_base_url, jp_auth_header
):
    wc = await boot(api, docker_client)
    assert (await wc.put("data.bin", OLD)).status == 204
    client = await ws()
    await client.join(wc.id)
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    # A slow upload: its temporary lives across many watch intervals (0.25 s).
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    new = os.urandom(4 * MIB)
    writer.write(raw_put_head(jp_base_url, jp_http_port, jp_auth_header["Authorization"],
                              wc.id, len(new)))
    for index in range(8):
        writer.write(new[index * MIB // 2:(index + 1) * MIB // 2])
        await writer.drain()
        if index == 0:
            await until(lambda: temporaries(wc), what="the temporary")
        await asyncio.sleep(0.3)
    status = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert status.split()[1] == b"204", status
    change = await client.push("fs-change", lambda d: d["path"] == "/data.bin", timeout=5)
    assert change["kind"] == "change"
    await asyncio.sleep(1.0)  # a few more intervals: nothing else
    changes = client.pushes("fs-change")
    assert changes == [{"path": "/data.bin", "kind": "change"}], changes
    assert container_sha(wc, "data.bin") == sha(new)


async def test_a_container_stopped_mid_upload_keeps_the_old_bytes_and_is_swept_at_start(
    api, docker_client, jp_http_port, jp_base_url, jp_auth_header
):
    wc, rest_before, ls_before = await prepared(api, docker_client)
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(raw_put_head(jp_base_url, jp_http_port, jp_auth_header["Authorization"],
                              wc.id, 64 * MIB))
    chunk = os.urandom(MIB)

    async def send():
        try:
            while True:
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    sender = asyncio.ensure_future(send())
    await until(lambda: any(wc.sh('stat -c %s "$1"/.jcm-tmp-* 2>/dev/null', wc.workdir)[1]
                            .split()), what="the upload's temporary")
    # The stop kills the writing script: nothing of it can remove its temporary.
    assert (await api.post("containers", wc.id, "stop")).status == 200
    sender.cancel()
    writer.close()
    assert (await api.post("containers", wc.id, "start")).status == 200
    # The first use after the start sweeps what the stopped write left.
    assert temporaries(wc), "the stop left no temporary: nothing to sweep"
    assert (await wc.readdir()).status == 200
    await until(lambda: not temporaries(wc), what="the sweep after the start")
    await assert_old_intact(wc, rest_before, ls_before, "container stopped mid-upload")


async def test_a_large_mount_renames_in_batches_and_boot_files_are_in_place(api, docker_client):
    wc = await boot(api, docker_client, files={"kept.txt": {"file": {"contents": "boot"}}})
    assert temporaries(wc) == [] and (await wc.read("kept.txt")).body == b"boot"
    names = [f"{index:04d}-" + "n" * 90 for index in range(1500)]  # ~400 KB of paths
    tree = {"many": {"directory": {name: {"file": {"contents": name}} for name in names}}}
    assert (await api.post("webcontainer", wc.id, "mount", body={"tree": tree})).status == 204
    assert (await wc.readdir("many")).json() == names
    assert (await wc.read(f"many/{names[-1]}")).body == names[-1].encode()
    assert temporaries(wc) == []
