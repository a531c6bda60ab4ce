"""Host ports for ``publish_ports``: container ports published on 127.0.0.1:8000 and up.

Docker 20.10 can take a host port range (``127.0.0.1:8000-8999:3000``) but picks from it
without checking what other programs listen on, so a Jupyter server on 8888 or anything
on 8000 makes the start fail. So the server picks free ports itself (it runs on the
Docker host when it publishes ports), and the caller retries with others when the
engine still reports a conflict (a race with another program or container).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import docker.errors

from ..core.errors import Unprocessable

PUBLISH_HOST = "127.0.0.1"
PUBLISH_RANGE = range(8000, 9000)
PUBLISH_ATTEMPTS = 5


def port_is_free(port: int, host: str = PUBLISH_HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_host_ports(count: int, avoid: Iterable[int] = ()) -> list[int]:
    """``count`` host ports of PUBLISH_RANGE that nothing listens on, lowest first."""
    avoid = set(avoid)
    found: list[int] = []
    for port in PUBLISH_RANGE:
        if port not in avoid and port_is_free(port):
            found.append(port)
            if len(found) == count:
                return found
    raise Unprocessable(
        f"No free host port left in {PUBLISH_RANGE.start}-{PUBLISH_RANGE.stop - 1} "
        "to publish on (c.ContainerManager.publish_ports)"
    )


def port_bindings(ports: list[int], host_ports: list[int]) -> dict:
    """docker-py ``ports=`` for publishing ``ports`` on ``host_ports`` (same order)."""
    pairs = zip(ports, host_ports, strict=True)
    return {f"{port}/tcp": (PUBLISH_HOST, host) for port, host in pairs}


def is_port_conflict(err: docker.errors.APIError) -> bool:
    text = str(getattr(err, "explanation", "") or err).lower()
    return "address already in use" in text or "port is already allocated" in text


def create_published(client, create_and_start, options: dict, ports: list[int]) -> dict:
    """Run ``create_and_start(client)`` with ``ports`` published on free host ports;
    when the engine reports a port conflict, again with other ports."""
    tried: set[int] = set()
    for attempt in range(PUBLISH_ATTEMPTS):
        host_ports = free_host_ports(len(ports), avoid=tried)
        tried.update(host_ports)
        options["ports"] = port_bindings(ports, host_ports)
        try:
            return create_and_start(client)
        except Unprocessable as err:
            cause = err.__cause__
            conflict = isinstance(cause, docker.errors.APIError) and is_port_conflict(cause)
            if not conflict or attempt == PUBLISH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
