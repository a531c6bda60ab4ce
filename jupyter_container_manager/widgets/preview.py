"""PreviewLinks: a link per server listening in the container, as it starts listening."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Dict, observe

from ..client import WebContainer
from .base import ActionPanel, button


class PreviewLinks(ActionPanel):
    """Links to the previews of the container's servers (through the Jupyter proxy).

    ``server-ready`` and ``port`` pushes add and remove links as servers start and stop;
    ``refresh()`` reads the ports the container lists now. Callbacks: ``on_ready``
    (port, url) and ``on_error``. ``close()`` stops listening.
    """

    links = Dict(
        help="Open ports and their preview URLs ({port: url}; paths from the server root)."
    )

    def __init__(self, container: WebContainer, *, listen: bool = True, **kwargs):
        self.container = container
        self._ready_handlers = CallbackDispatcher()
        self._lock = threading.Lock()
        self._unsubscribe: list[Callable[[], None]] = []
        self._view = w.HTML("<i>no server listening yet</i>")
        self._refresh_button = button("Refresh", "refresh")
        self._refresh_button.on_click(self._on_click(self.refresh))
        super().__init__(
            [w.HBox([w.HTML("<b>Previews</b>"), self._refresh_button]), self._view], **kwargs
        )
        if listen:
            self._attempt(self.listen)

    def on_ready(self, callback: Callable[[int, str], object], remove: bool = False) -> None:
        """Call ``callback(port, url)`` when a server in the container becomes ready."""
        self._ready_handlers.register_callback(callback, remove=remove)

    def listen(self) -> None:
        """Follow ``server-ready`` and ``port`` pushes (done at construction)."""
        if self._unsubscribe:
            return
        with self._action():
            self._unsubscribe = [
                self.container.on("server-ready", self.add),
                self.container.on("port", self._port_changed),
            ]
            self.status = "Waiting for servers in the container"

    def refresh(self) -> dict:
        """The ports the container lists now, with their preview URLs."""
        with self._action():
            info = self.container.info()
            with self._lock:
                self.links = {p.port: p.url for p in info.ports}
            self.status = f"{len(self.links)} port(s)"
        return self.links

    def add(self, port: int, url: str) -> None:
        """Show a link (what a ``server-ready`` push does)."""
        with self._lock:
            if self.links.get(port) != url:
                self.links = {**self.links, port: url}
        self.status = f"Server ready on port {port}"
        self._ready_handlers(port, url)

    def remove(self, port: int) -> None:
        """Drop a link (what a ``port`` push of type ``close`` does)."""
        with self._lock:
            if port in self.links:
                self.links = {p: u for p, u in self.links.items() if p != port}

    def close(self) -> None:
        """Stop following pushes; the links stay as they are."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        super().close()

    def _port_changed(self, port: int, kind: str, url: str) -> None:
        if kind == "close":
            self.remove(port)
        elif kind == "open" and url:
            with self._lock:
                if port not in self.links:
                    self.links = {**self.links, port: url}

    @observe("links")
    def _show_links(self, _change=None) -> None:
        if not self.links:
            self._view.value = "<i>no server listening yet</i>"
            return
        items = "".join(
            f'<li><a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">'
            f"port {port}</a> <code>{html.escape(url)}</code></li>"
            for port, url in sorted(self.links.items())
        )
        self._view.value = f"<ul>{items}</ul>"
