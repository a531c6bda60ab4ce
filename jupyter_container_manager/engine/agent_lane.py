"""The agent's lane: its file operations over a direct TCP connection, not the exec stream.

A request over the agent's exec stream goes from this server through dockerd and the
containerd shim to the agent's stdin, and its reply back the same way: four processes to
be scheduled per operation, most of a small operation's cost on a busy machine. Where this
server reaches the container's address directly (a single engine on this host, as the
preview proxy does; ``EngineBackend.address_of``), the agent also listens there for this
server alone (agent_lane.js), and file operations go over that connection: same frames,
same answers, the same code in the agent doing them.

Only this server can use it: it makes a random secret per lane and sends it over the
exec stream (never in an environment, argument, label or log); a connection that does
not present it first is closed unanswered. The port, picked here in the kernel's
ephemeral range, is private to the server (never reported as a port of the container).
Whatever goes wrong with the lane (refused, not routable, closed, timed out), the
operation goes over the exec stream instead: no caller sees an error because of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import time
from collections.abc import Callable

from .agent import FS, FS_REPLY, HEADER, HELLO, LANE, LANE_VERSION, Agent, AgentGone, Agents

SECRET_BYTES = 32
CONNECT_TIMEOUT = 2.0  # seconds to connect and hear the agent's hello
# Data unacknowledged this long aborts the connection (TCP_USER_TIMEOUT): a lane whose
# route went away (the container left its network) fails instead of hanging.
UNACKNOWLEDGED_MS = 5000
PORTS = range(32768, 61000)  # Linux's default ephemeral range: where port 0 would land
DRAIN_ABOVE = 64 * 1024  # bytes of a request past which the write waits for the socket
PORT_ATTEMPTS = 3  # ports tried when the one picked is taken
RETRY_AFTER = 30.0  # seconds before a lane that failed or broke is tried again
log = logging.getLogger(__name__)


class LaneBroken(ConnectionError):
    """The lane closed or failed before the reply: do the operation over the exec stream."""


class AgentLane:
    """One connection to the agent's lane; concurrent requests, replies by number."""

    def __init__(self, address: str, port: int, secret: bytes, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, on_end: Callable[[AgentLane], None] | None):
        self.address = address
        self.port = port
        self.secret = secret  # in this server's memory only
        self.requests = 0  # file operations answered over it
        self.alive = True
        self._reader = reader
        self._writer = writer
        self._on_end = on_end
        self._replies: dict[int, asyncio.Future] = {}
        self._next = 1
        self._task = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, address: str, port: int, secret: bytes,
                      on_end: Callable[[AgentLane], None] | None = None) -> AgentLane:
        """Connect, present the secret, hear the hello. OSError or TimeoutError when the
        lane cannot be used from here."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port), CONNECT_TIMEOUT)
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with contextlib.suppress(AttributeError, OSError):  # Linux only
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT,
                                    UNACKNOWLEDGED_MS)
            writer.write(secret)
            head = await asyncio.wait_for(reader.readexactly(HEADER.size), CONNECT_TIMEOUT)
            kind, _, size = HEADER.unpack(head)
            if kind != HELLO or size > 64:
                raise ConnectionRefusedError("the lane did not say hello")
            await asyncio.wait_for(reader.readexactly(size), CONNECT_TIMEOUT)
        except BaseException:
            writer.close()
            raise
        return cls(address, port, secret, reader, writer, on_end)

    async def fs(self, request: dict, data: bytes = b"") -> tuple[dict, bytes]:
        """As :meth:`Agent.fs`; LaneBroken when the lane ended before the reply."""
        if not self.alive:
            raise LaneBroken("the lane is closed")
        number = self._next
        self._next += 1
        reply = asyncio.get_running_loop().create_future()
        self._replies[number] = reply
        try:
            head = json.dumps(request).encode() + b"\0"
            size = len(head) + len(data)
            if size > DRAIN_ABOVE:  # a piece of an upload: its bytes are not copied again
                self._writer.write(HEADER.pack(FS, number, size) + head)
                self._writer.write(data)
                await self._writer.drain()
            else:  # one write, one segment
                self._writer.write(HEADER.pack(FS, number, size) + head + data)
            answer = await reply
        except (OSError, RuntimeError) as err:  # the transport closed under the write
            self.close()
            raise LaneBroken(str(err)) from err
        finally:
            self._replies.pop(number, None)
        self.requests += 1
        return answer

    async def _read(self) -> None:
        try:
            while True:
                kind, number, size = HEADER.unpack(await self._reader.readexactly(HEADER.size))
                payload = await self._reader.readexactly(size)
                reply = self._replies.get(number)
                if kind == FS_REPLY and reply is not None and not reply.done():
                    head, _, data = payload.partition(b"\0")
                    reply.set_result((json.loads(head), data))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._ended()

    def _ended(self) -> None:
        if not self.alive:
            return
        self.alive = False
        for reply in list(self._replies.values()):
            if not reply.done():
                reply.set_exception(LaneBroken("the lane ended"))
        self._writer.close()
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self)

    def close(self) -> None:
        """Close the connection (the agent keeps listening until told or it ends)."""
        self._task.cancel()
        self._ended()


def use_lane(agents: Agents, agent: Agent, container_id: str, address: str) -> None:
    """Make sure ``agent`` has a lane to ``address`` (its container's address from here;
    "" when there is none) or is opening one: the operations after this one take it.
    Cheap when it has one; it never raises and never waits."""
    lane = agent.lane
    if lane is not None and lane.alive and lane.address == address:
        return
    if lane is not None:  # broken, or the container moved to another address
        agent.lane = None
        lane.close()
    if not (agents.lanes and address and agent.alive and agent.version >= LANE_VERSION):
        return
    if agent.lane_opening is not None or time.monotonic() < agent.lane_retry_at:
        return
    agent.lane_opening = asyncio.ensure_future(_open(agents, agent, container_id, address))
    agent.lane_opening.add_done_callback(lambda _: setattr(agent, "lane_opening", None))


async def ready_lane(agents: Agents, agent: Agent, container_id: str,
                     address: str) -> AgentLane | None:
    """The agent's lane, waiting for one being opened (a large upload is worth the wait):
    None when there is none to be had now (no address, turned off, failed)."""
    use_lane(agents, agent, container_id, address)
    opening = agent.lane_opening
    if opening is not None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(opening), 2 * CONNECT_TIMEOUT + 1)
    lane = agent.lane
    return lane if lane is not None and lane.alive and lane.address == address else None


async def _open(agents: Agents, agent: Agent, container_id: str, address: str) -> None:
    """Ask the agent to listen (a free port, its secret), connect, hand the lane over."""
    agent.lane_retry_at = time.monotonic() + RETRY_AFTER  # until it works
    secret = secrets.token_bytes(SECRET_BYTES)
    try:
        for _ in range(PORT_ATTEMPTS):
            port = PORTS[secrets.randbelow(len(PORTS))]
            # Private before it listens, so never reported as opened. The agent closes
            # its earlier listener first; its port stays private until the answer.
            agent.lane_ports.add(port)
            agents.hide_lane_ports(agent, container_id)
            reply, _ = await agent.request(
                LANE, {"host": address, "port": port, "secret": secret.hex()})
            listening = not reply.get("code") and reply.get("port") == port
            # Only this port may be listening now (else none: taken by a server of the
            # user's, or refused).
            agent.lane_ports.intersection_update({port} if listening else ())
            agents.hide_lane_ports(agent, container_id)
            if listening or reply.get("code") != "EADDRINUSE":
                break
        if not listening:
            raise ConnectionRefusedError(f"the agent did not listen: {reply.get('code')}")

        def ended(lane: AgentLane) -> None:
            if agent.lane is lane:
                agent.lane = None
                agent.lane_retry_at = time.monotonic() + RETRY_AFTER

        try:
            lane = await AgentLane.connect(address, port, secret, ended)
        except (OSError, asyncio.TimeoutError):
            with contextlib.suppress(AgentGone):  # not reachable from here: stop listening
                await agent.request(LANE, {"close": True})
                agent.lane_ports.clear()
                agents.hide_lane_ports(agent, container_id)
            raise
        if not agent.alive:
            lane.close()
            return
        agent.lane = lane
        agent.lane_retry_at = 0.0
    except (OSError, asyncio.TimeoutError, AgentGone) as err:
        log.debug("agent lane to %s: not used: %r", address, err)
