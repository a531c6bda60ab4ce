"""Where the settings were: ``ContainerManager`` (the settings and the manager) now lives
in ``manager.py``; these names stay importable from here."""

from __future__ import annotations

from .core.sizes import parse_size as parse_memory
from .manager import DEFAULT_IMAGE, ContainerManager

__all__ = ["DEFAULT_IMAGE", "ContainerManager", "parse_memory"]
