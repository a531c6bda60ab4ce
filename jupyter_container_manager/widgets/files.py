"""FileExplorer: a container's file tree, with an editor to open, save, create and delete."""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Bool, List, Unicode, observe

from ..client import WebContainer
from .base import ActionPanel, button


def join(directory: str, name: str) -> str:
    """A path from the workdir, always starting with ``/``."""
    return posixpath.normpath(posixpath.join("/", directory.strip("/"), name))


class FileExplorer(ActionPanel):
    """The files of one container as a tree (paths from its workdir).

    Selecting a directory opens or closes it; selecting a file opens it in the editor.
    Programmatic triggers: ``refresh()``, ``expand(path)``, ``collapse(path)``,
    ``open(path)`` (or ``open_file``), ``save()``, ``new_file(path)``, ``new_folder(path)``,
    ``delete(path)``. Callbacks: ``on_open``, ``on_save``, ``on_error``.
    """

    entries = List(
        Unicode(),
        help="The visible tree, in display order: paths from the workdir; directories end in '/'.",
    )
    expanded = List(Unicode(), help="Directories shown open (paths from the workdir).")
    selected_path = Unicode(None, allow_none=True, help="The selected file or directory.")
    open_path = Unicode(None, allow_none=True, help="The file open in the editor.")
    contents = Unicode("", help="The editor's text.")
    dirty = Bool(False, help="The editor holds changes not saved yet.")

    def __init__(self, container: WebContainer, *, load: bool = True, **kwargs):
        self.container = container
        self._open_handlers = CallbackDispatcher()
        self._save_handlers = CallbackDispatcher()
        self._quiet = False
        self._loading = False

        self._tree = w.Select(options=[], rows=14, layout=w.Layout(width="100%"))
        self._tree.observe(self._tree_changed, "value")
        self._name = w.Text(placeholder="new name (in the selected folder)",
                            layout=w.Layout(width="18em"))
        self._new_file_button = button("New file", "file")
        self._new_folder_button = button("New folder", "folder")
        self._delete_button = button("Delete", "trash", style="danger")
        self._refresh_button = button("Refresh", "refresh")
        self._new_file_button.on_click(self._on_click(lambda: self.new_file(self._new_path())))
        self._new_folder_button.on_click(
            self._on_click(lambda: self.new_folder(self._new_path()))
        )
        self._delete_button.on_click(self._on_click(lambda: self.delete()))
        self._refresh_button.on_click(self._on_click(self.refresh))

        self._file_label = w.HTML("<i>no file open</i>")
        self._editor = w.Textarea(layout=w.Layout(width="100%", height="18em"), disabled=True)
        self._editor.observe(self._edited, "value")
        self._save_button = button("Save", "save", style="primary")
        self._save_button.on_click(self._on_click(self.save))

        tree_box = w.VBox([
            w.HTML(f"<b>Files</b> <code>{html.escape(container.workdir)}</code>"),
            self._tree,
            w.HBox([self._name, self._new_file_button, self._new_folder_button]),
            w.HBox([self._delete_button, self._refresh_button]),
        ], layout=w.Layout(width="45%"))
        editor_box = w.VBox([w.HBox([self._file_label, self._save_button]), self._editor],
                            layout=w.Layout(width="55%"))
        super().__init__([w.HBox([tree_box, editor_box])], **kwargs)
        self._update_buttons()
        if load:
            self._attempt(self.refresh)

    # --- callbacks ----------------------------------------------------------------------

    def on_open(self, callback: Callable[[str, str], object], remove: bool = False) -> None:
        """Call ``callback(path, text)`` after a file was opened."""
        self._open_handlers.register_callback(callback, remove=remove)

    def on_save(self, callback: Callable[[str], object], remove: bool = False) -> None:
        """Call ``callback(path)`` after a file was saved."""
        self._save_handlers.register_callback(callback, remove=remove)

    # --- triggers -----------------------------------------------------------------------

    def refresh(self) -> list[str]:
        """Read the tree again (the root and every expanded directory)."""
        with self._action():
            entries: list[str] = []
            still_expanded: list[str] = []
            self._walk("/", entries, still_expanded)
            self.expanded = still_expanded
            self.entries = entries
            self.status = f"{len(entries)} item(s) shown"
        return self.entries

    def expand(self, path: str) -> None:
        path = join(path, "")
        if path != "/" and path not in self.expanded:
            self.expanded = [*self.expanded, path]
        self.refresh()

    def collapse(self, path: str) -> None:
        path = join(path, "")
        self.expanded = [p for p in self.expanded if p != path and not p.startswith(path + "/")]
        self.refresh()

    def open(self, path: str | None = None) -> str | None:
        """Open the file ``path`` in the editor (``open_file``). Without a path this is
        ipywidgets' own ``Widget.open``, which opens the widget's comm."""
        if path is None:
            return super().open()
        return self.open_file(path)

    def open_file(self, path: str) -> str:
        """Open a file in the editor; its text (binary files are not shown)."""
        path = join(path, "")
        with self._action():
            data = self.container.fs.read_file(path)
            try:
                text = data.decode("utf-8")
                editable = True
            except UnicodeDecodeError:
                text, editable = "", False
            self._loading = True
            try:
                self.open_path = path
                self.contents = text
                self.dirty = False
            finally:
                self._loading = False
            self._editor.disabled = not editable
            if editable:
                self.status = f"Opened {path} ({len(data)} bytes)"
            else:
                self.status = f"{path} is binary ({len(data)} bytes): not shown"
        self._open_handlers(path, text)
        return text

    def save(self, contents: str | None = None) -> None:
        """Write the editor's text (or ``contents``) to the open file."""
        if self.open_path is None:
            raise ValueError("No file is open")
        if contents is not None:
            self.contents = contents
        with self._action():
            self.container.fs.write_file(self.open_path, self.contents)
            self.dirty = False
            self.status = f"Saved {self.open_path}"
        self._save_handlers(self.open_path)

    def new_file(self, path: str, contents: str = "") -> str:
        """Create a file (its folder must exist) and open it."""
        path = self._checked(path)
        with self._action():
            self.container.fs.write_file(path, contents)
        self._show_parent(path)
        self.open_file(path)
        self.status = f"Created {path}"
        return path

    def new_folder(self, path: str) -> str:
        """Create a folder and show it open."""
        path = self._checked(path)
        with self._action():
            self.container.fs.mkdir(path)
        self._show_parent(path)
        self.expand(path)
        self.status = f"Created {path}/"
        return path

    def delete(self, path: str | None = None) -> None:
        """Delete a file, or a folder with everything in it (default: the selection)."""
        path = join(path or self.selected_path or "", "")
        if path == "/":
            raise ValueError("Select a file or folder to delete")
        with self._action():
            self.container.fs.rm(path, recursive=True)
        if self.open_path and (self.open_path == path or self.open_path.startswith(path + "/")):
            self._close_editor()
        if self.selected_path == path:
            self.selected_path = None
        self.refresh()
        self.status = f"Deleted {path}"

    def select(self, path: str | None) -> None:
        """Select an entry like a click does: a directory toggles, a file opens."""
        if path is None:
            self.selected_path = None
            return
        path = join(path, "")
        if path + "/" in self.entries:
            self.selected_path = path
            self.collapse(path) if path in self.expanded else self.expand(path)
        else:
            self.selected_path = path
            self.open_file(path)

    # --- inner workings -----------------------------------------------------------------

    def _walk(self, directory: str, entries: list[str], still_expanded: list[str]) -> None:
        items = self.container.fs.readdir(directory, with_file_types=True)
        items.sort(key=lambda e: (not e.is_directory(), e.name.lower(), e.name))
        for item in items:
            path = join(directory, item.name)
            if item.is_directory():
                entries.append(path + "/")
                if path in self.expanded:
                    still_expanded.append(path)
                    self._walk(path, entries, still_expanded)
            else:
                entries.append(path)

    def _new_path(self) -> str:
        name = self._name.value.strip()
        if not name:
            raise ValueError("Type a name first")
        self._name.value = ""
        base = self.selected_path or "/"
        if base + "/" not in self.entries:  # a file is selected: its folder
            base = posixpath.dirname(base) or "/"
        return join(base, name)

    def _checked(self, path: str) -> str:
        path = join(path, "")
        if path == "/":
            raise ValueError("A name is needed")
        return path

    def _show_parent(self, path: str) -> None:
        parent = posixpath.dirname(path)
        if parent != "/" and parent not in self.expanded:
            self.expanded = [*self.expanded, parent]
        self.refresh()

    def _close_editor(self) -> None:
        self._loading = True
        try:
            self.open_path = None
            self.contents = ""
            self.dirty = False
        finally:
            self._loading = False
        self._editor.disabled = True

    @observe("entries")
    def _show_entries(self, _change=None) -> None:
        options = []
        for entry in self.entries:
            is_dir = entry.endswith("/")
            path = entry.rstrip("/")
            depth = path.count("/") - 1
            name = posixpath.basename(path)
            mark = ("▾ " if path in self.expanded else "▸ ") if is_dir else "  "
            options.append(("\u2003" * depth + mark + name + ("/" if is_dir else ""), path))
        self._quiet = True
        try:
            self._tree.options = options
            values = {value for _, value in options}
            self._tree.value = self.selected_path if self.selected_path in values else None
        finally:
            self._quiet = False

    def _tree_changed(self, change) -> None:
        if not self._quiet and change["new"] is not None:
            self._attempt(lambda: self.select(change["new"]))

    @observe("contents")
    def _contents_changed(self, change) -> None:
        if self._editor.value != change["new"]:
            self._editor.value = change["new"]
        if not self._loading:
            self.dirty = True

    def _edited(self, change) -> None:
        if self.contents != change["new"]:
            self.contents = change["new"]

    @observe("open_path", "dirty", "busy", "selected_path")
    def _update_buttons(self, _change=None) -> None:
        if self.open_path:
            mark = " •" if self.dirty else ""
            self._file_label.value = f"<code>{html.escape(self.open_path)}</code>{mark}"
        else:
            self._file_label.value = "<i>no file open</i>"
        self._save_button.disabled = self.busy or not self.open_path or not self.dirty
        self._delete_button.disabled = self.busy or not self.selected_path
