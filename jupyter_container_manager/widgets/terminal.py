"""Terminal: the line terminal of a container (one command line at a time, cwd kept)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Int, List, Unicode, observe

from ..client import LineResult, WebContainer
from .base import ActionPanel, button

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


class Terminal(ActionPanel):
    """Type a command line, get its output; ``cd`` moves the cwd for the next line.

    The cwd is the container's (the panel and other notebooks share it). Each line runs
    with ``sh`` in the container. Programmatic trigger: ``run(line)``; callbacks:
    ``on_output`` and ``on_error``.
    """

    cwd = Unicode("", help="The container's remembered working directory.")
    transcript = Unicode(
        "", help="What the terminal shows: each prompt, command line and its output."
    )
    history = List(Unicode(), help="The command lines run here, oldest first.")
    last_exit_code = Int(None, allow_none=True, help="Exit code of the last line.")
    max_transcript = Int(200_000, help="Characters of transcript kept; older text is cut.")

    def __init__(self, container: WebContainer, *, load: bool = True, **kwargs):
        self.container = container
        self._output_handlers = CallbackDispatcher()
        self._screen = w.HTML(layout=w.Layout(
            width="100%", height="20em", overflow="auto", border="1px solid #ccc"
        ))
        self._prompt = w.HTML()
        self._input = w.Text(
            placeholder="command line, Enter to run", continuous_update=False,
            layout=w.Layout(width="60%"),
        )
        self._input.observe(self._submitted, "value")
        self._run_button = button("Run", "play", style="primary")
        self._run_button.on_click(self._on_click(lambda: self._submit(self._input.value)))
        self._clear_button = button("Clear", "eraser")
        self._clear_button.on_click(lambda _b: self.clear())
        super().__init__(
            [self._screen, w.HBox([self._prompt, self._input, self._run_button,
                                   self._clear_button])],
            **kwargs,
        )
        self._show_prompt()
        if load:
            self._attempt(self.load)

    def on_output(self, callback: Callable[[str, LineResult], object], remove: bool = False):
        """Call ``callback(line, result)`` after each command line."""
        self._output_handlers.register_callback(callback, remove=remove)

    def load(self) -> str:
        """Join the container and show its remembered cwd."""
        with self._action():
            joined = self.container.connect()
            self.cwd = joined.get("cwd") or self.container.workdir
            self.status = f"Connected to {self.container.id}"
        return self.cwd

    def run(self, line: str) -> LineResult:
        """Run one command line; the result (output, exit code, cwd after it)."""
        with self._action():
            self.history = [*self.history, line]
            self._append(f"{self.cwd or '~'} $ {line}\n")
            result = self.container.run_line(line)
            self._append(ANSI.sub("", result.output))
            if result.output and not result.output.endswith("\n"):
                self._append("\n")
            self.cwd = result.cwd
            self.last_exit_code = result.exit_code
            self.status = f"exit code {result.exit_code}"
        self._output_handlers(line, result)
        return result

    def clear(self) -> None:
        self.transcript = ""

    def _append(self, text: str) -> None:
        transcript = self.transcript + text
        if len(transcript) > self.max_transcript:
            transcript = transcript[-self.max_transcript:]
        self.transcript = transcript

    def _submit(self, line: str) -> None:
        self._input.value = ""
        if line.strip():
            self.run(line)

    def _submitted(self, change) -> None:
        if change["new"]:
            self._attempt(lambda: self._submit(change["new"]))

    @observe("transcript")
    def _show_transcript(self, _change=None) -> None:
        self._screen.value = (
            '<pre style="margin: 0; white-space: pre-wrap">'
            f"{html.escape(self.transcript)}</pre>"
        )

    @observe("cwd")
    def _show_prompt(self, _change=None) -> None:
        self._prompt.value = f"<code>{html.escape(self.cwd or '~')} $</code>"

    @observe("busy")
    def _update_buttons(self, _change=None) -> None:
        self._run_button.disabled = self.busy
        self._input.disabled = self.busy
