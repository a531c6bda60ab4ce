"""Which origin a preview gets, and which container and port a preview host names (pure).

Every (container, port) preview is served on an origin of its own, at path ``/``:
- ``auto`` (the default): when the browser reached the Jupyter server under a loopback
  name (``localhost``, ``127.0.0.1``, ``[::1]``), ``http://<port>-<id>.localhost:<server
  port>/``: browsers resolve every ``*.localhost`` name to the loopback address, so no DNS
  or TLS set-up is needed. Reached under any other name, the path proxy is used.
- a template such as ``{port}-{id}.preview.example.org`` (wildcard DNS and a wildcard TLS
  certificate pointing at the Jupyter server): that origin, whatever name the request used.
- ``path``: never an origin of its own; ``/containers/{id}/proxy/{port}/`` on the Jupyter
  origin (the fallback, with the CSP sandbox).

Imports nothing from the rest of the package but its errors.
"""

from __future__ import annotations

import re
import uuid

from .errors import BadRequest

AUTO = "auto"
PATH = "path"
LOCAL_SUFFIX = "localhost"
LOCAL_TEMPLATE = "{port}-{id}." + LOCAL_SUFFIX
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def split_host(host: str) -> tuple[str, str]:
    """``"a.b:8888"`` -> ``("a.b", "8888")``; ``"[::1]:80"`` -> ``("::1", "80")``; no port: ''."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def is_loopback_name(name: str) -> bool:
    """A host name every browser sends to this machine: localhost, *.localhost, 127/8, ::1."""
    name = name.lower().rstrip(".")
    return name in _LOOPBACK_NAMES or name.endswith("." + LOCAL_SUFFIX) or (
        name.startswith("127.") and name.replace(".", "").isdigit())


def _template_regex(template_host: str) -> str:
    """A regex of the host names a template makes; ``port`` and ``id`` groups take a whole
    label part each, malformed values included, so that they get a 400 and not Jupyter."""
    pattern = re.escape(template_host.lower())
    pattern = pattern.replace(re.escape("{port}"), r"(?P<port>[^.:/\-]*)")
    pattern = pattern.replace(re.escape("{id}"), r"(?P<id>[^.:/]*)")
    return pattern


class PreviewHosts:
    """The ``preview_host`` setting: origins for previews, and the reverse."""

    def __init__(self, setting: str):
        setting = (setting or PATH).strip()
        self.mode = setting if setting in (AUTO, PATH) else "template"
        if self.mode == "template":
            if "{port}" not in setting or "{id}" not in setting:
                raise ValueError(
                    f"preview_host {setting!r} must contain {{port}} and {{id}}, e.g. "
                    "'{port}-{id}.preview.example.org' (or be 'auto' or 'path')")
            if "://" in setting or "/" in setting:
                raise ValueError(f"preview_host {setting!r} is a host name template, without "
                                 "scheme or path")
        self.template = setting if self.mode == "template" else LOCAL_TEMPLATE
        template_name, _ = split_host(self.template)
        self._regex = re.compile(_template_regex(template_name) + "$")

    @property
    def routing_pattern(self) -> str | None:
        """The host names (no port) the preview origin handler serves; None: no origins."""
        return None if self.mode == PATH else self._regex.pattern

    def origin(self, scheme: str, request_host: str, container_id: str, port: int) -> str | None:
        """``scheme://host[:port]`` of a preview for a request that came to ``request_host``;
        None when this request gets the path proxy."""
        if self.mode == PATH:
            return None
        if self.mode == AUTO:
            name, server_port = split_host(request_host)
            if not is_loopback_name(name):
                return None
            host = LOCAL_TEMPLATE.format(port=port, id=container_id)
            return f"{scheme}://{host}" + (f":{server_port}" if server_port else "")
        return f"{scheme}://" + self.template.format(port=port, id=container_id)

    def parse(self, request_host: str) -> tuple[int, str]:
        """(port, container id) a preview host names; 400 when it is malformed."""
        name, _ = split_host(request_host)
        found = self._regex.match(name)
        if found is None:
            raise BadRequest(f"Not a preview host: {name!r}", code="EINVAL")
        port_text, container_id = found.group("port"), found.group("id")
        if not port_text.isdigit() or len(port_text) > 5 or not 1 <= int(port_text) <= 65535:
            raise BadRequest(f"The preview host {name!r} names no valid port (1 to 65535)",
                             code="EINVAL")
        try:
            if str(uuid.UUID(container_id)) != container_id:
                raise ValueError(container_id)
        except ValueError:
            raise BadRequest(f"The preview host {name!r} names no valid container id",
                             code="EINVAL") from None
        return int(port_text), container_id
