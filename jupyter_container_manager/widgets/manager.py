"""ContainerManagerWidget: list, create, start, stop and delete your containers."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Instance, List, Unicode, observe

from ..client import ContainerInfo, Containers, Snapshot
from .base import ActionPanel, button


class ContainerManagerWidget(ActionPanel):
    """Your containers (the same ones the panel and the Direct API show).

    Programmatic triggers: ``refresh()``, ``create(name=...)`` (``snapshot=`` starts
    from one), ``select(id)``, ``start()``, ``stop()``, ``delete()``, ``snapshot()``,
    ``fork(count)`` (the last five act on the selected container unless given an id). Callbacks: ``on_create``, ``on_delete``, ``on_select``,
    ``on_error``.
    """

    containers = List(
        Instance(ContainerInfo),
        help="The containers as the last refresh found them (ContainerInfo values).",
    )
    selected = Unicode(None, allow_none=True, help="Id of the selected container, or None.")

    def __init__(self, client: Containers | None = None, *, load: bool = True, **kwargs):
        """``client``: a ``Containers`` connection (found automatically when omitted).
        ``load``: list the containers now."""
        self.client = client or Containers()
        self._create_handlers = CallbackDispatcher()
        self._delete_handlers = CallbackDispatcher()
        self._select_handlers = CallbackDispatcher()
        self._quiet = False

        self._list = w.Select(options=[], rows=6, layout=w.Layout(width="100%"))
        self._list.observe(self._list_changed, "value")
        self._name = w.Text(placeholder="name of a new container", layout=w.Layout(width="16em"))
        self._create_button = button("Create", "plus", style="primary")
        self._start_button = button("Start", "play")
        self._stop_button = button("Stop", "stop")
        self._delete_button = button("Delete", "trash", style="danger")
        self._refresh_button = button("Refresh", "refresh")
        self._snapshot_button = button("Snapshot", "camera")
        self._fork_button = button("Fork", "code-fork")
        self._snapshot_button.on_click(self._on_click(self.snapshot))
        self._fork_button.on_click(self._on_click(self.fork))
        self._create_button.on_click(self._on_click(lambda: self.create(self._name.value or None)))
        self._start_button.on_click(self._on_click(self.start))
        self._stop_button.on_click(self._on_click(self.stop))
        self._delete_button.on_click(self._on_click(self.delete))
        self._refresh_button.on_click(self._on_click(self.refresh))
        toolbar = w.HBox([
            self._name, self._create_button, self._start_button, self._stop_button,
            self._delete_button, self._snapshot_button, self._fork_button,
            self._refresh_button,
        ])
        super().__init__([w.HTML("<b>Containers</b>"), self._list, toolbar], **kwargs)
        self._update_buttons()
        if load:
            self._attempt(self.refresh)

    # --- callbacks ----------------------------------------------------------------------

    def on_create(self, callback: Callable[[ContainerInfo], object], remove: bool = False):
        """Call ``callback(info)`` after a container was created."""
        self._create_handlers.register_callback(callback, remove=remove)

    def on_delete(self, callback: Callable[[str], object], remove: bool = False):
        """Call ``callback(container_id)`` after a container was deleted."""
        self._delete_handlers.register_callback(callback, remove=remove)

    def on_select(self, callback: Callable[[ContainerInfo | None], object], remove: bool = False):
        """Call ``callback(info or None)`` when the selection changes."""
        self._select_handlers.register_callback(callback, remove=remove)

    # --- triggers -----------------------------------------------------------------------

    def refresh(self) -> list[ContainerInfo]:
        """List the containers again."""
        with self._action():
            self.containers = self.client.list()
            self.status = f"{len(self.containers)} container(s)"
        return self.containers

    def create(self, name: str | None = None, **options) -> ContainerInfo:
        """Create and start a container (``options``: image, env, files, ports) and
        select it."""
        with self._action():
            self.status = f"Creating {name or 'a container'}..."
            info = self.client.create(name, **options)
            self.containers = self.client.list()
            self.select(info.id)
            self._name.value = ""
            self.status = f"Created {info.name or info.id} ({info.status})"
        self._create_handlers(info)
        return info

    def delete(self, container_id: str | None = None) -> None:
        """Delete a container (default: the selected one), its files and processes."""
        container_id = self._target(container_id)
        with self._action():
            self.client.delete(container_id)
            if self.selected == container_id:
                self.selected = None
            self.containers = self.client.list()
            self.status = f"Deleted {container_id}"
        self._delete_handlers(container_id)

    def snapshot(self, container_id: str | None = None, name: str | None = None) -> Snapshot:
        """Save a container's file system (default: the selected one); start new
        containers from it with ``create(snapshot=snapshot.id)``."""
        container_id = self._target(container_id)
        with self._action():
            snapshot = self.client.snapshot(container_id, name)
            self.status = f"Snapshot {snapshot.name} ({snapshot.size} bytes)"
        return snapshot

    def fork(self, count: int = 1, container_id: str | None = None) -> list[ContainerInfo]:
        """Start ``count`` copies of a container's file system (default: the selected
        one)."""
        container_id = self._target(container_id)
        with self._action():
            copies = self.client.fork(container_id, count)
            self.containers = self.client.list()
            self.status = f"Forked {len(copies)}: " + ", ".join(c.name for c in copies)
        for info in copies:
            self._create_handlers(info)
        return copies

    def start(self, container_id: str | None = None) -> ContainerInfo:
        return self._lifecycle("start", container_id)

    def stop(self, container_id: str | None = None) -> ContainerInfo:
        return self._lifecycle("stop", container_id)

    def select(self, container_id: str | None) -> None:
        if container_id is not None and container_id not in {c.id for c in self.containers}:
            raise ValueError(f"no container {container_id!r} in the list")
        self.selected = container_id

    def info(self, container_id: str | None = None) -> ContainerInfo | None:
        """The listed ContainerInfo of ``container_id`` (default: the selected one)."""
        wanted = container_id or self.selected
        return next((c for c in self.containers if c.id == wanted), None)

    # --- inner workings -----------------------------------------------------------------

    def _lifecycle(self, action: str, container_id: str | None) -> ContainerInfo:
        container_id = self._target(container_id)
        with self._action():
            info = getattr(self.client, action)(container_id)
            self.containers = self.client.list()
            self.status = f"{info.name or info.id}: {info.status}"
        return info

    def _target(self, container_id: str | None) -> str:
        target = container_id or self.selected
        if not target:
            raise ValueError("Select a container first")
        return target

    @observe("containers")
    def _show_containers(self, _change=None) -> None:
        self._quiet = True
        try:
            self._list.options = [
                (f"{c.name or '(unnamed)'} · {c.status} · {c.id[:8]}", c.id)
                for c in self.containers
            ]
            ids = {c.id for c in self.containers}
            if self.selected not in ids:
                self.selected = None
            self._list.value = self.selected
        finally:
            self._quiet = False
        self._update_buttons()

    def _list_changed(self, change) -> None:
        if not self._quiet:
            self.selected = change["new"]

    @observe("selected")
    def _selection_changed(self, change) -> None:
        if self._list.value != change["new"]:
            self._quiet = True
            try:
                self._list.value = change["new"]
            finally:
                self._quiet = False
        self._update_buttons()
        self._select_handlers(self.info())

    @observe("busy")
    def _update_buttons(self, _change=None) -> None:
        info = self.info()
        self._create_button.disabled = self.busy
        self._refresh_button.disabled = self.busy
        self._delete_button.disabled = self.busy or info is None
        self._snapshot_button.disabled = self.busy or info is None
        self._fork_button.disabled = self.busy or info is None
        self._start_button.disabled = self.busy or info is None or info.status == "running"
        self._stop_button.disabled = self.busy or info is None or info.status != "running"
