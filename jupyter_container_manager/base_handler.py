"""What every REST handler shares: Jupyter auth, the manager, JSON in and errors out."""

from __future__ import annotations

import contextlib
import json
from http.client import responses
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado.web import HTTPError

from .core.errors import ContainerManagerError, TooLarge
from .core.models import ContainerInfo
from .core.preview_links import PreviewLinks
from .core.validation import parse_json_object
from .gateway.rooms import ContainerRooms
from .manager import ContainerManager

MANAGER_KEY = "container_manager"
ROOMS_KEY = "container_rooms"
LINKS_KEY = "container_preview_links"
AUTH_RESOURCE = "containers"


def token_refused(handler) -> bool:
    """Did the request bring a token (header or ``?token=``) that did not log in?"""
    request = handler.request
    presented = "Authorization" in request.headers or "token" in request.arguments
    if not presented:
        return False
    try:
        return not handler.current_user
    except RuntimeError:  # refused before prepare() authenticated anyone
        return True


class ServiceMixin:
    """Typed access to the shared manager, for REST and WebSocket handlers alike."""

    settings: dict

    @property
    def manager(self) -> ContainerManager:
        """The container manager: every operation on containers, and the settings."""
        return self.settings[MANAGER_KEY]

    @property
    def rooms(self) -> ContainerRooms:
        """Live state of joined containers: sockets, terminals, watchers, listening ports."""
        return self.settings[ROOMS_KEY]

    @property
    def preview_links(self) -> PreviewLinks:
        return self.settings[LINKS_KEY]

    def preview_url(self, container_id: str, port: int) -> str:
        """The preview URL of a container port for the client of this request: on an
        origin of its own with a fresh grant, or the path proxy (see preview_links.py)."""
        return self.preview_links.url(container_id, port, scheme=self.request.protocol,
                                      host=self.request.host)

    def info_json(self, info: ContainerInfo, listening: list[int] | None = None) -> dict:
        """ContainerInfo as the API answers it: announced and listening ports with URLs."""
        ports = sorted(set(info.announced_ports) | set(listening or []))
        entries = []
        for port in ports:
            entry = {"port": port, "url": self.preview_url(info.id, port)}
            if port in info.published_ports:  # c.ContainerManager.publish_ports
                entry["hostPort"] = info.published_ports[port]
            entries.append(entry)
        return info.to_json(entries)


class JSONErrors:
    """Errors as ``{"message", "reason", "code"}`` JSON from one place, never a traceback,
    for any Jupyter handler (REST, docs pages and files, the socket's refused upgrade).

    A domain error (``ContainerManagerError``) raised by a handler reaches Tornado as any
    exception: ``log_exception`` keeps it out of the traceback log (a warning when it is
    the server's fault), and ``write_error`` answers the status it carries."""

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, ContainerManagerError):
            if value.status >= 500:
                self.log.warning("%s %s: %s", self.request.method, self.request.path, value.message)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # send_error() cleared the headers that prepare() set: a page on an allowed
        # origin (ServerApp.allow_origin) must read the error as it reads the answer.
        # Tornado may refuse a request before prepare() authenticated it (a path that is
        # not UTF-8): then only the configured origins apply, not the token's.
        with contextlib.suppress(RuntimeError):  # "current_user accessed before prepare"
            self.set_cors_headers()
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, ContainerManagerError):
            status_code = exc.status
            self.set_status(status_code)
        reason = responses.get(status_code, "Unknown HTTP Error")
        if isinstance(exc, ContainerManagerError):
            body = exc.to_json()
        elif isinstance(exc, HTTPError):
            message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            if status_code == 403 and token_refused(self):
                # Jupyter's own words here would be about a missing _xsrf argument.
                message = "The token was not accepted by this Jupyter server"
            body = {"message": message or exc.reason or reason, "reason": exc.reason or reason, "code": None}
        else:
            body = {"message": "Internal server error; see the server log", "reason": reason, "code": None}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class ContainerAPIHandler(JSONErrors, ServiceMixin, ExtensionHandlerMixin, APIHandler):
    """Base of the REST handlers: authorised through Jupyter, errors as
    ``{"message", "reason", "code"}`` JSON (``JSONErrors``)."""

    auth_resource = AUTH_RESOURCE
    answered = False  # finish() has been called: the answer is out

    def on_finish(self) -> None:
        self.answered = True
        super().on_finish()

    async def prepare(self, *args, **kwargs):
        await super().prepare(*args, **kwargs)
        container_id = self.path_kwargs.get("container_id")
        if container_id and self.current_user:
            self.manager.touch(container_id)  # a request naming a container is use

    def json_body(self) -> dict:
        """The request body as a JSON object (``{}`` when empty); 400 or 413 otherwise."""
        limit = self.manager.max_json_body
        if len(self.request.body or b"") > limit:
            raise TooLarge(f"Request body is larger than {limit} bytes (c.ContainerManager.max_json_body)")
        return parse_json_object(self.request.body)

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value))

    def url(self, *parts: str) -> str:
        """A path from the server root, base_url included."""
        base = self.base_url.rstrip("/")
        return "/".join([base, *(p.strip("/") for p in parts)])
