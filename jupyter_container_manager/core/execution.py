"""A code execution's output, from a Jupyter kernel's iopub messages, as ``run-code``
answers it (in the style of E2B's code interpreter): ``stdout``, ``stderr``, ``results``
(MIME bundles: ``execute_result`` is the main result, ``display_data`` the others, such as
plots) and ``error``.

``event_of`` turns one iopub message into one event (what a streamed answer sends, one
NDJSON line each); ``Execution`` adds the events up into the final answer. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
LANGUAGES = ("python",)


def plain(text: str) -> str:
    """Text without terminal colour codes (tracebacks come coloured)."""
    return ANSI.sub("", text)


def event_of(msg: dict) -> dict | None:
    """The run-code event an iopub message is, or None (status, execute_input...)."""
    kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
    content = msg.get("content") or {}
    if kind == "stream":
        name = "stderr" if content.get("name") == "stderr" else "stdout"
        return {"type": name, "text": content.get("text", "")}
    if kind in ("execute_result", "display_data"):
        return {"type": "result", "data": content.get("data") or {},
                "metadata": content.get("metadata") or {},
                "isMainResult": kind == "execute_result"}
    if kind == "error":
        return {"type": "error", "name": content.get("ename", ""),
                "value": content.get("evalue", ""),
                "traceback": plain("\n".join(content.get("traceback") or []))}
    return None


@dataclass
class Execution:
    """The events of one execution, added up."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    error: dict | None = None
    execution_count: int | None = None
    timed_out: bool = False

    def add(self, event: dict) -> None:
        kind = event["type"]
        if kind in ("stdout", "stderr"):
            getattr(self, kind).append(event["text"])
        elif kind == "result":
            self.results.append({key: event[key] for key in ("data", "metadata", "isMainResult")})
        elif kind == "error":
            self.error = {key: event[key] for key in ("name", "value", "traceback")}

    def to_json(self) -> dict:
        answer = {
            "stdout": "".join(self.stdout),
            "stderr": "".join(self.stderr),
            "results": self.results,
            "error": self.error,
            "executionCount": self.execution_count,
        }
        if self.timed_out:
            answer["timedOut"] = True
        return answer

    def end_event(self) -> dict:
        """The last line of a streamed answer."""
        end = {"type": "end", "executionCount": self.execution_count,
               "error": self.error is not None}
        if self.timed_out:
            end["timedOut"] = True
        return end


def timeout_error(seconds: float) -> dict:
    return {"type": "error", "name": "TimeoutError",
            "value": f"The code ran past its timeout of {seconds:g} s; the kernel was interrupted",
            "traceback": ""}
