"""Metrics from the Python client (``metrics()``, ``on("metrics")``) and the MetricsPanel
widget, on a real server subprocess and the real engine."""

from __future__ import annotations

import threading
import time

from jupyter_container_manager.client import Metrics
from jupyter_container_manager.widgets import MetricsPanel


def test_metrics_read_and_followed(containers):
    wc = containers.boot()
    try:
        wc.run("sh", ["-c", "head -c 3000000 /dev/urandom > blob.bin"])
        now = wc.metrics()
        assert isinstance(now, Metrics)
        assert now.memory_used > 0 and now.memory_limit >= now.memory_used
        assert now.processes >= 1 and now.cpu_percent is not None
        assert now.disk_used is not None and now.disk_used >= 3_000_000  # the blob
        assert containers.metrics(wc.id).memory_limit == now.memory_limit

        seen: list[Metrics] = []
        arrived = threading.Event()

        def got(metrics: Metrics) -> None:
            seen.append(metrics)
            if len(seen) >= 2:
                arrived.set()

        off = wc.on("metrics", got)
        assert arrived.wait(15), seen
        off()
        assert seen[0].time != seen[1].time and seen[1].memory_used > 0
        count = len(seen)
        time.sleep(2.5)  # unsubscribed: the server stops pushing
        assert len(seen) <= count + 1

        panel = MetricsPanel(wc)
        deadline = time.monotonic() + 15
        while not panel.latest and time.monotonic() < deadline:
            time.sleep(0.1)
        assert panel.latest["memory"]["used"] > 0, panel.error
        assert "CPU" in panel._text.value and "Memory" in panel._text.value
        assert panel.refresh().memory_used > 0
        panel.close()
    finally:
        wc.teardown()
