"""Large files stream through the server with bounded memory; size limits answer 413."""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import pytest

from tests.support.helpers import assert_error
from tests.support.webcontainer_support import boot

MIB = 1024 * 1024
SIZE = 96 * MIB


def _pattern(index: int) -> bytes:
    """1 MiB of bytes that differ per chunk (so a lost or repeated chunk shows in the hash)."""
    return hashlib.sha256(str(index).encode()).digest() * (MIB // 32)


@pytest.mark.security_case(22)
@pytest.mark.slow
async def test_large_upload_and_download_stream_with_bounded_memory(api, docker_client):
    wc = await boot(api, docker_client)
    expected = hashlib.sha256()
    for index in range(SIZE // MIB):
        expected.update(_pattern(index))

    async def produce(write):
        for index in range(SIZE // MIB):
            await write(_pattern(index))

    tracemalloc.start()
    try:
        uploaded = await api._fetch(
            "webcontainer",
            wc.id,
            "fs",
            "writeFile",
            method="PUT",
            params={"path": "big.bin"},
            body_producer=produce,
            headers={"Content-Length": str(SIZE)},
            request_timeout=120,
        )
        assert uploaded.code == 204
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        received = hashlib.sha256()
        length = 0

        def consume(chunk: bytes) -> None:
            nonlocal length
            length += len(chunk)
            received.update(chunk)

        downloaded = await api._fetch(
            "webcontainer",
            wc.id,
            "fs",
            "readFile",
            "big.bin",
            streaming_callback=consume,
            request_timeout=120,
        )
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert downloaded.code == 200 and length == SIZE
    assert received.hexdigest() == expected.hexdigest()
    code, out = wc.sh('sha256sum < "$1"', "/workspace/big.bin")
    assert out.split()[0].decode() == expected.hexdigest()
    # Client and server share this process: both stay far below the file's size.
    assert upload_peak < 16 * MIB, upload_peak
    assert download_peak < 16 * MIB, download_peak


@pytest.fixture
def small_limits(manager_config):
    manager_config["max_file_size"] = 1000
    manager_config["max_json_body"] = 4000


@pytest.mark.security_case(22)
async def test_size_limits_answer_413(small_limits, api, docker_client):
    wc = await boot(api, docker_client)
    assert (await wc.put("ok.bin", b"x" * 1000)).status == 204
    assert_error(await wc.put("big.bin", b"x" * 1001), 413)
    assert_error(await wc.write("big.txt", "x" * 1001), 413)
    assert_error(await wc.write("huge.txt", "x" * 5000), 413)

    chunks = iter([b"x" * 600, b"y" * 600])

    async def chunked(write):
        for chunk in chunks:
            await write(chunk)

    answer = await api._fetch(
        "webcontainer",
        wc.id,
        "fs",
        "writeFile",
        method="PUT",
        params={"path": "chunked.bin"},
        body_producer=chunked,
        raise_error=False,
    )
    assert answer.code == 413, answer.body
    assert json.loads(answer.body)["code"] == "EFBIG"

    wc.sh('head -c 2000 /dev/zero > "$1"', "/workspace/grown.bin")
    assert_error(await wc.read("grown.bin"), 413)
