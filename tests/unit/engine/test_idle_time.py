"""parse_docker_time: Docker's State.FinishedAt (nanoseconds, Z) read for the idle reaper."""

from __future__ import annotations

import datetime as dt

from jupyter_container_manager.engine.idle import parse_docker_time


def test_nanoseconds_and_z():
    expected = dt.datetime(2026, 11, 30, 18, 15, 46, 396041, tzinfo=dt.timezone.utc).timestamp()
    assert parse_docker_time("2026-11-30T18:15:46.396041054Z") == expected


def test_whole_seconds_and_offsets():
    base = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp()
    assert parse_docker_time("2026-01-02T03:04:05Z") == base
    assert parse_docker_time("2026-01-02T04:04:05.5+01:00") == base + 0.5


def test_zero_time_and_garbage_are_none():
    assert parse_docker_time("0001-01-01T00:00:00Z") is None
    assert parse_docker_time("") is None
    assert parse_docker_time("yesterday") is None
