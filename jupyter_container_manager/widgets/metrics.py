"""MetricsPanel: a container's CPU, memory, processes and disk, live, with a short history."""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Callable

import ipywidgets as w
from traitlets import Dict

from ..client import Metrics, WebContainer
from .base import ActionPanel, button

HISTORY = 60  # readings kept for the sparklines (about a minute)
_BARS = "▁▂▃▄▅▆▇█"


def human_bytes(count: int | None) -> str:
    if count is None:
        return "?"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def sparkline(values: list[float], top: float) -> str:
    """``values`` as block characters, ``top`` the full height."""
    if not values:
        return ""
    top = top or max(values) or 1.0
    return "".join(_BARS[min(len(_BARS) - 1, max(0, int(v / top * (len(_BARS) - 1) + 0.5)))]
                   for v in values)


class MetricsPanel(ActionPanel):
    """CPU, memory, processes and disk of one container: bars with the latest reading
    and a sparkline of the last minute. ``live=True`` follows the socket's ``metrics``
    pushes (about one a second, one engine stats stream on the server however many
    watch); ``refresh()`` reads once (``GET /containers/{id}/metrics``). ``close()``
    stops following."""

    latest = Dict(help="The latest reading (the REST answer's fields); empty before one.")

    def __init__(self, container: WebContainer, *, live: bool = True, **kwargs):
        self.container = container
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._cpu_history: deque[float] = deque(maxlen=HISTORY)
        self._memory_history: deque[float] = deque(maxlen=HISTORY)
        self._cpu = w.FloatProgress(min=0, max=100, description="CPU",
                                    layout=w.Layout(width="auto"))
        self._memory = w.FloatProgress(min=0, max=100, description="Memory",
                                       layout=w.Layout(width="auto"))
        self._disk = w.FloatProgress(min=0, max=100, description="Disk",
                                     layout=w.Layout(width="auto"))
        self._text = w.HTML("<i>no reading yet</i>")
        refresh = button("Refresh", "refresh")
        refresh.on_click(self._on_click(self.refresh))
        super().__init__([w.HBox([w.HTML("<b>Metrics</b>"), refresh]),
                          self._cpu, self._memory, self._disk, self._text], **kwargs)
        if live:
            self._attempt(self.listen)

    def listen(self) -> None:
        """Follow the container's ``metrics`` pushes (done at construction)."""
        if self._unsubscribe is not None:
            return
        with self._action():
            self._unsubscribe = self.container.on("metrics", self.show)
            self.status = "Live"

    def refresh(self) -> Metrics:
        """Read the metrics now and show them."""
        with self._action():
            metrics = self.container.metrics()
        self.show(metrics)
        return metrics

    def show(self, metrics: Metrics) -> None:
        """Show a reading (called for each push)."""
        with self._lock:
            cpu = metrics.cpu_percent or 0.0
            cores = metrics.cpu_limit or metrics.raw.get("cpu", {}).get("cores") or 1
            self._cpu_history.append(cpu)
            self._memory_history.append(float(metrics.memory_used))
            self._cpu.max = 100.0 * cores
            self._cpu.value = min(cpu, self._cpu.max)
            self._memory.value = metrics.memory_percent or 0.0
            if metrics.disk_limit and metrics.disk_used is not None:
                self._disk.value = min(100.0, 100.0 * metrics.disk_used / metrics.disk_limit)
            disk = human_bytes(metrics.disk_used) + (
                f" of {human_bytes(metrics.disk_limit)}" if metrics.disk_limit else "")
            processes = f"{metrics.processes}" + (
                f" of {metrics.processes_limit}" if metrics.processes_limit else "")
            lines = [
                f"CPU {cpu:.1f}% {sparkline(list(self._cpu_history), self._cpu.max)}",
                f"Memory {human_bytes(metrics.memory_used)} of "
                f"{human_bytes(metrics.memory_limit)} "
                f"{sparkline(list(self._memory_history), float(metrics.memory_limit))}",
                f"Processes {processes}",
                f"Disk {disk}",
                f"Network ↓ {human_bytes(metrics.network_rx)} ↑ {human_bytes(metrics.network_tx)}",
            ]
            self._text.value = "<br>".join(
                f"<span style='font-family: var(--jp-code-font-family, monospace)'>"
                f"{html.escape(line)}</span>" for line in lines)
            self.latest = dict(metrics.raw)

    def close(self) -> None:
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            unsubscribe()
        super().close()
