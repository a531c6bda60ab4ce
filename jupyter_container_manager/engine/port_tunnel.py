"""Connections to a port in a container, whatever address the server there listens on.

A server bound to 0.0.0.0 is reached directly at the container's address. A dev server
bound to 127.0.0.1 or ``localhost`` (Vite, Next and most others by default) is not
reachable from outside the container; then the connection is made from inside, by the
container's resident agent, and its bytes travel over the agent's exec stream, as
``kubectl port-forward`` does. The caller gets a Tornado ``IOStream`` either way: the
tunnel's end is one side of a local socket pair, pumped to and from the agent's channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import weakref
from collections.abc import Iterable

from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpclient import TCPClient

from ..core.errors import UpstreamClosed
from .agent import AgentChannel, Agents
from .port_forward import LoopbackForward

CHUNK = 64 * 1024
log = logging.getLogger(__name__)



async def connect(host: str, port: int, timeout: float) -> IOStream:
    """A TCP stream to ``host:port``; UpstreamClosed when nothing accepts it."""
    try:
        return await TCPClient().connect(host, port, timeout=timeout)
    except (OSError, StreamClosedError, TimeoutError) as err:
        reason = "timed out" if isinstance(err, TimeoutError) else "connection refused"
        raise UpstreamClosed(reason) from err


class PortTunnels:
    """Opens port connections for one server and owns the pumps of its tunnels."""

    def __init__(self, agents: Agents):
        self.agents = agents
        self._pumps: set[asyncio.Task] = set()
        self._forwards: weakref.WeakSet[LoopbackForward] = weakref.WeakSet()

    async def open(self, docker_id: str, address: str, port: int, timeout: float) -> IOStream:
        """A stream to ``port`` in the container: direct when it answers on ``address``,
        else through the agent to its loopback. UpstreamClosed when neither accepts."""
        if address:
            try:
                return await connect(address, port, timeout)
            except UpstreamClosed as err:
                refused = err
        else:
            refused = UpstreamClosed("the container has no network address")
        channel = await self.tunnel(docker_id, port, timeout)
        if channel is None:
            raise refused
        return self._bridge(channel)

    async def tunnel(self, docker_id: str, port: int, timeout: float) -> AgentChannel | None:
        """An open agent connection to the container's own loopback ``port``; None when
        there is no agent (an image without node) or nothing listens there."""
        agent = await self.agents.get(docker_id) if docker_id else None
        if agent is None:
            return None
        channel = agent.connect(port)
        try:
            await asyncio.wait_for(asyncio.shield(channel.connected), timeout)
        except (OSError, asyncio.TimeoutError):
            channel.close()
            return None
        return channel

    async def reachable(self, docker_id: str, address: str, port: int, timeout: float = 2.0) -> bool:
        """Whether a preview of ``port`` would reach a server now (a connection opened and
        closed at once)."""
        try:
            stream = await self.open(docker_id, address, port, timeout)
        except UpstreamClosed:
            return False
        stream.close()
        return True

    def forward(self, docker_id: str, ports: Iterable[int]) -> LoopbackForward:
        """Listeners on the server's loopback for these ports of the container
        (engine/port_forward.py), listening; closed by their owner or by :meth:`close`."""
        forward = LoopbackForward(self, docker_id, ports)
        forward.open()
        self._forwards.add(forward)
        return forward

    def _bridge(self, channel: AgentChannel) -> IOStream:
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        pump = asyncio.ensure_future(self.pump(channel, theirs))
        self._pumps.add(pump)
        pump.add_done_callback(self._pump_done)
        return IOStream(ours)

    def _pump_done(self, pump: asyncio.Task) -> None:
        self._pumps.discard(pump)
        if not pump.cancelled() and pump.exception() is not None:
            log.warning("a port tunnel failed: %r", pump.exception())

    @staticmethod
    async def pump(channel: AgentChannel, sock: socket.socket) -> None:
        """Carry bytes between a local socket and an agent connection until the app's
        side ends; both are closed then."""
        loop = asyncio.get_running_loop()

        async def to_app() -> None:
            with contextlib.suppress(OSError):
                while data := await loop.sock_recv(sock, CHUNK):
                    await channel.write(data)
                channel.close_stdin()  # the proxy is done sending: half-close to the app

        async def from_app() -> None:
            with contextlib.suppress(OSError):
                while (got := await channel.read()) is not None:
                    await loop.sock_sendall(sock, got[1])
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)

        sending = asyncio.ensure_future(to_app())
        try:
            await from_app()  # ends when the app closes the connection
        finally:
            sending.cancel()
            channel.close()
            sock.close()

    def close(self) -> None:
        for forward in list(self._forwards):
            forward.close()
        for pump in list(self._pumps):
            pump.cancel()
