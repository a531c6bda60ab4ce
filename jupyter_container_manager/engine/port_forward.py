"""Ports of a container offered on the server's own loopback, carried by its agent.

Where the server has no route to a container's address (a swarm node's container), a
client that must connect by address and port itself (a Jupyter kernel's ZMQ sockets)
gets one listener per container port on ``127.0.0.1`` of the server, on a port the OS
picks. Each connection accepted there is carried by the container's resident agent to
the same port on the container's own loopback (engine/port_tunnel.py, as previews are):
``kubectl port-forward``'s model. A connection made before anything listens in the
container waits, retrying the agent's connection, for up to ``patience`` seconds, so a
client that connects early (a kernel still starting) needs no reconnect of its own.

The listeners and their connections are this structure's own: :meth:`close` ends them.
Anyone who can connect to the server's loopback can connect to them (other local users
of the server's machine); what they reach is what the container's port serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .port_tunnel import PortTunnels

log = logging.getLogger(__name__)
RETRY_FIRST = 0.02  # seconds between connection attempts while nothing listens yet...
RETRY_MOST = 0.05  # ...growing to this (a try costs an agent round trip)
ATTEMPT_TIMEOUT = 10.0  # one attempt's wait for the agent's answer


class LoopbackForward:
    """Listeners on 127.0.0.1, one per container port (:attr:`local` maps them)."""

    def __init__(self, tunnels: PortTunnels, docker_id: str, ports: Iterable[int],
                 patience: float = 20.0):
        self.tunnels = tunnels
        self.docker_id = docker_id
        self.ports = [int(port) for port in ports]
        self.patience = patience
        self.local: dict[int, int] = {}  # container port -> port on the server's loopback
        self._listeners: list[socket.socket] = []
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    def open(self) -> dict[int, int]:
        """Listen (once); the map of container ports to local ports."""
        if self._listeners or self._closed:
            return self.local
        try:
            for port in self.ports:
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._listeners.append(listener)
                listener.bind(("127.0.0.1", 0))
                listener.listen(16)
                listener.setblocking(False)
                self.local[port] = listener.getsockname()[1]
        except OSError:
            self.close()
            raise
        for listener, port in zip(self._listeners, self.ports, strict=True):
            self._own(self._accept(listener, port))
        return self.local

    @property
    def closed(self) -> bool:
        return self._closed

    def _own(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a forwarded port of %s failed: %r", self.docker_id[:12],
                        task.exception())

    async def _accept(self, listener: socket.socket, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                sock, _ = await loop.sock_accept(listener)
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._own(self._carry(sock, port))
        finally:
            listener.close()

    async def _carry(self, sock: socket.socket, port: int) -> None:
        try:
            channel = await self._connect(port)
        except BaseException:
            sock.close()
            raise
        if channel is None:
            sock.close()
            return
        await self.tunnels.pump(channel, sock)  # closes both when either side ends

    async def _connect(self, port: int):
        """The agent's connection to the container's port, tried until something listens
        there or ``patience`` runs out (None)."""
        deadline = time.monotonic() + self.patience
        wait = RETRY_FIRST
        while not self._closed:
            channel = await self.tunnels.tunnel(self.docker_id, port, ATTEMPT_TIMEOUT)
            if channel is not None:
                return channel
            if time.monotonic() + wait > deadline:
                return None
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MOST)
        return None

    def close(self) -> None:
        """Stop listening and end every connection carried."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        # Closed once the cancelled accepts let go of them (their callbacks come first);
        # an accept cancelled before it ever ran would not close its own.
        try:
            later = asyncio.get_running_loop().call_soon
        except RuntimeError:  # no loop runs: nothing waits on them
            later = None
        for listener in self._listeners:
            if later is not None:
                later(listener.close)
            else:
                with contextlib.suppress(OSError):
                    listener.close()
        self._listeners.clear()
