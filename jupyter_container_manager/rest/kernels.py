"""Kernels in containers over REST: run code in a container's warm kernel
(``POST /containers/{id}/run-code``) and open a Jupyter kernel, with a notebook session,
in an existing container (``POST /containers/{id}/kernels``).

``run-code`` answers ``{stdout, stderr, results, error, executionCount}`` at the end, or
with ``stream: true`` NDJSON events as they come (``{"type": "stdout"|"stderr", "text"}``,
``{"type": "result", "data", "metadata", "isMainResult"}``, ``{"type": "error", "name",
"value", "traceback"}``), the last one ``{"type": "end", "executionCount", "error"}``.
"""

from __future__ import annotations

import json

import orjson
from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..base_handler import ContainerAPIHandler
from ..core.errors import ContainerManagerError
from ..core.validation import check_body
from ..kernels.container_specs import SETTINGS_KEY as CONTAINER_SPECS_KEY
from ..kernels.container_specs import ContainerKernelSpecs
from ..kernels.spec import KERNEL_NAME
from ..kernels.warm import WARM_KERNELS_KEY, WarmKernels

ID = r"(?P<container_id>[^/]+)"
DEFAULT_TIMEOUT = 300.0
NDJSON = "application/x-ndjson; charset=utf-8"


def dumps(value: dict) -> bytes:
    """JSON bytes at once (orjson); the standard library's for what orjson refuses (an
    integer past 64 bits in a result's application/json)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value).encode()


def ndjson(value: dict) -> bytes:
    return dumps(value) + b"\n"


class RunCodeHandler(ContainerAPIHandler):
    @property
    def warm_kernels(self) -> WarmKernels:
        return self.settings[WARM_KERNELS_KEY]

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "RunCodeRequest")
        timeout = float(body.get("timeout", DEFAULT_TIMEOUT))
        info = await self.manager.require_running(container_id)
        self.manager.touch(info.id)
        if not body.get("stream", False):
            answer = await self.warm_kernels.run_to_end(info, body["code"], timeout)
            self.set_header("Content-Type", "application/json")
            self.finish(dumps(answer))
            return
        events = self.warm_kernels.run(info, body["code"], timeout)
        first = await anext(events)  # the kernel runs: errors before this are plain JSON
        self.set_header("Content-Type", NDJSON)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(ndjson(first))
            await self.flush()
            async for event in events:
                self.write(ndjson(event))
                await self.flush()
        except StreamClosedError:
            await events.aclose()
            return
        except ContainerManagerError as err:  # the status (200) is sent already
            self.write(ndjson({"type": "end", "error": True, "message": err.message,
                               "code": err.code}))
        self.finish()


class ContainerKernelsHandler(ContainerAPIHandler):
    """Open a Jupyter kernel in an existing container: cwd its workdir, the container
    kept when the kernel ends. With ``path``, a notebook session for it (the notebook is
    made if missing), so a front end only has to open ``path``."""

    @web.authenticated
    @authorized
    async def post(self, container_id: str):
        body = check_body(self.json_body(), "OpenKernelRequest")
        info = await self.manager.require_running(container_id)
        path = body.get("path")
        # The container's own kernel spec, "Python 3 (container <name>)", which JupyterLab
        # shows for this kernel; the packaged one where the server has no spec manager.
        specs: ContainerKernelSpecs | None = self.settings.get(CONTAINER_SPECS_KEY)
        kernel_name, spec = specs.add(info) if specs is not None else (KERNEL_NAME, None)
        kernel_id = await self.kernel_manager.start_kernel(kernel_name=kernel_name,
                                                           container_id=info.id)
        answer: dict = {"containerId": info.id,
                        "kernel": self.kernel_manager.kernel_model(kernel_id),
                        "session": None, "path": path}
        if path:
            contents = self.contents_manager
            if not await _maybe_await(contents.file_exists(path)):
                model = {"type": "notebook", "format": "json",
                         "content": _empty_notebook(kernel_name, spec)}
                await _maybe_await(contents.save(model, path))
            answer["session"] = await self.session_manager.create_session(
                path=path, name=path.rsplit("/", 1)[-1], type="notebook",
                kernel_name=kernel_name, kernel_id=kernel_id)
        self.set_status(201)
        self.finish(json.dumps(answer, default=str))


async def _maybe_await(value):
    if hasattr(value, "__await__"):
        return await value
    return value


def _empty_notebook(kernel_name: str, spec: dict | None) -> dict:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": kernel_name, "language": "python",
        "display_name": spec["display_name"] if spec else "Python 3 (new container)"}
    return notebook


default_handlers = [
    (rf"/containers/{ID}/run-code", RunCodeHandler),
    (rf"/containers/{ID}/kernels", ContainerKernelsHandler),
]
