"""Workspace: one container's files, terminal, uploads and previews, in tabs."""

from __future__ import annotations

import ipywidgets as w

from ..client import WebContainer
from .files import FileExplorer
from .preview import PreviewLinks
from .terminal import Terminal
from .upload import UploadPanel


class Workspace(w.Tab):
    """Tabs for one container: ``explorer``, ``terminal``, ``uploads``, ``previews``."""

    def __init__(self, container: WebContainer, **kwargs):
        self.container = container
        self.explorer = FileExplorer(container)
        self.terminal = Terminal(container)
        self.uploads = UploadPanel(container)
        self.previews = PreviewLinks(container)
        super().__init__(
            children=[self.explorer, self.terminal, self.uploads, self.previews], **kwargs
        )
        for index, title in enumerate(("Files", "Terminal", "Upload", "Previews")):
            self.set_title(index, title)

    def close(self) -> None:
        for child in (self.explorer, self.terminal, self.uploads, self.previews):
            child.close()
        super().close()
