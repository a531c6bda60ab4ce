"""Errors the client raises: one class, shaped like the server's JSON errors."""

from __future__ import annotations


class ContainerError(Exception):
    """An error answer of the server, or a failure to reach it.

    ``status`` is the HTTP status (``None`` when the error came over the WebSocket or no
    answer came at all), ``code`` the Node-style code the server gives (``"ENOENT"``,
    ``"EEXIST"``, ``"ENOCONTAINER"``...) and ``message`` its text, e.g.
    ``ENOENT: no such file or directory, open '/workspace/missing.js'``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ContainerError({self.message!r}, status={self.status!r}, code={self.code!r})"


class ServerNotFound(ContainerError):
    """No Jupyter server was given and none could be found."""

    def __init__(self, message: str):
        super().__init__(message, code="ENOSERVER")
