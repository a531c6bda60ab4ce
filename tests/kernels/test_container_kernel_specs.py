"""A kernel opened in an existing container shows where it runs: the session model a
front end reads (``GET /api/sessions``) names the container's own kernel spec, and
``GET /api/kernelspecs`` gives that spec the display name "Python 3 (container <name>)",
which is what JupyterLab's kernel indicator shows. Picked by name, the spec starts a kernel
in that container; it goes with the container."""

from __future__ import annotations

import json
import uuid

import pytest

from jupyter_container_manager.kernels.container_specs import spec_name

pytestmark = pytest.mark.slow


async def test_the_kernel_shows_its_container(api, jp_serverapp, jp_root_dir):
    name = f"specs-{uuid.uuid4().hex[:6]}"
    info = await api.create(name=name)
    answer = await api.post("containers", info["id"], "kernels", body={"path": "here.ipynb"})
    assert answer.status == 201, answer
    kernel_id = answer.json()["kernel"]["id"]
    expected = f"Python 3 (container {name})"

    # What JupyterLab reads: the session's kernel name, then that spec's display name.
    (session,) = [s for s in (await api.get("api", "sessions")).json()
                  if s["path"] == "here.ipynb"]
    assert session["kernel"]["id"] == kernel_id
    kernel_name = session["kernel"]["name"]
    assert kernel_name == spec_name(info["id"])
    specs = (await api.get("api", "kernelspecs")).json()["kernelspecs"]
    assert specs[kernel_name]["spec"]["display_name"] == expected
    assert specs["python3-new-container"]["spec"]["display_name"] == "Python 3 (new container)"
    saved = json.loads((jp_root_dir / "here.ipynb").read_text())
    assert saved["metadata"]["kernelspec"] == {"name": kernel_name, "language": "python",
                                               "display_name": expected}

    # The spec, picked by name (JupyterLab's kernel selector), runs in that container.
    started = await api.post("api", "kernels", body={"name": kernel_name})
    assert started.status == 201, started
    other = started.json()["id"]
    km = jp_serverapp.kernel_manager.get_kernel(other)
    assert km.provisioner.container.id == info["id"]
    assert not km.provisioner.made_container
    for kernel in (other, kernel_id):
        assert (await api.delete("api", "kernels", kernel)).status == 204
    assert (await api.get("containers", info["id"])).json()["status"] == "running"

    # It goes with the container.
    assert (await api.delete("containers", info["id"])).status == 204
    specs = (await api.get("api", "kernelspecs")).json()["kernelspecs"]
    assert kernel_name not in specs
