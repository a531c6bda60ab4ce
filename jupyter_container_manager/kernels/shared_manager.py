"""Which ContainerManager a kernel provisioner uses.

In a Jupyter server with this extension, the extension's own manager (its owner, settings,
engine client and container index), found up the provisioner's parent chain: the
KernelManager, then the server's MappingKernelManager, then the ServerApp, whose
``web_app.settings`` hold it. A parent may also carry it as ``container_manager`` (the
warm kernels of ``run-code`` do). Anywhere else (nbclient in a plain Python process), a
manager of the provisioner's own, built from the same configuration
(``c.ContainerManager.*``) and closed with the kernel.
"""

from __future__ import annotations

from typing import Any

from ..base_handler import MANAGER_KEY
from ..manager import ContainerManager

MAX_DEPTH = 8  # a parent chain is a handful of objects long


def find_shared_manager(start: Any) -> ContainerManager | None:
    """The server's ContainerManager above ``start`` in its parent chain, if any."""
    node = start
    for _ in range(MAX_DEPTH):
        if node is None:
            return None
        manager = getattr(node, "container_manager", None)
        if isinstance(manager, ContainerManager):
            return manager
        web_app = getattr(node, "web_app", None)
        settings = getattr(web_app, "settings", None)
        if isinstance(settings, dict) and isinstance(settings.get(MANAGER_KEY), ContainerManager):
            return settings[MANAGER_KEY]
        node = getattr(node, "parent", None)
    return None


def standalone_manager(config: Any, log: Any) -> ContainerManager:
    """A manager of one's own, configured like a server's would be (close it after use)."""
    return ContainerManager(config=config, log=log)
