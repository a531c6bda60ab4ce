"""Kernel specs of existing containers: "Python 3 (container <name>)".

JupyterLab shows a kernel by the ``display_name`` of the kernel spec its ``name`` names
(the session's ``kernel.name`` looked up in ``GET /api/kernelspecs``; the bare name when
no spec has it). A kernel opened in an existing container (``POST /containers/{id}/kernels``:
the panel's "Open a Notebook in this Container", the client's ``open_kernel``) is therefore
named by a spec of that container, ``python3-container-<id>``, whose display name says
where the code runs. The spec is the packaged one with the container in its provisioner
config, so picked in JupyterLab's kernel selector it starts a kernel in that container too.

The specs are files in a directory of this server (made at start, removed at stop) added
to the server's KernelSpecManager ``kernel_dirs``, as the packaged spec is: one per
container a kernel was opened in, removed with the container.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..core.models import ContainerInfo
from .spec import kernel_spec

PREFIX = "python3-container-"
SETTINGS_KEY = "container_kernel_specs"


def spec_name(container_id: str) -> str:
    """The kernel spec name of a container (public ids are lowercase UUIDs, valid in one)."""
    return f"{PREFIX}{container_id}".lower()


def display_name(info: ContainerInfo) -> str:
    return f"Python 3 (container {info.name or info.id})"


class ContainerKernelSpecs:
    """The per-container kernel specs of one server."""

    def __init__(self, kernel_spec_manager: Any):
        self._dir = Path(tempfile.mkdtemp(prefix="jcm-kernelspecs-"))
        self._kernel_spec_manager = kernel_spec_manager
        kernel_spec_manager.kernel_dirs.append(str(self._dir))

    @property
    def directory(self) -> Path:
        return self._dir

    def add(self, info: ContainerInfo) -> tuple[str, dict]:
        """The container's spec, written if new: ``(name, kernel.json's content)``."""
        name = spec_name(info.id)
        spec = kernel_spec().to_dict()
        spec["display_name"] = display_name(info)
        metadata = dict(spec.get("metadata") or {})
        provisioner = dict(metadata.get("kernel_provisioner") or {})
        provisioner["config"] = {**(provisioner.get("config") or {}), "container_id": info.id}
        metadata["kernel_provisioner"] = provisioner
        metadata["container_id"] = info.id
        spec["metadata"] = metadata
        folder = self._dir / name
        folder.mkdir(exist_ok=True)
        path = folder / "kernel.json"
        written = path.with_suffix(".tmp")
        written.write_text(json.dumps(spec, indent=2))
        written.replace(path)  # a reader never sees half a file
        return name, spec

    def remove(self, container_id: str) -> None:
        """The container is gone: its spec too (a removal hook)."""
        shutil.rmtree(self._dir / spec_name(container_id), ignore_errors=True)

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._kernel_spec_manager.kernel_dirs.remove(str(self._dir))
        shutil.rmtree(self._dir, ignore_errors=True)
