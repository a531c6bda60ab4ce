"""Shared pieces of the benchmarks: a real server subprocess, timing and the table."""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ServerProcess  # noqa: E402

IMAGE = "jupyter-container-manager/node:24"
BENCH_LABEL = "jupyter-container-manager.benchmark"


def bench_server(**settings) -> ServerProcess:
    """A jupyter server with the extension and a benchmark-only owner."""
    run = uuid.uuid4().hex[:8]
    config = {"owner": f"bench-{run}", "image": IMAGE, "pull_missing_images": False,
              "max_containers_per_user": 0, "extra_labels": {BENCH_LABEL: run}, **settings}
    return ServerProcess(config)


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict:
    return {"p50": percentile(samples, 50), "p95": percentile(samples, 95),
            "mean": statistics.fmean(samples), "n": len(samples)}


def print_table(rows: list[tuple[str, dict, dict]], unit: str = "ms") -> None:
    """rows: (operation, ours, raw) summaries in seconds; prints p50/p95 and the ratio."""
    scale = 1000 if unit == "ms" else 1
    print(f"{'operation':<28}{'ours p50':>10}{'ours p95':>10}{'raw p50':>10}{'raw p95':>10}{'ratio p50':>11}")
    for name, ours, raw in rows:
        print(f"{name:<28}{ours['p50'] * scale:>10.1f}{ours['p95'] * scale:>10.1f}"
              f"{raw['p50'] * scale:>10.1f}{raw['p95'] * scale:>10.1f}{ours['p50'] / raw['p50']:>11.2f}")
    print(f"(times in {unit}; ratio = ours / raw docker-py, lower is better)")
