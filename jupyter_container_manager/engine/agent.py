"""The resident agent: one long-lived exec per container that runs the server's commands.

A ``docker exec`` costs a create, a start (an HTTP upgrade) and an inspect on the engine.
The agent (engine/agent.js, run as ``node -e``) forks the same commands in
the container on request, over the one exec stream it was started with, so the same
scripts give the same answers for a fork's cost. Each command is an :class:`AgentChannel`
with ExecStream's interface (read frames, write stdin, exit code), so callers do not know
which one they have. A container whose image has no ``node`` has no agent: callers fall
back to ``docker exec``, with the same behaviour.

File operations need no command at all: the agent does them itself with Node's ``fs``
(engine/agent_fs.js, the checks of fs_scripts.py in one process) and answers each request
with one reply (:meth:`Agent.fs`), over its lane when it has one (agent_lane.py: a direct
connection where this server reaches the container's address), else over the exec stream.

Flow control: the agent sends at most a window of unacknowledged bytes per command; the
server acknowledges what its reader consumed, so a reader that stops reading stops the
command's output in the container, as a pipe would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from importlib import resources

from .backend import EngineBackend
from .docker_backend import STDERR, STDOUT, ExecStartError, ExecStream

HELLO, OUT, ERR, EXIT, FAILED, CONNECTED, FS_REPLY = 1, 2, 3, 4, 5, 6, 7
SPAWN, STDIN, STDIN_EOF, ACK, CLOSE, CONNECT, FS, LANE = 10, 11, 12, 13, 14, 15, 16, 17
LOOPBACK_HOSTS = ["127.0.0.1", "::1"]
HEADER = struct.Struct(">BLL")
ACK_EVERY = 256 * 1024
READ_MOST = 256 * 1024  # bytes of the exec stream taken at once (frames of many commands)
REPLAY_LIMIT = 1024 * 1024  # input kept to run a command again if the agent dies
START_TIMEOUT = 5.0
_HERE = resources.files("jupyter_container_manager.engine")
AGENT_SOURCE = "\n".join(  # checkpoints (agent_checkpoints.js) are file operations too
    _HERE.joinpath(name).read_text()
    for name in ("agent.js", "agent_fs.js", "agent_upload.js", "agent_checkpoints.js",
                 "agent_lane.js"))
FS_VERSION = 2  # the first agent that does file operations itself
LANE_VERSION = 3  # the first with a lane (agent_lane.py)
UPLOAD_VERSION = 4  # the first that takes large uploads over its lane (lane_upload.py)

AGENT_BOOT = "/* jupyter-container-manager agent */ eval(process.env.JCM_AGENT_SOURCE)"
log = logging.getLogger(__name__)
Fallback = Callable[[], Awaitable[ExecStream]]


def frame(kind: int, channel: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, channel, len(payload)) + payload


class AgentChannel:
    """One command run by the agent; ExecStream's interface (without a TTY).

    When the agent dies before the command answered anything (it was killed, or its
    container restarted under it), the command runs again as a docker exec through
    ``fallback``, its input so far replayed (kept up to REPLAY_LIMIT bytes), so the caller
    sees one command either way."""

    tty = False

    def __init__(self, agent: Agent, channel: int, fallback: Fallback | None = None):
        self.agent = agent
        self.channel = channel
        self._fallback = fallback
        self._exec: ExecStream | None = None  # the docker exec it fell back to
        self._switching: asyncio.Future | None = None
        self._frames: deque[tuple[int, bytes]] = deque()
        self._ready = asyncio.Event()
        self._ended = False
        self._exit: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._consumed = 0
        self._stdin_closed = False
        self._received = False
        self._replay: bytearray | None = bytearray()
        # For a CONNECT: True once the connection is open, an OSError when it failed.
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    # fed by the agent's reader
    def _push(self, kind: int, data: bytes) -> None:
        self._received = True
        self._frames.append((kind, data))
        self._ready.set()

    def _end(self, code: int, *, agent_died: bool = False) -> None:
        if not self.connected.done():
            self.connected.set_exception(ConnectionRefusedError("the agent's connection failed"))
            self.connected.exception()  # retrieved: nobody need wait for it
        if agent_died and not self._received and self._fallback is not None \
                and self._replay is not None and self._switching is None:
            self._switching = asyncio.ensure_future(self._switch())
            # Its error (the container is gone...) is raised to whoever reads next.
            self._switching.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._received = True
        self._ended = True
        self._ready.set()
        if self._switching is None and not self._exit.done():
            self._exit.set_result(code)

    async def _switch(self) -> ExecStream:
        stream = await self._fallback()
        if self._replay:
            await stream.write(bytes(self._replay))
        if self._stdin_closed:
            stream.close_stdin()
        self._exec = stream
        return stream

    async def _fell_back(self) -> ExecStream | None:
        if self._switching is None:
            return None
        return await self._switching

    async def read(self) -> tuple[int, bytes] | None:
        while not self._frames:
            if self._switching is not None:
                return await (await self._fell_back()).read()
            if self._ended:
                return None
            self._ready.clear()
            await self._ready.wait()
        kind, data = self._frames.popleft()
        self._consumed += len(data)
        if self._consumed >= ACK_EVERY:  # far below the agent's window: it never waits
            consumed, self._consumed = self._consumed, 0
            self.agent.send(ACK, self.channel, struct.pack(">L", consumed))
        return kind, data

    async def write(self, data: bytes) -> None:
        if self._stdin_closed:
            raise BrokenPipeError("stdin is closed")
        if self._switching is not None:  # what came before is replayed by the switch
            await (await self._fell_back()).write(data)
            return
        if self._ended:
            raise BrokenPipeError("stdin is closed")
        if self._replay is not None:
            if len(self._replay) + len(data) <= REPLAY_LIMIT:
                self._replay += data
            else:
                self._replay = None  # too much to replay: no fallback from now on
        await self.agent.write(frame(STDIN, self.channel, bytes(data)))

    def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            if self._exec is not None:
                self._exec.close_stdin()
            elif self._switching is None:
                self.agent.send(STDIN_EOF, self.channel)

    def close(self) -> None:
        self._stdin_closed = True
        if self._exec is not None:
            self._exec.close()
        elif self._switching is not None:
            self._switching.cancel()
        elif not self._ended:
            self.agent.send(CLOSE, self.channel)
            self.agent.channels.pop(self.channel, None)
            self._end(-1)

    async def resize(self, *, rows: int, cols: int) -> None:
        return None  # no TTY through the agent

    async def exit_code(self, *, wait: float = 5.0) -> int:
        if self._switching is not None:
            try:
                return await (await self._fell_back()).exit_code(wait=wait)
            except Exception:  # noqa: BLE001 - the fallback could not start
                return -1
        try:
            return await asyncio.wait_for(asyncio.shield(self._exit), wait)
        except asyncio.TimeoutError:
            return -1


class AgentGone(ConnectionError):
    """The agent ended before it answered (its container stopped, someone killed it)."""


class Agent:
    """The agent of one container: its exec stream and the commands it runs."""

    def __init__(self, stream: ExecStream, on_end: Callable[[Agent], None] | None = None):
        self.stream = stream
        self.on_end = on_end  # called once its exec ended (the registry forgets it)
        self.channels: dict[int, AgentChannel] = {}
        self._next = 1
        self._reader: asyncio.Task | None = None
        self._requests: dict[int, asyncio.Future] = {}  # file operations awaiting a reply
        self.version = 0  # from its hello
        self.alive = True
        # Its lane (agent_lane.py): the connection, the task opening one, when to try
        # again after one failed, the ports its lanes listened on (private ports).
        self.lane = None
        self.lane_opening: asyncio.Future | None = None
        self.lane_retry_at = 0.0
        self.lane_ports: set[int] = set()
        self.lane_container = ""  # the container id those ports are private in
        self.lane_owner = f"agent-lane-{id(self):x}"  # their owner among its private ports

    @property
    def does_files(self) -> bool:
        """Whether this agent does file operations itself (:meth:`fs`)."""
        return self.alive and self.version >= FS_VERSION

    async def handshake(self) -> bool:
        """True once the agent said hello; False when it could not run (no node)."""
        buffer = bytearray()
        while True:
            got = await asyncio.wait_for(self.stream.read(), START_TIMEOUT)
            if got is None:
                return False
            kind, data = got
            if kind != STDOUT:
                continue  # node's complaints; the answer is the missing hello
            buffer += data
            if len(buffer) >= HEADER.size:
                hello, _, size = HEADER.unpack_from(buffer)
                if hello != HELLO:
                    return False
                if len(buffer) < HEADER.size + size:
                    continue
                words = bytes(buffer[HEADER.size: HEADER.size + size]).split()
                self.version = int(words[-1]) if words and words[-1].isdigit() else 0
                self._pending = buffer[HEADER.size + size:]
                self._reader = asyncio.ensure_future(self._read())
                return True

    def open(
        self, argv: list[str], env: dict[str, str] | None = None, fallback: Fallback | None = None
    ) -> AgentChannel:
        channel = AgentChannel(self, self._next, fallback)
        self.channels[self._next] = channel
        self.send(SPAWN, self._next, json.dumps({"argv": argv, "env": env or {}}).encode())
        self._next += 1
        return channel

    def connect(self, port: int, hosts: list[str] | None = None) -> AgentChannel:
        """A TCP connection made inside the container to ``port`` on the first of ``hosts``
        that accepts (loopback by default): its bytes travel as the channel's stdin and
        stdout. ``await channel.connected`` before writing."""
        channel = AgentChannel(self, self._next)
        channel._replay = None  # a connection is never replayed through a docker exec
        self.channels[self._next] = channel
        request = {"port": int(port), "hosts": hosts or LOOPBACK_HOSTS}
        self.send(CONNECT, self._next, json.dumps(request).encode())
        self._next += 1
        return channel

    async def fs(self, request: dict, data: bytes = b"") -> tuple[dict, bytes]:
        """One file operation done by the agent (agent_fs.js): its JSON answer and the
        bytes that follow it. Raises AgentGone when the agent ended first. Over the lane
        when it has one; one that broke before the reply leaves the operation to the exec
        stream (as an agent that died leaves it to a script: a request it had done may be
        done again, as there)."""
        lane = self.lane
        if lane is not None and lane.alive:
            with contextlib.suppress(ConnectionError):  # LaneBroken
                return await lane.fs(request, data)
        return await self.request(FS, request, data)

    async def request(self, kind: int, request: dict, data: bytes = b"") -> tuple[dict, bytes]:
        """A request over the exec stream answered by one FS_REPLY (FS, LANE)."""
        number = self._next
        self._next += 1
        reply = asyncio.get_running_loop().create_future()
        self._requests[number] = reply
        try:
            await self.write(frame(kind, number, json.dumps(request).encode() + b"\0" + data))
            return await reply
        except BrokenPipeError as err:
            raise AgentGone(str(err)) from err
        finally:
            self._requests.pop(number, None)

    def send(self, kind: int, channel: int, payload: bytes = b"") -> None:
        """Queue a small control frame (not waiting for the pipe)."""
        if self.alive:
            with contextlib.suppress(Exception):
                self.stream.write_nowait(frame(kind, channel, payload))

    async def write(self, data: bytes) -> None:
        if not self.alive:
            raise BrokenPipeError("the agent is gone")
        await self.stream.write(data)  # one frame per write: frames never interleave

    def _frames(self, buffer) -> int:
        """Dispatch the complete frames at the start of ``buffer``, the number of bytes
        they took. Each payload is copied once, out of a view; consecutive output frames
        of one channel and stream are dispatched as one (fewer, larger chunks)."""
        offset, end = 0, len(buffer)
        run_kind = run_channel = None
        run: list[memoryview] = []
        with memoryview(buffer) as view:
            while end - offset >= HEADER.size:
                kind, channel, size = HEADER.unpack_from(view, offset)
                if end - offset < HEADER.size + size:
                    break
                start = offset + HEADER.size
                payload = view[start: start + size]
                offset = start + size
                if run and (kind != run_kind or channel != run_channel):
                    self._dispatch(run_kind, run_channel, b"".join(run))
                    run.clear()
                if kind in (OUT, ERR):
                    run_kind, run_channel = kind, channel
                    run.append(payload)
                else:
                    self._dispatch(kind, channel, bytes(payload))
            if run:
                self._dispatch(run_kind, run_channel, b"".join(run))
                run.clear()
        return offset

    async def _read(self) -> None:
        pending = self._pending
        try:
            while True:
                offset = self._frames(pending)
                if offset:
                    del pending[:offset]
                got = await self.stream.read(READ_MOST)
                if got is None:
                    break
                kind, data = got
                if kind == STDERR:
                    log.debug("agent: %s", data[:500])
                    continue
                if not pending:  # most reads: frames straight out of what came
                    offset = self._frames(data)
                    data = data[offset:] if offset else data
                pending += data
        finally:
            self.alive = False
            for reply in list(self._requests.values()):
                if not reply.done():
                    reply.set_exception(AgentGone("the agent ended"))
            for channel in list(self.channels.values()):
                channel._end(-1, agent_died=True)
            self.channels.clear()
            self._close_lane()  # the agent ended: its lane with it
            self.stream.close()
            if self.on_end is not None:
                self.on_end(self)

    def _dispatch(self, kind: int, number: int, payload: bytes) -> None:
        if kind == FS_REPLY:
            reply = self._requests.get(number)
            if reply is not None and not reply.done():
                head, _, data = payload.partition(b"\0")
                reply.set_result((json.loads(head), data))
            return
        channel = self.channels.get(number)
        if channel is None:
            return
        if kind == CONNECTED:
            if not channel.connected.done():
                channel.connected.set_result(True)
        elif kind == OUT:
            channel._push(STDOUT, payload)
        elif kind == ERR:
            channel._push(STDERR, payload)
        elif kind in (EXIT, FAILED):
            self.channels.pop(number, None)
            if kind == FAILED:
                channel._push(STDERR, payload)
            code = int(payload) if kind == EXIT and payload.strip().lstrip(b"-").isdigit() else 127
            channel._end(code)

    def close(self) -> None:
        self.alive = False
        if self._reader is not None:
            self._reader.cancel()
        self._close_lane()
        self.stream.close()

    def _close_lane(self) -> None:
        if self.lane_opening is not None:
            self.lane_opening.cancel()
        lane, self.lane = self.lane, None
        if lane is not None:
            lane.close()


class Agents:
    """The agents of the containers, started on first use; a container whose agent
    cannot run is remembered so it is not tried again (until it is removed)."""

    def __init__(self, engine: EngineBackend, enabled: bool = True, *, lanes: bool = True,
                 ports=None):
        self.engine = engine
        self.enabled = enabled
        self.lanes = lanes  # file operations over a lane where the container is reachable
        # hide_ports(container_id, owner, ports) and show_ports(container_id, owner): the
        # manager's private ports, which port listings and announcements leave out.
        self.ports = ports
        self._agents: dict[str, Agent] = {}
        self._starting: dict[str, asyncio.Future] = {}
        self._without: set[str] = set()

    def running(self, docker_id: str) -> Agent | None:
        """The container's agent if it runs now (none is started)."""
        agent = self._agents.get(docker_id)
        return agent if agent is not None and agent.alive else None

    async def get(self, docker_id: str) -> Agent | None:
        """The container's running agent, started if need be; None: use docker exec."""
        if not self.enabled or docker_id in self._without:
            return None
        agent = self._agents.get(docker_id)
        if agent is not None and agent.alive:
            return agent
        starting = self._starting.get(docker_id)
        if starting is None:
            starting = asyncio.ensure_future(self._start(docker_id))
            self._starting[docker_id] = starting
            starting.add_done_callback(lambda _: self._starting.pop(docker_id, None))
        try:
            return await asyncio.shield(starting)
        except Exception:  # noqa: BLE001 - the caller's own exec will say what is wrong
            return None

    async def _start(self, docker_id: str) -> Agent | None:
        try:
            # The source travels in the environment, so `ps` shows one short line.
            exec_id = await self.engine.exec_create(
                docker_id, ["node", "-e", AGENT_BOOT], stdin=True,
                env={"JCM_AGENT_SOURCE": AGENT_SOURCE},
            )
            stream = await self.engine.exec_start(exec_id)
        except ExecStartError:
            return None
        except Exception as err:  # noqa: BLE001 - e.g. not running: no agent for now
            log.debug("agent: not started in %s: %s", docker_id[:12], err)
            raise
        agent = Agent(stream, on_end=lambda ended: self._ended(docker_id, ended))
        try:
            ok = await agent.handshake()
        except (asyncio.TimeoutError, OSError):
            ok = False
        if not ok:
            stream.close()
            code = await stream.exit_code(wait=1.0)
            if code in (126, 127):  # no node in this image: never try again
                self._without.add(docker_id)
            return None
        self._agents[docker_id] = agent
        return agent

    def _ended(self, docker_id: str, agent: Agent) -> None:
        if self._agents.get(docker_id) is agent:
            del self._agents[docker_id]
        self._show_lane_ports(agent)

    def forget(self, docker_id: str) -> None:
        agent = self._agents.pop(docker_id, None)
        if agent is not None:
            agent.close()
            self._show_lane_ports(agent)
        self._without.discard(docker_id)

    def hide_lane_ports(self, agent: Agent, container_id: str) -> None:
        """The ports of the agent's lanes are the server's, not the user's."""
        agent.lane_container = container_id
        if self.ports is not None:
            self.ports.hide_ports(container_id, agent.lane_owner, set(agent.lane_ports))

    def _show_lane_ports(self, agent: Agent) -> None:
        """The agent ended: its lanes' ports are closed, free for the user's servers."""
        if agent.lane_container and self.ports is not None:
            self.ports.show_ports(agent.lane_container, agent.lane_owner)
        agent.lane_ports.clear()

    def close(self) -> None:
        for docker_id in list(self._agents):
            self.forget(docker_id)
