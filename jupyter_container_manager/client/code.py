"""``run_code``: code run in a container's warm kernel (``POST /containers/{id}/run-code``),
in the style of E2B's code interpreter: an ``Execution`` with stdout, stderr, results
(MIME bundles) and the error; callbacks get the output as it comes (a streamed answer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .errors import ContainerError
from .transport import Transport, error_from_answer


@dataclass(frozen=True)
class Result:
    """One rich output: the cell's value (``is_main_result``) or a display (a plot...)."""

    data: dict
    metadata: dict = field(default_factory=dict)
    is_main_result: bool = False

    @property
    def text(self) -> str | None:
        return self.data.get("text/plain")

    @property
    def html(self) -> str | None:
        return self.data.get("text/html")

    @property
    def png(self) -> str | None:
        """Base64, as Jupyter sends it."""
        return self.data.get("image/png")

    @classmethod
    def from_json(cls, data: dict) -> Result:
        return cls(data=data.get("data") or {}, metadata=data.get("metadata") or {},
                   is_main_result=bool(data.get("isMainResult")))


@dataclass(frozen=True)
class ExecutionError:
    name: str
    value: str
    traceback: str

    @classmethod
    def from_json(cls, data: dict) -> ExecutionError:
        return cls(data.get("name", ""), data.get("value", ""), data.get("traceback", ""))


@dataclass
class Execution:
    """What ``run_code`` ran: its output, results and error."""

    stdout: str = ""
    stderr: str = ""
    results: list[Result] = field(default_factory=list)
    error: ExecutionError | None = None
    execution_count: int | None = None
    timed_out: bool = False

    @property
    def text(self) -> str | None:
        """The main result's text/plain (the cell's value), if any."""
        main = [r for r in self.results if r.is_main_result]
        return main[0].text if main else None

    @classmethod
    def from_json(cls, data: dict) -> Execution:
        error = data.get("error")
        return cls(stdout=data.get("stdout", ""), stderr=data.get("stderr", ""),
                   results=[Result.from_json(r) for r in data.get("results", [])],
                   error=ExecutionError.from_json(error) if error else None,
                   execution_count=data.get("executionCount"),
                   timed_out=bool(data.get("timedOut")))

    def add(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "stdout":
            self.stdout += event.get("text", "")
        elif kind == "stderr":
            self.stderr += event.get("text", "")
        elif kind == "result":
            self.results.append(Result.from_json(event))
        elif kind == "error":
            self.error = ExecutionError.from_json(event)
        elif kind == "end":
            self.execution_count = event.get("executionCount")
            self.timed_out = bool(event.get("timedOut"))


Callback = Callable[..., object] | None


async def run_code(transport: Transport, container_id: str, code: str, *,
                   language: str = "python", timeout: float | None = None,
                   on_stdout: Callback = None, on_stderr: Callback = None,
                   on_result: Callback = None, on_error: Callback = None) -> Execution:
    """Run ``code`` in the container's warm kernel; callbacks (given: a streamed answer)
    are called as output comes: ``on_stdout(text)``, ``on_stderr(text)``,
    ``on_result(Result)``, ``on_error(ExecutionError)``."""
    body: dict = {"code": code, "language": language}
    if timeout is not None:
        body["timeout"] = timeout
    path = f"containers/{container_id}/run-code"
    wait = None if timeout is None else max(transport.timeout, timeout + 30)
    if not any((on_stdout, on_stderr, on_result, on_error)):
        answer = await transport.request("POST", path, json_body=body, timeout=wait)
        return Execution.from_json(answer.json())
    body["stream"] = True
    execution = Execution()
    pending = bytearray()
    callbacks = {"stdout": on_stdout, "stderr": on_stderr}
    failures: list[ContainerError] = []  # an engine failure told on the last line

    def take(chunk: bytes) -> None:
        pending.extend(chunk)
        while (end := pending.find(b"\n")) >= 0:
            line = bytes(pending[:end])
            del pending[:end + 1]
            if not line.strip():
                continue
            event = json.loads(line)
            execution.add(event)
            kind = event.get("type")
            if kind in callbacks and callbacks[kind]:
                callbacks[kind](event.get("text", ""))
            elif kind == "result" and on_result:
                on_result(execution.results[-1])
            elif kind == "error" and on_error:
                on_error(execution.error)
            elif kind == "end" and event.get("message"):
                failures.append(ContainerError(event["message"], code=event.get("code")))

    answer = await transport.fetch(
        "POST", transport.url(path), body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, timeout=wait,
        streaming_callback=take)
    if answer.status >= 400:  # the error's JSON went to take(), without a newline
        raise error_from_answer("POST", path, replace(answer, body=bytes(pending)),
                                transport.server.url)
    if failures:
        raise failures[0]
    return execution


async def open_kernel(transport: Transport, container_id: str, path: str | None = None
                      ) -> dict:
    """Start a Jupyter kernel in the container (``POST /containers/{id}/kernels``):
    ``{containerId, kernel, session, path}``; with ``path``, a notebook session for it."""
    answer = await transport.request("POST", f"containers/{container_id}/kernels",
                                     json_body={"path": path} if path else {})
    return answer.json()
