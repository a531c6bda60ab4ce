"""A notebook executed end to end with nbclient on the "Python 3 (new container)" kernel:
its code runs in the container (the files it writes are there), and a matplotlib figure
comes back as a PNG like from any kernel."""

from __future__ import annotations

import base64

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from jupyter_container_manager.core.models import LABEL_OWNER

from .conftest import SPEC

pytestmark = pytest.mark.slow

CELLS = [
    "import os, socket\nprint(os.getcwd(), socket.gethostname())",
    "with open('written-by-the-notebook.txt', 'w') as f:\n    f.write('from the kernel')",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()",
    "from IPython.display import HTML\nHTML('<b>rich</b>')",
]


async def test_a_notebook_runs_in_its_container(kernel_specs, kernel_config, docker_client):
    kernel_config.ContainerProvisioner.keep_container = True  # to look inside afterwards
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": SPEC, "display_name": "Python 3 (new container)",
                                       "language": "python"}
    km = AsyncKernelManager(kernel_name=SPEC, kernel_spec_manager=kernel_specs,
                            config=kernel_config)
    client = NotebookClient(notebook, km=km, timeout=120, kernel_name=SPEC)
    try:
        await client.async_execute()
    finally:
        if km.has_kernel:  # nbclient leaves a kernel manager it was given running
            await km.shutdown_kernel()
    owner = kernel_config.ContainerManager.owner
    (container,) = docker_client.containers.list(filters={"label": f"{LABEL_OWNER}={owner}"})

    cwd, hostname = notebook.cells[0].outputs[0]["text"].split()
    assert cwd == "/workspace" and hostname == container.attrs["Config"]["Hostname"]
    written = container.exec_run(["cat", "/workspace/written-by-the-notebook.txt"])
    assert written.output == b"from the kernel"
    (figure,) = [o for o in notebook.cells[2].outputs if "image/png" in o.get("data", {})]
    assert base64.b64decode(figure["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert notebook.cells[3].outputs[0]["data"]["text/html"] == "<b>rich</b>"
