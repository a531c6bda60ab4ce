"""The package's log lines go through the server's log.

Every module logs to ``logging.getLogger(__name__)``, under the package logger
``jupyter_container_manager``. At start the extension hands that logger's records to the
server's log (``ServerApp.log``): they pass the server's handlers, at its level
(``--log-level=DEBUG`` shows our DEBUG lines) and in its format, with the module's name
where the server's lines show ``ServerApp``. Like the server's own log, the package logger
then stops propagating to the root logger.
"""

from __future__ import annotations

import logging

PACKAGE = "jupyter_container_manager"


class ToServerLog(logging.Handler):
    """Hands each record to the server's log, which filters, formats and writes it."""

    def __init__(self, server_log: logging.Logger):
        super().__init__()
        self.server_log = server_log

    def emit(self, record: logging.LogRecord) -> None:
        self.server_log.handle(record)


def threshold(log: logging.Logger) -> int:
    """The lowest level ``log`` writes: its handlers' levels (where the server's
    ``log_level`` is set), not below the logger's own."""
    levels = [handler.level for handler in log.handlers]
    return max(log.getEffectiveLevel(), min(levels)) if levels else log.getEffectiveLevel()


def follow_server_log(server_log: logging.Logger) -> None:
    """Send the package's records to ``server_log`` (replacing an earlier server's)."""
    package = logging.getLogger(PACKAGE)
    leave_server_log()
    package.addHandler(ToServerLog(server_log))
    package.setLevel(threshold(server_log))
    package.propagate = False
    package.getChild("logs").debug("package log through the %s log, level %s", server_log.name,
                                   logging.getLevelName(package.level))


def leave_server_log() -> None:
    """Undo ``follow_server_log`` (the server stops): records propagate as before."""
    package = logging.getLogger(PACKAGE)
    for handler in [h for h in package.handlers if isinstance(h, ToServerLog)]:
        package.removeHandler(handler)
    package.setLevel(logging.NOTSET)
    package.propagate = True
