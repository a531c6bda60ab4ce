"""Both notebooks run top to bottom with nbclient, on the real engine, failing on any error.

The kernel gets the environment a kernel started by the server would get (the server's
own environment, its runtime dir included) and no URL or token: the notebooks find the
server themselves. Afterwards no container of theirs is left.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_container_manager.client import Containers

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(name: str, server) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(server.root_dir)}},
    )
    client.execute(env=server.environ())  # CellExecutionError on the first failing cell
    return notebook


def text_of(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.slow
def test_quickstart(server_process):
    notebook = run_notebook("quickstart.ipynb", server_process)
    text = text_of(notebook)
    assert "hello from src/app.js" in text and "edited in the notebook" in text
    assert "hello from the notebook" in text
    assert "Hello from a real container!" in text
    assert Containers(server_process.url, server_process.token).list() == []


@pytest.mark.slow
def test_webcontainer_migration(server_process):
    notebook = run_notebook("webcontainer-migration.ipynb", server_process)
    text = text_of(notebook)
    for expected in ("2 + 3 = 5", "echo: typed into stdin", "ENOENT | ENOENT: no such file",
                     "200 <h1>Hello from node", "hi from async", "left: []"):
        assert expected in text, expected
    assert Containers(server_process.url, server_process.token).list() == []
