"""Metrics from one Docker stats reading (core/metrics.py), as ``docker stats`` computes them."""

from __future__ import annotations

from jupyter_container_manager.core.metrics import container_metrics, cpu_percent, memory_used

READING = {
    "read": "2026-01-01T12:00:01Z",
    "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}, "system_cpu_usage": 20_000_000_000,
                  "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000},
                     "system_cpu_usage": 18_000_000_000},
    "memory_stats": {"usage": 100 * 2**20, "limit": 2**30,
                     "stats": {"total_inactive_file": 20 * 2**20}},
    "pids_stats": {"current": 4},
    "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 5}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
}


def test_cpu_is_a_share_of_one_core():
    # 1 s of CPU while the host ran 2 s of CPU time on its 2 cores (1 s): one core busy.
    assert cpu_percent(READING) == 100.0
    first = {**READING, "precpu_stats": {"cpu_usage": {"total_usage": 0}}}
    assert cpu_percent(first) is None  # a stream's first reading has no previous one
    per_cpu = {**READING, "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000,
                                                      "percpu_usage": [1, 2, 3, 4]},
                                        "system_cpu_usage": 20_000_000_000}}
    assert cpu_percent(per_cpu) == 200.0  # cores counted from percpu_usage


def test_memory_leaves_out_inactive_page_cache_v1_and_v2():
    assert memory_used(READING) == 80 * 2**20
    v2 = {"memory_stats": {"usage": 50, "stats": {"inactive_file": 20}}}
    assert memory_used(v2) == 30
    assert memory_used({"memory_stats": {"usage": 50}}) == 50


def test_the_public_shape():
    metrics = container_metrics(READING, cpu_limit=1.5, pids_limit=256, disk_used=None,
                                disk_limit=0)
    assert metrics == {
        "time": "2026-01-01T12:00:01Z",
        "cpu": {"percent": 100.0, "cores": 2, "limit": 1.5},
        "memory": {"used": 80 * 2**20, "limit": 2**30},
        "processes": {"count": 4, "limit": 256},
        "disk": {"used": None, "limit": 0},
        "network": {"rx": 11, "tx": 7},
    }
