"""What every widget here shares: a status line, ``busy``/``error`` traits, ``on_error``.

Programmatic triggers (``create()``, ``open()``, ``run()``...) raise ContainerError after
showing it; the buttons call the same triggers and leave the error on display.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import ipywidgets as w
from ipywidgets.widgets.widget import CallbackDispatcher
from traitlets import Bool, Unicode, observe

from ..client import ContainerError


class ActionPanel(w.VBox):
    """A VBox with a status line under its content."""

    status = Unicode("", help="The message under the widget: what the last action did.")
    error = Unicode("", help="The last action's error message; empty when it succeeded.")
    busy = Bool(False, help="True while an action talks to the server.")

    def __init__(self, content: list[w.Widget], **kwargs):
        self._status_line = w.HTML()
        self._error_handlers = CallbackDispatcher()
        super().__init__(children=[*content, self._status_line], **kwargs)

    def on_error(self, callback: Callable[[ContainerError], object], remove: bool = False) -> None:
        """Call ``callback(error)`` when an action fails."""
        self._error_handlers.register_callback(callback, remove=remove)

    @contextmanager
    def _action(self) -> Iterator[None]:
        """Around one action: busy while it runs; a ContainerError is shown, then raised."""
        self.busy = True
        self.error = ""
        try:
            yield
        except ContainerError as err:
            self.error = err.message
            self._error_handlers(err)
            raise
        finally:
            self.busy = False

    def _attempt(self, trigger: Callable[[], object]) -> None:
        """Run ``trigger`` for the user (a click, a keystroke, a first load): its error
        is shown, not raised."""
        try:
            trigger()
        except ContainerError:
            pass  # _action showed it
        except ValueError as err:  # a bad input, refused before any request
            self.error = str(err)

    def _on_click(self, trigger: Callable[[], object]) -> Callable[[w.Button], None]:
        """A button handler running ``trigger``; its error stays on display."""
        return lambda _button: self._attempt(trigger)

    @observe("status", "error")
    def _show_status(self, _change=None) -> None:
        if self.error:
            self._status_line.value = (
                f'<span style="color: var(--jp-error-color1, #c62828)">'
                f"{html.escape(self.error)}</span>"
            )
        else:
            self._status_line.value = f"<span>{html.escape(self.status)}</span>"


def button(description: str, icon: str = "", tooltip: str = "", style: str = "") -> w.Button:
    return w.Button(
        description=description, icon=icon, tooltip=tooltip or description,
        button_style=style, layout=w.Layout(width="auto"),
    )
