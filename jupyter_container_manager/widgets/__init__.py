"""ipywidgets for jupyter-container-manager, built from stock widgets (no custom front end).

Each widget talks to the server through ``jupyter_container_manager.client`` only, so a
notebook sees the same containers as the JupyterLab panel::

    from jupyter_container_manager.widgets import ContainerManagerWidget
    ContainerManagerWidget()
"""

from .files import FileExplorer
from .manager import ContainerManagerWidget
from .metrics import MetricsPanel
from .preview import PreviewLinks
from .terminal import Terminal
from .upload import UploadPanel
from .workspace import Workspace

__all__ = [
    "ContainerManagerWidget",
    "FileExplorer",
    "MetricsPanel",
    "PreviewLinks",
    "Terminal",
    "UploadPanel",
    "Workspace",
]
