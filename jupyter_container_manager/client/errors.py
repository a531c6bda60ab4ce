"""Errors the client raises, shaped like the server's JSON errors: ContainerError, and a
subclass per kind the server names by its ``code`` (``FileNotFound`` for ``ENOENT``...),
so callers can ``except FileNotFound`` as they would catch Python's own
FileNotFoundError. Every one is a ContainerError with the same fields."""

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
        return (f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
                f"code={self.code!r})")


class FileNotFound(ContainerError):
    """ENOENT: no such file or directory in the container."""


class FileExists(ContainerError):
    """EEXIST: the path exists already."""


class NotADirectory(ContainerError):
    """ENOTDIR: a path component is not a directory."""


class IsADirectory(ContainerError):
    """EISDIR: a file operation on a directory."""


class DirectoryNotEmpty(ContainerError):
    """ENOTEMPTY: removing a directory that has entries, without recursive."""


class PermissionDenied(ContainerError):
    """EACCES / EPERM: outside the workdir, or not allowed to the container's user."""


class NoSpace(ContainerError):
    """ENOSPC / EFBIG: the disk quota is full, or the file is larger than allowed."""


class InvalidArgument(ContainerError):
    """EINVAL: a request the server refused as malformed."""


class ContainerNotFound(ContainerError):
    """ENOCONTAINER: no container of this user has that id."""


class ContainerNotRunning(ContainerError):
    """ENOTRUNNING: the operation needs a running container."""


class QuotaExceeded(ContainerError):
    """EQUOTA: this user has as many containers as allowed."""


class EngineUnavailable(ContainerError):
    """ENGINE_UNAVAILABLE: the server's Docker engine does not answer."""


class ImageNotFound(ContainerError):
    """IMAGE_NOT_FOUND: the image is not on the engine and could not be pulled."""


class ConnectionFailed(ContainerError):
    """ECONNREFUSED / ECONNRESET / ETIMEDOUT: the server could not be reached, or the
    connection broke or timed out."""


ERRORS_BY_CODE: dict[str, type[ContainerError]] = {
    "ENOENT": FileNotFound, "EEXIST": FileExists, "ENOTDIR": NotADirectory,
    "EISDIR": IsADirectory, "ENOTEMPTY": DirectoryNotEmpty, "EACCES": PermissionDenied,
    "EPERM": PermissionDenied, "ENOSPC": NoSpace, "EFBIG": NoSpace, "EINVAL": InvalidArgument,
    "ENOCONTAINER": ContainerNotFound, "ENOTRUNNING": ContainerNotRunning,
    "EQUOTA": QuotaExceeded, "ENGINE_UNAVAILABLE": EngineUnavailable,
    "IMAGE_NOT_FOUND": ImageNotFound, "ECONNREFUSED": ConnectionFailed,
    "ECONNRESET": ConnectionFailed, "ETIMEDOUT": ConnectionFailed,
}


def error_for(message: str, *, status: int | None = None, code: str | None = None,
              reason: str | None = None) -> ContainerError:
    """The ContainerError subclass of ``code`` (ContainerError itself for other codes)."""
    kind = ERRORS_BY_CODE.get(code or "", ContainerError)
    return kind(message, status=status, code=code, reason=reason)


class ServerNotFound(ContainerError):
    """No Jupyter server was given and none could be found."""

    def __init__(self, message: str):
        super().__init__(message, code="ENOSERVER")
