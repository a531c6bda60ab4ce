"""``POST /containers/{id}/run-code`` and ``POST /containers/{id}/kernels`` on a real
server and engine: a warm kernel per container (state kept, stopped with the container),
stdout, stderr, MIME results and errors, streamed NDJSON, the timeout, owner rules."""

from __future__ import annotations

import base64
import json

import pytest

from jupyter_container_manager.kernels.warm import WARM_KERNELS_KEY
from jupyter_container_manager.manager import ContainerManager
from tests.support.helpers import assert_error

pytestmark = pytest.mark.slow


async def run_code(api, container_id: str, **body):
    answer = await api.post("containers", container_id, "run-code", body=body)
    assert answer.status == 200, answer
    return answer


async def test_run_code_in_a_warm_kernel(api, jp_serverapp):
    info = await api.create()
    first = (await run_code(api, info["id"], code=(
        "import os, sys\nprint('hi from', os.getcwd())\nprint('oops', file=sys.stderr)\n"
        "x = 20\nx + 1"))).json()
    assert first["stdout"] == "hi from /workspace\n"
    assert first["stderr"] == "oops\n"
    assert first["error"] is None
    assert first["results"] == [{"data": {"text/plain": "21"}, "metadata": {},
                                 "isMainResult": True}]
    # The same kernel: its state is kept.
    second = (await run_code(api, info["id"], code="x * 2")).json()
    assert second["results"][0]["data"]["text/plain"] == "40"
    assert second["executionCount"] == first["executionCount"] + 1

    failed = (await run_code(api, info["id"], code="1 / 0")).json()
    assert failed["error"]["name"] == "ZeroDivisionError"
    assert "\x1b[" not in failed["error"]["traceback"] and "1 / 0" in failed["error"]["traceback"]

    plot = (await run_code(api, info["id"], code=(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nplt.show()"))).json()
    (png,) = [r["data"]["image/png"] for r in plot["results"] if "image/png" in r["data"]]
    assert base64.b64decode(png)[:4] == b"\x89PNG"

    # The kernel stops with its container.
    warm = jp_serverapp.web_app.settings[WARM_KERNELS_KEY]
    assert warm.has_kernel(info["id"])
    assert (await api.delete("containers", info["id"])).status == 204
    assert not warm.has_kernel(info["id"])


async def test_streamed_and_timed_out(api):
    info = await api.create()
    answer = await run_code(api, info["id"], stream=True, code=(
        "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.05)\n'done'"))
    assert answer.headers["Content-Type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert "".join(e["text"] for e in events if e["type"] == "stdout") == "0\n1\n2\n"
    assert events[-2]["type"] == "result" and events[-2]["data"]["text/plain"] == "'done'"
    assert events[-1] == {"type": "end", "executionCount": 1, "error": False}

    slow = (await run_code(api, info["id"], code="import time\ntime.sleep(60)",
                           timeout=1)).json()
    assert slow["timedOut"] is True and slow["error"]["name"] == "TimeoutError"
    after = (await run_code(api, info["id"], code="'still here'")).json()
    assert after["results"][0]["data"]["text/plain"] == "'still here'"


async def test_bad_input_and_another_owners_container(api, manager_config):
    info = await api.create()
    assert_error(await api.post("containers", info["id"], "run-code", body={"code": 1}), 400)
    assert_error(await api.post("containers", info["id"], "run-code",
                                body={"code": "1", "language": "r"}), 400)
    assert_error(await api.post("containers", info["id"], "run-code",
                                body={"code": "1", "timeout": 0}), 400)
    other = ContainerManager(**{**manager_config, "owner": manager_config["owner"] + "-b"})
    try:
        theirs = await other.create_container()
        for route in ("run-code", "kernels"):
            body = {"code": "1"} if route == "run-code" else {}
            assert_error(await api.post("containers", theirs.id, route, body=body), 404,
                         code="ENOCONTAINER")
    finally:
        await other.close()


async def test_open_a_notebook_in_an_existing_container(api, jp_serverapp, jp_root_dir):
    specs = (await api.get("api", "kernelspecs")).json()["kernelspecs"]
    assert specs["python3-new-container"]["spec"]["display_name"] == "Python 3 (new container)"
    info = await api.create(files={"data.txt": {"file": {"contents": "from the container"}}})
    answer = await api.post("containers", info["id"], "kernels",
                            body={"path": "in-container.ipynb"})
    assert answer.status == 201, answer
    opened = answer.json()
    kernel_id = opened["kernel"]["id"]
    assert opened["session"]["kernel"]["id"] == kernel_id
    assert opened["session"]["path"] == "in-container.ipynb"
    assert (jp_root_dir / "in-container.ipynb").exists()

    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    assert km.provisioner.container.id == info["id"]
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        seen = []
        reply = await client.execute_interactive(
            "print(open('data.txt').read())", timeout=30,
            output_hook=lambda m: seen.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(seen).strip() == "from the container"
        # The kernel's ports are the server's: never listed as the user's previews.
        kernel_ports = set(km.provisioner.connection_info[name] for name in
                           ("shell_port", "iopub_port", "stdin_port", "control_port",
                            "hb_port"))
        listed = {entry["port"] for entry in
                  (await api.get("containers", info["id"])).json()["ports"]}
        assert not kernel_ports & listed, listed
    finally:
        client.stop_channels()
    assert (await api.delete("api", "kernels", kernel_id)).status == 204
    # The container was not the kernel's: it is kept.
    assert (await api.get("containers", info["id"])).json()["status"] == "running"


async def test_the_new_container_spec_in_the_server(api, jp_serverapp):
    """POST /api/kernels with the spec: the kernel's provisioner uses the extension's own
    manager (its owner), its container is listed, and the kernels in containers are shut
    down (their containers removed) before the extension stops."""
    import logging

    from jupyter_container_manager.base_handler import MANAGER_KEY
    from jupyter_container_manager.kernels.warm import shutdown_container_kernels

    answer = await api.post("api", "kernels", body={"name": "python3-new-container"})
    assert answer.status == 201, answer
    kernel_id = answer.json()["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    assert km.provisioner._get_manager() is jp_serverapp.web_app.settings[MANAGER_KEY]
    listed = (await api.get("containers")).json()
    assert [c["id"] for c in listed] == [km.provisioner.container.id]
    assert await shutdown_container_kernels(jp_serverapp.kernel_manager,
                                            logging.getLogger("test")) == 1
    assert (await api.get("containers")).json() == []
