"""Kernels in containers: the provisioner registered in this process (as the package's
entry point does once installed), the package's own kernel spec, and a kernel config."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from traitlets.config import Config

import jupyter_container_manager
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE

PROVISIONER = "container-provisioner"
SPEC = "python3-new-container"
SPECS_DIR = Path(jupyter_container_manager.__file__).parent / "kernelspecs"


@pytest.fixture(autouse=True)
def registered_provisioner():
    """What ``pip install`` does through the entry point in pyproject.toml."""
    factory = KernelProvisionerFactory.instance()
    factory.provisioners[PROVISIONER] = EntryPoint(
        PROVISIONER, "jupyter_container_manager.kernels.provisioner:ContainerProvisioner",
        "jupyter_client.kernel_provisioners")
    yield


@pytest.fixture
def kernel_specs():
    """A KernelSpecManager that finds the package's kernel spec where the wheel ships it
    from (share/jupyter/kernels/ once installed)."""
    return KernelSpecManager(kernel_dirs=[str(SPECS_DIR)])


@pytest.fixture
def kernel_config(owner, docker_client):
    """Configuration a kernel manager outside a server gets: c.ContainerManager as a
    server's, this test's owner."""
    config = Config()
    config.ContainerManager.owner = owner
    config.ContainerManager.image = TEST_IMAGE
    config.ContainerManager.pull_missing_images = False
    config.ContainerManager.warm_pool_size = 0
    config.ContainerManager.extra_labels = {RUN_LABEL: RUN_ID}
    return config
