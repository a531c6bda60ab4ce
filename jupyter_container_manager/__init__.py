"""jupyter-container-manager: real Docker containers for every Jupyter user."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .app import ContainerManagerApp

    return [{"module": "jupyter_container_manager", "app": ContainerManagerApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-container-manager"}]
