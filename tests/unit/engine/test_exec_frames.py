"""Docker's multiplexed exec stream, read by ExecStream, without an engine: frames fed
into an asyncio StreamReader as the engine would send them, split anywhere."""

from __future__ import annotations

import asyncio
import struct

import pytest

from jupyter_container_manager.engine.docker_backend import _READ_SIZE, STDERR, STDOUT, ExecStream


def frame(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", kind, len(payload)) + payload


def read_all(chunks: list[bytes]) -> list[tuple[int, bytes]]:
    async def run():
        reader = asyncio.StreamReader()
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        stream = ExecStream(None, "exec", reader, None, tty=False)
        frames = []
        while (item := await stream.read()) is not None:
            frames.append(item)
        return frames

    return asyncio.run(run())


def test_consecutive_frames_of_one_stream_are_joined_and_streams_kept_apart():
    wire = frame(STDOUT, b"a") + frame(STDOUT, b"b") + frame(STDERR, b"E") + frame(STDOUT, b"c")
    assert read_all([wire]) == [(STDOUT, b"ab"), (STDERR, b"E"), (STDOUT, b"c")]


@pytest.mark.parametrize("cut", [1, 3, 8, 9, 12, 20])
def test_frames_split_anywhere_arrive_whole(cut):
    wire = frame(STDOUT, b"hello world") + frame(STDERR, b"oops")
    pieces = [wire[i:i + cut] for i in range(0, len(wire), cut)]
    frames = read_all(pieces)
    joined = {STDOUT: b"", STDERR: b""}
    for kind, data in frames:
        joined[kind] += data
    assert joined == {STDOUT: b"hello world", STDERR: b"oops"}
    assert [kind for kind, _ in frames] == sorted(kind for kind, _ in frames)  # order kept


def test_empty_frames_are_skipped_and_a_partial_frame_at_the_end_is_dropped():
    wire = frame(STDOUT, b"") + frame(STDOUT, b"x") + frame(STDERR, b"")
    assert read_all([wire + frame(STDOUT, b"cut off")[:-2]]) == [(STDOUT, b"x")]


def test_joined_chunks_stay_bounded():
    payload = b"z" * 32768
    frames = read_all([frame(STDOUT, payload) * 8])
    assert b"".join(data for _, data in frames) == payload * 8
    assert all(len(data) <= _READ_SIZE for _, data in frames)
    assert len(frames) >= 4
