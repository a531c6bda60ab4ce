"""Domain errors raised by the service and mapped to HTTP answers in one place.

Pure: imports nothing from the rest of the package. Each error knows its HTTP status;
file-system errors also carry a Node.js error ``code`` and a Node-style message, so a
client written against ``fs.promises`` or ``@webcontainer/api`` can branch on ``code``.
"""

from __future__ import annotations


class ContainerManagerError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    reason: str | None = None
    code: str | None = None

    def __init__(self, message: str, *, code: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if reason is not None:
            self.reason = reason

    def to_json(self) -> dict:
        return {"message": self.message, "reason": self.reason, "code": self.code}


class BadRequest(ContainerManagerError):
    """The request is malformed (wrong JSON, wrong types, missing fields)."""

    status = 400
    reason = "Bad Request"


class Forbidden(ContainerManagerError):
    status = 403
    reason = "Forbidden"


class ImageNotAllowed(Forbidden):
    """The image does not match ``c.ContainerManager.allowed_images``."""

    code = "EIMAGE_NOT_ALLOWED"

    def __init__(self, image: str, patterns: list[str]):
        super().__init__(
            f"Image {image!r} is not allowed on this server; allowed images: "
            f"{', '.join(patterns)} (c.ContainerManager.allowed_images)"
        )
        self.image = image


class ContainerNotFound(ContainerManagerError):
    """No managed container of this owner has that public id."""

    status = 404
    reason = "Not Found"

    def __init__(self, container_id: str):
        super().__init__(f"No container with id {container_id!r}", code="ENOCONTAINER")
        self.container_id = container_id


class SnapshotNotFound(ContainerManagerError):
    """No snapshot of this owner has that id (or a checkpoint of a container that id)."""

    status = 404
    reason = "Not Found"
    code = "ENOSNAPSHOT"


class CheckpointNotFound(ContainerManagerError):
    """The container has no checkpoint with that id."""

    status = 404
    reason = "Not Found"
    code = "ENOCHECKPOINT"


class SnapshotGone(ContainerManagerError):
    """The snapshot's image lost its tag behind our back: it cannot be used any more."""

    status = 410
    reason = "Gone"
    code = "ESNAPSHOT_GONE"


class Conflict(ContainerManagerError):
    status = 409
    reason = "Conflict"


class ContainerNotRunning(Conflict):
    """The operation needs a running container."""

    def __init__(self, container_id: str, status: str):
        super().__init__(
            f"Container {container_id} is {status}; start it first "
            f"(POST /containers/{container_id}/start)",
            code="ENOTRUNNING",
        )


class TooLarge(ContainerManagerError):
    status = 413
    reason = "Payload Too Large"
    code = "EFBIG"


class Unprocessable(ContainerManagerError):
    """Well-formed but impossible (for example a limit the engine refuses)."""

    status = 422
    reason = "Unprocessable Entity"


class QuotaExceeded(ContainerManagerError):
    status = 429
    reason = "Too Many Requests"
    code = "EQUOTA"


class ServiceUnavailable(ContainerManagerError):
    status = 503
    reason = "Service Unavailable"


class EngineUnavailable(ServiceUnavailable):
    """The Docker engine does not answer."""

    code = "ENGINE_UNAVAILABLE"


class ImageNotFound(ServiceUnavailable):
    """The configured or requested image is not on the engine and cannot be pulled."""

    code = "IMAGE_NOT_FOUND"


class CaCertificatesInvalid(ServiceUnavailable):
    """``c.ContainerManager.ca_certificates`` names a file that is missing or not a PEM
    bundle: no container is created, rather than one with a half-set trust store."""

    code = "CA_CERTIFICATES_INVALID"

    def __init__(self, path: str, problem: str):
        super().__init__(
            f"No container can be created: the CA bundle {path!r} "
            f"(c.ContainerManager.ca_certificates) {problem}. Point the setting at a PEM "
            "file of CA certificates (or set it to '' to trust only the images' own), "
            "then restart the Jupyter server."
        )
        self.path = path
        self.problem = problem


class UpstreamUnavailable(ContainerManagerError):
    """A preview port in the container does not answer."""

    status = 502
    reason = "Bad Gateway"
    code = "ECONNREFUSED"


# --- file-system errors, Node style --------------------------------------------------

_NODE_ERRORS = {
    # code: (HTTP status, Node's description)
    "ENOENT": (404, "no such file or directory"),
    "EEXIST": (409, "file already exists"),
    "ENOTDIR": (409, "not a directory"),
    "EISDIR": (409, "illegal operation on a directory"),
    "ENOTEMPTY": (409, "directory not empty"),
    "EACCES": (403, "permission denied"),
    "EPERM": (403, "operation not permitted"),
    "EINVAL": (400, "invalid argument"),
    "ENAMETOOLONG": (400, "name too long"),
    "EFBIG": (413, "file too large"),
    "ENOSPC": (507, "no space left on device"),
    "EIO": (500, "i/o error"),
}


class FileSystemError(ContainerManagerError):
    """An ``fs`` operation failed; ``code`` is Node's, the message reads like Node's.

    ``FileSystemError("ENOENT", "open", "/workspace/x.js")`` has the message
    ``ENOENT: no such file or directory, open '/workspace/x.js'``.
    """

    def __init__(self, code: str, syscall: str, path: str, dest: str | None = None):
        status, description = _NODE_ERRORS.get(code, (500, code.lower()))
        target = f"'{path}'" + (f" -> '{dest}'" if dest is not None else "")
        super().__init__(f"{code}: {description}, {syscall} {target}", code=code)
        self.status = status
        self.reason = {
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            409: "Conflict",
            413: "Payload Too Large",
        }.get(status, "File System Error")
        self.syscall = syscall
        self.path = path
        self.dest = dest


def node_error_codes() -> list[str]:
    """The Node error codes this API can answer with."""
    return list(_NODE_ERRORS)


class UpstreamClosed(Exception):
    """A container's port refused the connection or closed it before answering."""
