"""Preview URLs as the server hands them out, seen from a client that is not a browser.

A preview on its own origin (``http://5173-<id>.localhost:8888/__jcm_grant/<grant>/x``)
is for browsers: they resolve ``*.localhost`` and keep the origin's cookie. A client with
the server's token reaches the same app through the path proxy,
``<base_url>containers/<id>/proxy/5173/x``. Pure.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ORIGIN = re.compile(r"^(?P<port>\d{1,5})-(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{4}-[0-9a-f]{12})\.")
GRANT_PATH = "/__jcm_grant/"


def proxy_path(url: str, server_url: str) -> str | None:
    """The path-proxy path (from the server root) of a preview-origin URL; None for any
    other URL (a path, or an absolute URL of something else)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return None
    found = _ORIGIN.match(parts.hostname or "")
    if found is None:
        return None
    path = parts.path or "/"
    if path.startswith(GRANT_PATH):
        path = "/" + path[len(GRANT_PATH):].partition("/")[2].lstrip("/")
    base = urlsplit(server_url).path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{base}/containers/{found['id']}/proxy/{found['port']}{path}{query}"
