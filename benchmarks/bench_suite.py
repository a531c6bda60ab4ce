"""The whole benchmark suite in one run, against one server, each operation beside the raw
docker-py floor measured in the same run (interleaved, so both see the same engine and CPU).

Prints one table (p50, p95, raw p50, ratio, target, reached or missed), writes
``benchmarks/results.json`` and, when matplotlib is installed (``pip install -e ".[bench]"``),
``docs/benchmarks.png`` (ours vs raw p50 per operation).

    .venv/bin/python benchmarks/bench_suite.py [--rounds N] [--quick]

Every container it creates (ours and raw) carries the benchmark label of this run and is
removed by that label at the end, also when a measurement fails.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from bench_containers import create_delete_rounds, warm_boot_rounds
from bench_files import (
    WATCHED_PATHS,
    idle_cpu,
    small_op_rounds,
    stat_rounds,
    watch_latency,
)
from bench_gateway import (
    V2,
    Socket,
    raw_echo,
    raw_socket,
    raw_throughput,
    ws_pty_echo,
    ws_throughput,
)
from bench_webcontainer import KIB, MIB, Ours, file_rounds, spawn_true_rounds
from common import BENCH_LABEL, IMAGE, ROOT, bench_server, percentile, summary, timed

RESULTS = ROOT / "benchmarks" / "results.json"
PLOT = ROOT / "docs" / "benchmarks.png"
READDIR_ENTRIES = 1000
POLLERS = 4


# --- measurements not in the per-area modules ---------------------------------------------


def readdir_rounds(ours: Ours, client, docker_id: str, rounds: int) -> tuple[list, list]:
    """GET fs/readdir of a directory of 1,000 files against ``exec_run ls -1A``."""
    container = client.containers.get(docker_id)
    made = container.exec_run(
        ["sh", "-c", f"mkdir -p many && cd many && seq 1 {READDIR_ENTRIES} | xargs touch"],
        workdir="/workspace")
    assert made.exit_code == 0, made.output

    def ours_readdir() -> None:
        answer = ours.session.get(f"{ours.base}/{ours.cid}/fs/readdir/many", timeout=60)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) == READDIR_ENTRIES

    def raw_readdir() -> None:
        result = container.exec_run(["ls", "-1A", "/workspace/many"])
        assert len(result.output.split()) == READDIR_ENTRIES

    ours_readdir(), raw_readdir()
    ours_s, raw_s = [], []
    for _ in range(rounds):
        ours_s.append(timed(ours_readdir))
        raw_s.append(timed(raw_readdir))
    return ours_s, raw_s


def first_output_rounds(ours: Ours, api, docker_id: str, rounds: int) -> tuple[list, list]:
    """Streamed spawn until its first output line, against exec_create + exec_start until
    the first byte of the raw stream."""

    def ours_first() -> float:
        started = time.perf_counter()
        with ours.session.post(f"{ours.base}/{ours.cid}/spawn", timeout=60, stream=True,
                               json={"command": "echo", "args": ["hi"], "stream": True}) as answer:
            assert answer.status_code == 200, answer.text
            elapsed = None
            for line in answer.iter_lines():
                if elapsed is None and line and b'"output"' in line:
                    elapsed = time.perf_counter() - started
        assert elapsed is not None, "no output line"
        return elapsed

    def raw_first() -> float:
        started = time.perf_counter()
        sock = raw_socket(api, docker_id, ["echo", "hi"], tty=False)
        sock.settimeout(30)
        assert sock.recv(4096)
        elapsed = time.perf_counter() - started
        sock.close()
        return elapsed

    ours_first(), raw_first()
    ours_s, raw_s = [], []
    for _ in range(rounds):
        ours_s.append(ours_first())
        raw_s.append(raw_first())
    return ours_s, raw_s


def gateway_rounds(server, api, rounds: int, keystrokes: int, size: int) -> dict:
    """PTY keystroke echo (pty-open terminal) and WebSocket output throughput, against the
    raw exec tty socket and the raw exec stream (bench_gateway's functions). Output is
    measured on a version 1 socket (JSON text frames) and a version 2 one (binary)."""
    loop = asyncio.new_event_loop()
    out = {"echo": [], "echo_raw": [], "tp": [], "tp_v2": [], "tp_raw": []}
    try:
        sock = loop.run_until_complete(Socket.open(server))
        answer = server.request("POST", "containers", json={"name": "bench-gateway"})
        assert answer.status_code == 201, answer.text
        container = answer.json()
        loop.run_until_complete(sock.request("join-container", {"containerId": container["id"]}))
        sock_v2 = loop.run_until_complete(Socket.open(server, V2))
        loop.run_until_complete(sock_v2.request("join-container",
                                                {"containerId": container["id"]}))
        docker_id = f"jcm-{container['id']}"
        per_round = max(1, keystrokes // rounds)
        for _ in range(rounds):
            out["echo_raw"] += raw_echo(api, docker_id, per_round)
            out["echo"] += loop.run_until_complete(ws_pty_echo(sock, per_round))
            out["tp_raw"].append(raw_throughput(api, docker_id, size))
            out["tp"].append(loop.run_until_complete(ws_throughput(sock, size)))
            out["tp_v2"].append(loop.run_until_complete(ws_throughput(sock_v2, size)))
        sock.connection.close()
        sock_v2.connection.close()
        server.request("DELETE", f"containers/{container['id']}")
    finally:
        loop.close()
    return out


def listing_under_boots(server, client, boots: int) -> tuple[list, list]:
    """GET /containers, timed again and again while ``boots`` boots run concurrently,
    against the raw ``containers.list`` of the owner's containers under the same load."""
    owner = server.manager_config["owner"]
    ids, errors = [], []

    def boot() -> None:
        try:
            answer = server.request("POST", "webcontainer/boot", json={})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["containerId"])
        except Exception as error:  # reported after the join
            errors.append(error)

    threads = [threading.Thread(target=boot) for _ in range(boots)]
    for thread in threads:
        thread.start()

    def ours_list() -> float:
        return timed(lambda: server.request("GET", "containers").raise_for_status())

    def raw_list() -> float:
        return timed(client.containers.list,
                     filters={"label": f"jupyter-container-manager.owner={owner}"})

    # Four pollers (four open panels), each listing again as soon as its last listing
    # answered, ours and raw alternating; more would add their own load to the burst.
    ours_s, raw_s = [], []

    def poll(delay: float) -> None:
        time.sleep(delay)
        while any(thread.is_alive() for thread in threads):
            ours_s.append(ours_list())
            raw_s.append(raw_list())

    with ThreadPoolExecutor(POLLERS) as pool:
        list(pool.map(poll, [n * 0.05 for n in range(POLLERS)]))
    for thread in threads:
        thread.join()
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda cid: server.request("DELETE", f"containers/{cid}"), ids))
    assert not errors, errors
    return ours_s, raw_s


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def rss_with_containers(server, count: int) -> dict:
    """The server's VmRSS with ``count`` containers created through it (and listed)."""
    baseline = vm_rss_mb(server.pid)

    def create(n: int) -> str:
        answer = server.request("POST", "containers", json={"name": f"bench-rss-{n}"})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, range(count)))
    listed = server.request("GET", "containers").json()
    assert len(listed) >= count, len(listed)
    time.sleep(1)
    rss = vm_rss_mb(server.pid)
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda cid: server.request("DELETE", f"containers/{cid}"), ids))
    return {"baseline_mb": baseline, "rss_mb": rss, "containers": count}


# --- rows, table, files --------------------------------------------------------------------


def time_row(name: str, ours: list, raw: list, target: str, passed: bool | None) -> dict:
    o, r = summary(ours), summary(raw)
    return {"operation": name, "unit": "ms", "ours_p50": o["p50"] * 1000,
            "ours_p95": o["p95"] * 1000, "ours_p99": percentile(ours, 99) * 1000,
            "raw_p50": r["p50"] * 1000, "raw_p95": r["p95"] * 1000,
            "ratio": o["p50"] / r["p50"], "n": o["n"], "target": target, "passed": passed}


def throughput_row(name: str, ours: list, raw: list, target: str, min_ratio: float | None) -> dict:
    """``ours`` and ``raw`` in MiB/s per round; p95 is the slow end (5th percentile)."""
    o50, r50 = percentile(ours, 50), percentile(raw, 50)
    ratio = o50 / r50
    return {"operation": name, "unit": "MiB/s", "ours_p50": o50, "ours_p95": percentile(ours, 5),
            "raw_p50": r50, "raw_p95": percentile(raw, 5), "ratio": ratio, "n": len(ours),
            "target": target, "passed": None if min_ratio is None else ratio >= min_ratio}


def print_rows(rows: list[dict]) -> None:
    print(f"{'operation':<34}{'ours p50':>10}{'ours p95':>10}{'raw p50':>10}{'ratio':>7}"
          f"  {'unit':<6}{'target':<30}result")
    for row in rows:
        raw = f"{row['raw_p50']:>10.1f}" if row.get("raw_p50") is not None else f"{'-':>10}"
        ratio = f"{row['ratio']:>7.2f}" if row.get("ratio") is not None else f"{'-':>7}"
        result = {True: "reached", False: "MISSED", None: "-"}[row["passed"]]
        print(f"{row['operation']:<34}{row['ours_p50']:>10.1f}{row['ours_p95']:>10.1f}{raw}"
              f"{ratio}  {row['unit']:<6}{row['target']:<30}{result}")
    print("(ratio = ours / raw docker-py p50, same run; for MiB/s rows higher is better and "
          "p95 is the slow end)")


def plot(rows: list[dict], path: Path, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e \".[bench]\"): no plot")
        return False
    panels = [("ms", "p50 latency, ms (log); xN = ours / raw"),
              ("MiB/s", "p50 throughput, MiB/s; xN = ours / raw")]
    fig, axes = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [3, 1]})
    for axis, (unit, label) in zip(axes, panels, strict=True):
        chosen = [row for row in rows if row["unit"] == unit and row.get("raw_p50")]
        xs = range(len(chosen))
        axis.bar([x - 0.2 for x in xs], [row["ours_p50"] for row in chosen], 0.4,
                 label="jupyter-container-manager", color="#1f77b4")
        axis.bar([x + 0.2 for x in xs], [row["raw_p50"] for row in chosen], 0.4,
                 label="raw docker-py", color="#bbbbbb")
        axis.set_xticks(list(xs))
        axis.set_xticklabels([row["operation"] for row in chosen], rotation=40, ha="right",
                             fontsize=8)
        for x, row in zip(xs, chosen, strict=True):
            axis.annotate(f"x{row['ratio']:.2f}", (x - 0.2, row["ours_p50"]), ha="center",
                          va="bottom", fontsize=7)
        if unit == "ms":
            axis.set_yscale("log")
        axis.set_ylabel(label)
        axis.grid(axis="y", which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def remove_labelled(client, run: str) -> int:
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"{BENCH_LABEL}={run}"}):
        try:
            container.remove(force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- the run -------------------------------------------------------------------------------


GROUPS = ("create", "files", "large", "watch", "spawn", "gateway", "listing", "rss")


def run(rounds: int, quick: bool, only: set[str] | None = None) -> list[dict]:
    """Every row, or those of the groups in ``only`` (GROUPS)."""
    client = docker.from_env()
    api = client.api
    large_rounds = max(3, rounds // 4)
    keystrokes = 30 if quick else 150
    ws_size = (16 if quick else 64) * MIB
    ws_rounds = 2 if quick else 3
    rss_count = 10 if quick else 50
    rows: list[dict] = []

    def want(group: str) -> bool:
        return only is None or group in only

    server = bench_server(warm_pool_size=1)
    label = server.manager_config["extra_labels"][BENCH_LABEL]
    try:
        with server:
            if want("create"):
                step("cold create (POST /containers with a name: not from the pool)")
                cold = create_delete_rounds(server, client, rounds, {"name": "bench-cold"})
                ratio = summary(cold["ours_create"])["p50"] / summary(cold["raw_create"])["p50"]
                step("warm boot (POST /webcontainer/boot from the pool)")
                warm = warm_boot_rounds(server, client, rounds)
                rows.append(time_row("boot, warm (pool)", warm, cold["raw_create"],
                                     "p50 <= 8 ms", summary(warm)["p50"] <= 0.008))
                rows.append(time_row("boot, cold (create until running)", cold["ours_create"],
                                     cold["raw_create"], "<= 1.15x raw create+start",
                                     ratio <= 1.15))
                rows.append(time_row("delete", cold["ours_delete"], cold["raw_delete"], "-", None))

            step("files, readdir, spawn on one WebContainer")
            ours = Ours.boot(server)
            docker_id = client.containers.get(f"jcm-{ours.cid}").id
            status = [timed(ours.session.get, f"{server.url}/api/status", timeout=30)
                      for _ in range(rounds + 1)][1:]
            rows.append(time_row("HTTP floor: GET /api/status", status, status, "-", None)
                        | {"raw_p50": None, "raw_p95": None, "ratio": None})
            floor = summary(status)["p50"]
            if want("files"):
                # The file rows' samples each follow a raw docker exec (their raw side,
                # interleaved): the same floor taken in that rhythm, to read them by.
                box = client.containers.get(docker_id)
                after_exec = []
                for _ in range(rounds):
                    box.exec_run(["true"])
                    after_exec.append(timed(ours.session.get, f"{server.url}/api/status",
                                            timeout=30))
                rows.append(time_row("HTTP floor after a raw exec", after_exec,
                                     after_exec, "-", None)
                            | {"raw_p50": None, "raw_p95": None, "ratio": None})
                # Judged by the floor taken in their own rhythm: a request right after a
                # raw exec costs more, the floor's as much as ours.
                floor = summary(after_exec)["p50"]

            def at_floor(name: str, ours_s: list, raw_s: list, times: int) -> dict:
                """A row whose target is ``times`` the HTTP floor of this run (p50), the
                floor taken after a raw exec as these rows' samples are."""
                return time_row(name, ours_s, raw_s,
                                f"p50 <= {times}x floor ({times * floor * 1000:.1f} ms)",
                                summary(ours_s)["p50"] <= times * floor)

            if want("files"):
                small = file_rounds(ours, client, docker_id, KIB, rounds)
                for key, name in (("w", "writeFile 1 KiB"), ("r", "readFile 1 KiB")):
                    rows.append(at_floor(name, small[f"ours_{key}"], small[f"raw_{key}"], 2))
                ours_s, raw_s = stat_rounds(server, ours.cid, client, docker_id, rounds)
                rows.append(at_floor("stat 1 KiB (socket)", ours_s, raw_s, 2))
                ops = small_op_rounds(ours, client, docker_id, rounds)
                for key, name in (("mkdir", "mkdir"), ("rm", "rm 1 KiB"),
                                  ("rename", "rename 1 KiB")):
                    rows.append(at_floor(name, ops[key], ops[f"raw_{key}"], 2))
            if want("large"):
                large = file_rounds(ours, client, docker_id, 16 * MIB, large_rounds)
                for key, name in (("w", "writeFile 16 MiB"), ("r", "readFile 16 MiB")):
                    rows.append(throughput_row(
                        name, [16 / s for s in large[f"ours_{key}"]],
                        [16 / s for s in large[f"raw_{key}"]], ">= 0.85x raw archive", 0.85))
            if want("files"):
                ours_s, raw_s = readdir_rounds(ours, client, docker_id, rounds)
                rows.append(at_floor(f"readdir {READDIR_ENTRIES:,} entries", ours_s, raw_s, 3))
            if want("watch"):
                step("watch: latency, idle CPU of 20 watched paths")
                latency = watch_latency(server, ours.cid, client, docker_id, rounds * 2)
                rows.append(time_row("watch latency (change to fs-change)", latency, latency,
                                     "p50 <= 50 ms", summary(latency)["p50"] <= 0.050)
                            | {"raw_p50": None, "raw_p95": None, "ratio": None})
                cpu = idle_cpu(server, ours.cid, client, docker_id)
                rows.append({"operation": f"idle CPU, {WATCHED_PATHS} paths watched",
                             "unit": "% CPU",
                             "ours_p50": cpu["watching"], "ours_p95": cpu["watching"],
                             "raw_p50": cpu["idle"], "raw_p95": cpu["idle"], "ratio": None,
                             "n": 1, "target": "about 0 (<= 1% of a CPU)",
                             "passed": cpu["watching"] <= 1.0})
            if want("spawn"):
                ours_s, raw_s = first_output_rounds(ours, api, docker_id, rounds)
                rows.append(time_row("spawn to first output", ours_s, raw_s, "p50 <= 20 ms",
                                     summary(ours_s)["p50"] <= 0.020))
                ours_s, raw_s = spawn_true_rounds(ours, client, docker_id, rounds)
                rows.append(time_row("spawn true, round trip", ours_s, raw_s, "-", None))
            ours.delete()

            if want("gateway"):
                step("gateway: PTY echo and WebSocket output throughput")
                gateway = gateway_rounds(server, api, ws_rounds, keystrokes, ws_size)
                rows.append(time_row("PTY keystroke echo", gateway["echo"], gateway["echo_raw"],
                                     "-", None))
                rows.append(throughput_row(f"WebSocket output v1 ({ws_size // MIB} MiB)",
                                           gateway["tp"], gateway["tp_raw"], "-", None))
                rows.append(throughput_row(f"WebSocket output v2 ({ws_size // MIB} MiB)",
                                           gateway["tp_v2"], gateway["tp_raw"],
                                           ">= 0.8x raw exec stream", 0.8))

            if want("listing"):
                step("GET /containers while 20 boots run")
                ours_s, raw_s = listing_under_boots(server, client, 20)
                p99 = percentile(ours_s, 99)
                row = time_row("GET /containers, 20 boots running", ours_s, raw_s,
                               f"p99 < 100 ms (p99 {p99 * 1000:.0f})", p99 < 0.100)
                rows.append(row)

            if want("rss"):
                step(f"server RSS with {rss_count} containers")
                rss = rss_with_containers(server, rss_count)
                rows.append({"operation": f"server RSS, {rss_count} containers", "unit": "MB",
                             "ours_p50": rss["rss_mb"], "ours_p95": rss["rss_mb"],
                             "raw_p50": None, "ratio": None, "n": 1,
                             "baseline_mb": rss["baseline_mb"],
                             "target": f"< 150 MB (before: {rss['baseline_mb']:.0f})",
                             "passed": rss["rss_mb"] < 150})
    finally:
        removed = remove_labelled(client, label)
        if removed:
            print(f"removed {removed} leftover benchmark containers")
    return rows


def step(text: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {text}", flush=True)


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per operation")
    parser.add_argument("--quick", action="store_true",
                        help="5 rounds (unless --rounds), short gateway runs, 10 containers "
                        "for RSS")
    parser.add_argument("--only", action="append", choices=GROUPS,
                        help="run only these groups of rows (repeatable)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    rounds = args.rounds if not args.quick or "--rounds" in sys.argv else 5
    signal.signal(signal.SIGTERM, interrupted)  # so a kill still removes the containers
    started = time.monotonic()
    rows = run(rounds, args.quick, set(args.only) if args.only else None)
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    title = (f"jupyter-container-manager {git_commit()} vs raw docker-py, {when}, "
             f"{os.cpu_count()} CPUs, {rounds} rounds{' (quick)' if args.quick else ''}")
    print()
    print(title)
    print_rows(rows)
    args.results.write_text(json.dumps({
        "when": when, "commit": git_commit(), "image": IMAGE, "cpus": os.cpu_count(),
        "rounds": rounds, "quick": args.quick, "seconds": round(time.monotonic() - started),
        "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.results}")
    if plot(rows, args.plot, title):
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
