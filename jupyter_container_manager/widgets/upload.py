"""UploadPanel: files from the browser (``FileUpload``) into a container folder."""

from __future__ import annotations

import html
import io
import posixpath
from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Float, List, Unicode, observe

from ..client import WebContainer
from .base import ActionPanel, button


class UploadPanel(ActionPanel):
    """Pick files in the browser; they are written, as bytes, into ``directory``.

    Programmatic trigger: ``upload(name, data)``; callbacks: ``on_upload`` and
    ``on_error``.
    """

    directory = Unicode("/", help="Folder (from the workdir) the files go to.")
    uploaded = List(Unicode(), help="Paths written so far, oldest first.")
    progress = Float(0.0, help="How much of the file being uploaded has been sent (0 to 1).")

    def __init__(self, container: WebContainer, directory: str = "/", **kwargs):
        self.container = container
        self._upload_handlers = CallbackDispatcher()
        self._picker = w.FileUpload(multiple=True, description="Upload")
        self._picker.observe(self._picked, "value")
        self._folder = w.Text(value=directory, description="to folder",
                              layout=w.Layout(width="24em"))
        self._folder.observe(self._folder_changed, "value")
        self._list = w.HTML()
        self._bar = w.FloatProgress(min=0.0, max=1.0, description="sent",
                                    layout=w.Layout(width="24em", visibility="hidden"))
        self._clear_button = button("Clear list", "eraser")
        self._clear_button.on_click(lambda _b: setattr(self, "uploaded", []))
        super().__init__(
            [w.HBox([self._picker, self._folder, self._clear_button]), self._bar, self._list],
            **kwargs
        )
        self.directory = directory

    def on_upload(self, callback: Callable[[str, int], object], remove: bool = False) -> None:
        """Call ``callback(path, size)`` after each file was written."""
        self._upload_handlers.register_callback(callback, remove=remove)

    def upload(self, name: str, data: bytes, directory: str | None = None) -> str:
        """Write ``data`` as ``name`` into ``directory`` (default: the panel's folder);
        the folder is created when missing. Returns the path written."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"Not a file name: {name!r}")
        folder = posixpath.normpath(posixpath.join("/", (directory or self.directory).strip("/")))
        path = posixpath.join(folder, name)
        with self._action():
            if folder != "/":
                self.container.fs.mkdir(folder, recursive=True)
            self.progress = 0.0
            self._bar.layout.visibility = "visible"
            self.container.fs.upload(io.BytesIO(bytes(data)), path,
                                     on_progress=self._sent)  # streamed, a chunk at a time
            self.progress = 1.0
            self.uploaded = [*self.uploaded, path]
            self.status = f"Uploaded {path} ({len(data)} bytes)"
        self._upload_handlers(path, len(data))
        return path

    def _sent(self, done: int, total: int | None) -> None:
        if total:
            self.progress = max(self.progress, done / total)

    @observe("progress")
    def _show_progress(self, change) -> None:
        self._bar.value = change["new"]

    def _picked(self, change) -> None:
        files = change["new"]
        if not files:
            return

        def upload_all() -> None:  # stops at the first failure, which stays shown
            for item in files:
                self.upload(item["name"], bytes(item["content"]))

        try:
            self._attempt(upload_all)
        finally:
            self._picker.value = ()

    def _folder_changed(self, change) -> None:
        self.directory = change["new"] or "/"

    @observe("directory")
    def _show_directory(self, change) -> None:
        if self._folder.value != change["new"]:
            self._folder.value = change["new"]

    @observe("uploaded")
    def _show_uploaded(self, _change=None) -> None:
        items = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in self.uploaded[-20:])
        self._list.value = f"<ul>{items}</ul>" if items else ""
