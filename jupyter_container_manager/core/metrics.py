"""A container's live use of the machine, from one reading of the Docker engine's stats
(``GET /containers/{id}/stats``), as ``docker stats`` computes it. Pure.

CPU is the share of one core over the time between this reading and the one before it
(``precpu_stats``): 100 is one core busy, 200 two. Memory is what the container's cgroup
uses less its inactive page cache (as ``docker stats``: cgroup v1 ``total_inactive_file``,
v2 ``inactive_file``); its limit is the container's own, or the machine's when it has
none. Disk is the container's disk quota's use where that is cheap to read (None
elsewhere: see engine/metrics.py).
"""

from __future__ import annotations

from typing import Any


def cpu_percent(stats: dict) -> float | None:
    """CPU use since the previous reading, in percent of one core; None when the reading
    has no previous one (the first of a stream)."""
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    pre_total = (pre.get("cpu_usage") or {}).get("total_usage")
    system, pre_system = cpu.get("system_cpu_usage"), pre.get("system_cpu_usage")
    if total is None or pre_total is None or not system or not pre_system:
        return None
    cpu_delta, system_delta = total - pre_total, system - pre_system
    if system_delta <= 0 or cpu_delta < 0:
        return 0.0
    cores = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage")
                                          or ()) or 1
    return round(cpu_delta / system_delta * cores * 100.0, 2)


def memory_used(stats: dict) -> int:
    memory = stats.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    detail = memory.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):  # cgroup v1, v2
        if key in detail and detail[key] < usage:
            return usage - int(detail[key])
    return usage


def network_bytes(stats: dict) -> tuple[int, int]:
    """Bytes received and sent on every interface, since the container started."""
    rx = tx = 0
    for interface in (stats.get("networks") or {}).values():
        rx += int(interface.get("rx_bytes") or 0)
        tx += int(interface.get("tx_bytes") or 0)
    return rx, tx


def container_metrics(stats: dict, *, cpu_limit: float = 0.0, pids_limit: int = 0,
                      disk_used: int | None = None, disk_limit: int = 0) -> dict[str, Any]:
    """The public metrics of one stats reading (the REST answer, the socket push).
    ``cpu_limit`` in cores and ``pids_limit`` are the container's (0: none)."""
    memory = stats.get("memory_stats") or {}
    cpu = stats.get("cpu_stats") or {}
    rx, tx = network_bytes(stats)
    cores = cpu.get("online_cpus") or 0
    return {
        "time": stats.get("read") or "",
        "cpu": {"percent": cpu_percent(stats), "cores": int(cores),
                "limit": float(cpu_limit)},
        "memory": {"used": memory_used(stats), "limit": int(memory.get("limit") or 0)},
        "processes": {"count": int((stats.get("pids_stats") or {}).get("current") or 0),
                      "limit": int(pids_limit)},
        "disk": {"used": disk_used, "limit": disk_limit},
        "network": {"rx": rx, "tx": tx},
    }
