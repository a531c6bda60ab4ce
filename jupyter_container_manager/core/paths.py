"""Workdir-relative paths -> absolute in-container paths. Pure.

API paths are taken from the container's workdir, as in WebContainer: ``''`` and ``'/'``
are the workdir itself, ``'/src/a.js'`` and ``'src/a.js'`` are ``<workdir>/src/a.js``.
Resolution here is lexical: a path whose ``..`` climbs out of the workdir is refused with
``EACCES`` before anything touches the container. Escapes through symlinks can only be
seen inside the container; the file scripts check those (engine/fs_scripts.py).
"""

from __future__ import annotations

import posixpath
import re

from .errors import BadRequest, FileSystemError

# The reserved prefix of the temporaries a file is written to before it is renamed over
# its name (engine/fs_scripts.py WRITE): no API path names one, listings and watch leave
# them out, and a sweep removes those a crash left behind.
TEMP_PREFIX = ".jcm-tmp-"

# Linux's limits (NAME_MAX, PATH_MAX with its NUL): a longer name or path is refused with
# ENAMETOOLONG before anything touches the container.
NAME_MAX, PATH_MAX = 255, 4095

# A folder name WebContainer's ``workdirName`` may give (it becomes /home/<name>).
_WORKDIR_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")


def parts_of(path: str) -> list[str] | None:
    """The normalised components of ``path`` taken from the workdir, or None when its
    ``..`` climbs above the workdir."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return parts


def resolve(workdir: str, path: object, syscall: str) -> str:
    """The absolute in-container path of a workdir-relative ``path``.

    Raises ``FileSystemError`` EINVAL for a path that is not text or holds a NUL byte,
    EACCES (with the path it would reach) for one that leaves the workdir by ``..``, and
    ENAMETOOLONG for a name over 255 bytes or a path over 4095.
    """
    workdir = workdir.rstrip("/") or "/"
    if not isinstance(path, str):
        raise BadRequest(f"A path must be a string, not {type(path).__name__}", code="EINVAL")
    if "\0" in path:
        shown = path.replace("\0", "\\0")
        raise FileSystemError("EINVAL", syscall, posixpath.join(workdir, shown.lstrip("/")))
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800") names no file
        shown = path.encode("utf-8", "backslashreplace").decode("utf-8")
        reached = posixpath.join(workdir, shown.lstrip("/"))
        raise FileSystemError("EINVAL", syscall, reached) from None
    parts = parts_of(path)
    if parts is None:
        reached = posixpath.normpath(posixpath.join(workdir, path.lstrip("/")))
        raise FileSystemError("EACCES", syscall, reached)
    if any(is_temporary(part) for part in parts):
        raise FileSystemError("EACCES", syscall, posixpath.join(workdir, *parts))
    resolved = posixpath.join(workdir, *parts) if parts else workdir
    if (len(resolved.encode()) > PATH_MAX
            or any(len(part.encode()) > NAME_MAX for part in parts)):
        raise FileSystemError("ENAMETOOLONG", syscall, resolved[:80] + "...")
    return resolved


def is_temporary(name: str) -> bool:
    """Whether a file name is one of our temporaries' (reserved: TEMP_PREFIX)."""
    return name.startswith(TEMP_PREFIX)


def relative(workdir: str, absolute: str) -> str:
    """``absolute`` as a workdir-relative path with a leading ``/`` (``'/'`` for the workdir)."""
    workdir = workdir.rstrip("/") or "/"
    if absolute == workdir:
        return "/"
    prefix = workdir if workdir.endswith("/") else workdir + "/"
    if not absolute.startswith(prefix):
        raise ValueError(f"{absolute!r} is not inside {workdir!r}")
    return "/" + absolute[len(prefix) :]


def workdir_for_name(name: object) -> str:
    """WebContainer's ``workdirName``: the workdir becomes ``/home/<name>``."""
    if not isinstance(name, str) or not _WORKDIR_NAME.match(name) or name in (".", ".."):
        raise BadRequest(
            f"'workdirName' must be a folder name of letters, digits, '.', '_' and '-' "
            f"(at most 64, not starting with '.' or '-'), not {name!r}",
            code="EINVAL",
        )
    return f"/home/{name}"
