"""The Python client over httpx: files stream both ways with progress (never whole in
memory), and requests share kept-alive connections."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time

import pytest

from jupyter_container_manager.client import FileNotFound

SIZE = 24 * 1024**2 + 3


def test_upload_and_download_stream_with_progress(containers, tmp_path):
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        for _ in range(SIZE // (1024**2)):
            out.write(os.urandom(1024**2))
        out.write(b"end")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    wc = containers.boot()
    try:
        sent_progress: list[tuple[int, int | None]] = []
        lock = threading.Lock()

        def sent(done, total):
            with lock:
                sent_progress.append((done, total))

        assert wc.fs.upload(source, "big.bin", on_progress=sent) == SIZE
        summed = wc.run("sha256sum", ["big.bin"])
        assert summed.exit_code == 0 and summed.output.split()[0] == digest

        received: list[tuple[int, int | None]] = []
        target = tmp_path / "back.bin"
        assert wc.fs.download("big.bin", target, on_progress=lambda d, t: received.append(
            (d, t))) == SIZE
        assert hashlib.sha256(target.read_bytes()).hexdigest() == digest

        buffer = io.BytesIO()
        assert wc.fs.download("big.bin", buffer) == SIZE and buffer.getbuffer().nbytes == SIZE

        time.sleep(0.3)  # the listener thread hands the last progress calls over
        with lock:
            assert len(sent_progress) >= 10 and sent_progress[-1] == (SIZE, SIZE)
            assert [d for d, _ in sent_progress] == sorted(d for d, _ in sent_progress)
        assert len(received) >= 2 and received[-1] == (SIZE, SIZE)

        with pytest.raises(FileNotFound):
            wc.fs.download("missing.bin", tmp_path / "missing.bin")
        assert not (tmp_path / "missing.bin").exists()
        assert not list(tmp_path.glob(".*.part"))
    finally:
        wc.teardown()


def test_requests_share_a_kept_alive_connection(containers):
    wc = containers.boot(files={"a.txt": {"file": {"contents": "A"}}})
    try:
        for _ in range(5):
            assert wc.fs.read_file("a.txt", "utf-8") == "A"
        pool = wc._container._transport._http._transport._pool  # httpx's connection pool
        assert len(pool.connections) == 1, pool.connections
    finally:
        wc.teardown()
