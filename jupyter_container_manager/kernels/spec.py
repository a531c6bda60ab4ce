"""The kernel spec this package ships, "Python 3 (new container)".

Installed with the wheel as ``share/jupyter/kernels/python3-new-container`` (pyproject's
shared-data), so any Jupyter tool finds it; the server extension also adds the package's
own copy to the server's KernelSpecManager at start (an editable or unusual install
works the same). Its ``kernel_provisioner`` stanza names ``container-provisioner``.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_client.kernelspec import KernelSpec

KERNEL_NAME = "python3-new-container"
PROVISIONER_NAME = "container-provisioner"
SPECS_DIR = Path(__file__).resolve().parent.parent / "kernelspecs"


def kernel_spec() -> KernelSpec:
    """The packaged kernel spec, read from the package."""
    return KernelSpec.from_resource_dir(str(SPECS_DIR / KERNEL_NAME))


def add_to(kernel_spec_manager) -> bool:
    """Make the spec findable by a KernelSpecManager (a server's); False if it already is."""
    if KERNEL_NAME in kernel_spec_manager.find_kernel_specs():
        return False
    kernel_spec_manager.kernel_dirs.append(str(SPECS_DIR))
    return True
