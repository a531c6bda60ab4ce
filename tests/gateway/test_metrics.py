"""Live metrics on the real engine: ``GET /containers/{id}/metrics`` reads what a busy
process costs; the socket's ``metrics`` pushes reach every subscriber of a joined
container from ONE engine stats stream, which ends when the last subscriber goes."""

from __future__ import annotations

import asyncio

from jupyter_container_manager.base_handler import MANAGER_KEY, ROOMS_KEY
from tests.support.helpers import assert_error

BUSY = ["sh", "-c", "while :; do :; done"]


async def test_rest_metrics_of_a_busy_container(api, ws):
    info = await api.create()
    cid = info["id"]
    sock = await ws()
    await sock.join(cid)
    # A process that keeps one core busy, spawned on the socket (it ends with the socket).
    await sock.request("process-operation", {"type": "spawn", "command": BUSY[0],
                                             "args": BUSY[1:]})
    await asyncio.sleep(0.5)
    answer = await api.get("containers", cid, "metrics")
    assert answer.status == 200, answer
    metrics = answer.json()
    assert metrics["containerId"] == cid
    assert metrics["cpu"]["percent"] > 30, metrics  # about 100: one core
    assert metrics["cpu"]["cores"] >= 1
    assert 0 < metrics["memory"]["used"] <= metrics["memory"]["limit"], metrics
    assert metrics["processes"]["count"] >= 2, metrics  # init and the loop at least
    assert metrics["disk"]["used"] is not None and metrics["disk"]["used"] >= 0, metrics
    assert set(metrics["network"]) == {"rx", "tx"}
    assert answer.headers["Cache-Control"] == "no-store"

    assert_error(await api.get("containers", "no-such-id", "metrics"), 404, "ENOCONTAINER")
    assert (await api.post("containers", cid, "stop")).status == 200
    assert_error(await api.get("containers", cid, "metrics"), 409, "ENOTRUNNING")


async def test_socket_pushes_from_one_stream_per_container(api, ws, jp_serverapp):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    rooms = jp_serverapp.web_app.settings[ROOMS_KEY]
    streams = []
    real_stats = manager._backend.stats

    def counting_stats(ref, *, stream=True):  # counts the engine stats streams opened
        if stream:
            streams.append(ref)
        return real_stats(ref, stream=stream)

    manager._backend.stats = counting_stats
    try:
        cid = (await api.create())["id"]
        first, second, bystander = await ws(), await ws(), await ws()
        await first.request("join-container", {"containerId": cid, "metrics": True})
        await second.join(cid)
        await second.ok("metrics-subscribe", {"on": True})
        await bystander.join(cid)  # joined, not subscribed: no pushes

        pushes = []
        for sock in (first, second):
            pushed = await sock.push("metrics", timeout=15)
            assert pushed["containerId"] == cid
            assert isinstance(pushed["cpu"]["percent"], (int, float))
            assert pushed["memory"]["used"] > 0 and pushed["processes"]["count"] >= 1
            pushes.append(pushed)
        await first.push("metrics", lambda d: d["time"] != pushes[0]["time"], timeout=5)
        assert len(streams) == 1, streams  # two subscribers, one engine stream
        assert not bystander.pushes("metrics")

        room = rooms.live_room(cid)
        await first.ok("metrics-subscribe", {"on": False})
        assert room.metrics is not None  # the second still subscribes
        second.close()
        for _ in range(50):
            if room.metrics is None:
                break
            await asyncio.sleep(0.05)
        assert room.metrics is None, "the stream outlived its last subscriber"
        assert len(streams) == 1
    finally:
        manager._backend.stats = real_stats
