"""Small file operations and watching, through a real Jupyter server:

- stat (socket fs-operation), mkdir, rm and rename (REST) of a 1 KiB file, each beside the
  ``exec_run`` of the same tool (stat, mkdir, rm, mv) in the same run;
- watch latency: from a file made by a process in the container (its name is the time it
  was made, on the clock container and host share) to its fs-change on the socket;
- idle CPU: the container's CPU time (cgroup, Docker stats) while 20 paths are watched and
  nothing changes, a 10,000-file node_modules included, beside the same container before
  any watch.
"""

from __future__ import annotations

import asyncio
import time

from bench_gateway import Socket
from bench_webcontainer import KIB, Ours
from common import timed

WATCHED_PATHS = 20
NODE_MODULES_FILES = 10_000
CPU_WINDOW = 10.0  # seconds of CPU time measured, idle and watching

WRITER = """
const fs = require('fs');
const [dir, count, gap] = process.argv.slice(1);
let n = 0;
const tick = () => {
  const now = (performance.timeOrigin + performance.now()).toFixed(3);
  fs.writeFileSync(dir + '/' + now, 'x');
  if (++n < Number(count)) setTimeout(tick, Number(gap));
};
setTimeout(tick, Number(gap));
"""


def _run(coroutine):
    """Run on a loop of its own (asyncio.run would leave the suite's thread without one)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def small_op_rounds(ours: Ours, client, docker_id: str, rounds: int) -> dict:
    """mkdir, rm and rename of 1 KiB files (REST), ours and raw interleaved."""
    box = client.containers.get(docker_id)
    data = b"x" * KIB
    session, base = ours.session, f"{ours.base}/{ours.cid}/fs"
    out = {key: [] for key in ("mkdir", "raw_mkdir", "rm", "raw_rm", "rename", "raw_rename")}

    def check(answer, status=204):
        assert answer.status_code == status, answer.text

    def raw(*argv):
        assert box.exec_run(list(argv)).exit_code == 0

    for n in range(rounds + 1):
        ours.write(f"rm-{n}.bin", data)
        ours.write(f"mv-{n}.bin", data)
        raw("sh", "-c", f"head -c {KIB} /dev/zero > /workspace/raw-rm-{n}.bin && "
            f"cp /workspace/raw-rm-{n}.bin /workspace/raw-mv-{n}.bin")
    samples = []
    for n in range(rounds + 1):
        samples.append((
            timed(lambda: check(session.post(f"{base}/mkdir", json={"path": f"dir-{n}"}))),
            timed(raw, "mkdir", f"/workspace/raw-dir-{n}"),
            timed(lambda: check(session.delete(f"{base}/rm", params={"path": f"rm-{n}.bin"}))),
            timed(raw, "rm", f"/workspace/raw-rm-{n}.bin"),
            timed(lambda: check(session.post(f"{base}/rename", json={
                "oldPath": f"mv-{n}.bin", "newPath": f"moved-{n}.bin"}))),
            timed(raw, "mv", f"/workspace/raw-mv-{n}.bin", f"/workspace/raw-moved-{n}.bin"),
        ))
    for row in samples[1:]:  # the first round warms up
        for key, value in zip(out, row, strict=True):
            out[key].append(value)
    return out


async def _stat_rounds(server, cid: str, client, docker_id: str, rounds: int) -> tuple:
    box = client.containers.get(docker_id)
    sock = await Socket.open(server)
    try:
        await sock.request("join-container", {"containerId": cid})
        ours_s, raw_s = [], []
        for n in range(rounds + 1):
            started = time.perf_counter()
            result = await sock.request("fs-operation", {"type": "stat", "path": "ours.bin"})
            elapsed = time.perf_counter() - started
            assert result["result"]["type"] == "file", result
            raw_elapsed = timed(lambda: box.exec_run(["stat", "/workspace/ours.bin"]))
            if n:
                ours_s.append(elapsed)
                raw_s.append(raw_elapsed)
        return ours_s, raw_s
    finally:
        sock.connection.close()


def stat_rounds(server, cid: str, client, docker_id: str, rounds: int) -> tuple[list, list]:
    """stat over the socket (fs-operation) against ``exec_run stat``."""
    return _run(_stat_rounds(server, cid, client, docker_id, rounds))


async def _watch_latency(server, cid: str, client, docker_id: str, count: int) -> list[float]:
    box = client.containers.get(docker_id)
    box.exec_run(["mkdir", "-p", "/workspace/latency"])
    sock = await Socket.open(server)
    try:
        await sock.request("join-container", {"containerId": cid})
        await sock.request("fs-operation", {"type": "watch", "path": "/latency"})
        box.exec_run(["node", "-e", WRITER, "/workspace/latency", str(count), "150"],
                     detach=True)
        samples = []
        while len(samples) < count:
            frame = await sock.frame()
            if frame.get("event") != "fs-change" or frame["data"]["kind"] != "add":
                continue
            seen = time.time() * 1000
            made = float(frame["data"]["path"].rsplit("/", 1)[-1])
            samples.append((seen - made) / 1000)
        await sock.request("fs-operation", {"type": "unwatch", "path": "/latency"})
        return samples
    finally:
        sock.connection.close()


def watch_latency(server, cid: str, client, docker_id: str, count: int) -> list[float]:
    """Seconds from a file made in the container to its fs-change on the socket."""
    return _run(_watch_latency(server, cid, client, docker_id, count))


def _cpu_seconds(client, docker_id: str) -> float:
    stats = client.api.stats(docker_id, stream=False)
    return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9


async def _idle_cpu(server, cid: str, client, docker_id: str) -> dict:
    box = client.containers.get(docker_id)
    made = box.exec_run(["sh", "-c", (
        f"cd /workspace && mkdir -p node_modules/pkg && cd node_modules/pkg && "
        f"seq 1 {NODE_MODULES_FILES} | xargs touch && cd /workspace && "
        f"for i in $(seq 1 {WATCHED_PATHS}); do mkdir -p w$i/src && touch w$i/src/a.js; done")])
    assert made.exit_code == 0, made.output
    await asyncio.sleep(1.0)
    before = _cpu_seconds(client, docker_id)
    await asyncio.sleep(CPU_WINDOW)
    idle = (_cpu_seconds(client, docker_id) - before) / CPU_WINDOW
    sock = await Socket.open(server)
    try:
        await sock.request("join-container", {"containerId": cid})
        paths = ["/"] + [f"/w{i}" for i in range(1, WATCHED_PATHS)]
        for path in paths:
            await sock.request("fs-operation", {"type": "watch", "path": path})
        await asyncio.sleep(1.0)
        before = _cpu_seconds(client, docker_id)
        await asyncio.sleep(CPU_WINDOW)
        watching = (_cpu_seconds(client, docker_id) - before) / CPU_WINDOW
        for path in paths:
            await sock.request("fs-operation", {"type": "unwatch", "path": path})
    finally:
        sock.connection.close()
    return {"idle": idle * 100, "watching": watching * 100}


def idle_cpu(server, cid: str, client, docker_id: str) -> dict:
    """The container's CPU use in % of one CPU: idle, then while 20 paths are watched."""
    return _run(_idle_cpu(server, cid, client, docker_id))
