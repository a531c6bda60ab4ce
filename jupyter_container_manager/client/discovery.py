"""Which Jupyter server to talk to, and with which token.

In order:

1. ``url`` (and ``token``) given by the caller;
2. ``JUPYTER_CONTAINER_MANAGER_URL`` (and ``JUPYTER_CONTAINER_MANAGER_TOKEN``);
3. jupyter_server's records of running servers (``jpserver-<pid>.json`` in the Jupyter
   runtime dir): inside a kernel, the server that started it (``JPY_PARENT_PID`` or the
   parent process); else the server whose root dir holds the current directory; else the
   only one running;
4. on JupyterHub, ``JUPYTERHUB_SERVICE_URL`` with ``JUPYTERHUB_API_TOKEN``.

A token missing from the record comes from ``JUPYTER_CONTAINER_MANAGER_TOKEN``,
``JUPYTER_TOKEN`` or ``JUPYTERHUB_API_TOKEN``. Only files are read: nothing is imported
from the server side.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import ServerNotFound

URL_VAR = "JUPYTER_CONTAINER_MANAGER_URL"
TOKEN_VAR = "JUPYTER_CONTAINER_MANAGER_TOKEN"
_TOKEN_VARS = (TOKEN_VAR, "JUPYTER_TOKEN", "JUPYTERHUB_API_TOKEN")


@dataclass(frozen=True)
class ServerInfo:
    """A Jupyter server: its URL (``base_url`` included, ending in ``/``) and token."""

    url: str
    token: str = ""
    source: str = "given"

    def __repr__(self) -> str:  # never print the token
        return f"ServerInfo(url={self.url!r}, source={self.source!r})"


def normalise_url(url: str) -> str:
    """``http://host:8888/base`` -> ``http://host:8888/base/``; an empty host is 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServerNotFound(f"Not an http(s) URL of a Jupyter server: {url!r}")
    netloc = parts.netloc
    if netloc.startswith(":"):
        netloc = "127.0.0.1" + netloc
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def env_token(environ: Mapping[str, str]) -> str:
    for name in _TOKEN_VARS:
        if environ.get(name):
            return environ[name]
    return ""


def running_servers(runtime_dir: str | os.PathLike | None = None) -> list[dict]:
    """The records of the jupyter servers that run now (their process is alive)."""
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    found = []
    for path in sorted(Path(runtime_dir).glob("jpserver-*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not record.get("url") or record.get("sock"):
            continue
        if _alive(record.get("pid")):
            found.append(record)
    return found


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def choose_server(
    records: list[dict], *, parent_pids: list[int], cwd: str
) -> tuple[dict | None, str]:
    """The record this process belongs to, and why; ``(None, reason)`` when none fits."""
    for pid in parent_pids:
        for record in records:
            if record.get("pid") == pid:
                return record, f"server of pid {pid} (it started this process)"
    holding = [r for r in records if _contains(r.get("root_dir") or "", cwd)]
    if holding:
        best = max(holding, key=lambda r: len(r.get("root_dir") or ""))
        return best, f"server whose root dir {best.get('root_dir')} holds {cwd}"
    if len(records) == 1:
        return records[0], "the only running server"
    if not records:
        return None, "no running Jupyter server found"
    urls = ", ".join(r["url"] for r in records)
    return None, f"several Jupyter servers run ({urls}) and none holds {cwd}"


def _contains(root: str, path: str) -> bool:
    if not root:
        return False
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def find_server(
    url: str | None = None,
    token: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    runtime_dir: str | os.PathLike | None = None,
    cwd: str | None = None,
) -> ServerInfo:
    """Find the server to talk to (see the module docstring for the order)."""
    environ = os.environ if environ is None else environ
    if url:
        return ServerInfo(normalise_url(url), token if token is not None else env_token(environ))
    if environ.get(URL_VAR):
        given = token if token is not None else env_token(environ)
        return ServerInfo(normalise_url(environ[URL_VAR]), given, source=URL_VAR)

    parents = []
    if str(environ.get("JPY_PARENT_PID", "")).isdigit():
        parents.append(int(environ["JPY_PARENT_PID"]))
    parents.append(os.getppid())
    records = running_servers(runtime_dir)
    record, why = choose_server(records, parent_pids=parents, cwd=cwd or os.getcwd())
    if record is not None:
        found_token = token if token is not None else (record.get("token") or env_token(environ))
        return ServerInfo(normalise_url(record["url"]), found_token, source=why)

    if environ.get("JUPYTERHUB_SERVICE_URL"):
        hub_token = token if token is not None else env_token(environ)
        return ServerInfo(
            normalise_url(environ["JUPYTERHUB_SERVICE_URL"]), hub_token, source="JupyterHub"
        )
    raise ServerNotFound(
        f"Cannot find the Jupyter server: {why}. Pass url= and token=, or set "
        f"{URL_VAR} and {TOKEN_VAR}."
    )
