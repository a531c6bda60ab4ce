"""The /container WebSocket against raw docker exec, in the same run, on one container:

- keystroke echo: one character typed into a PTY (pty-input) until its echo comes back
  (pty-output), against the same through a raw docker exec tty socket (docker-py's
  hijacked socket). The tty's own line discipline echoes, so both measure transport only.
- output throughput: a process printing N MiB, streamed as process-output frames, against
  the raw exec stream (multiplexed frames read straight from the socket). Measured for
  protocol version 1 (JSON text frames) and version 2 (binary frames, read and decoded
  as the clients do: a streaming UTF-8 decoder per process) on two sockets.

Rounds alternate ours and raw so both see the same engine and CPU. Prints p50/p95 and the
ratios (targets: echo as close to raw as possible, throughput >= 0.8 of raw).

    .venv/bin/python benchmarks/bench_gateway.py [keystrokes] [MiB]
"""

from __future__ import annotations

import asyncio
import codecs
import json
import socket
import sys
import time

import docker
from common import bench_server, percentile, print_table, summary

from jupyter_container_manager.client.gateway import parse_output_frame
from jupyter_container_manager.engine.docker_backend import DockerBackend

try:  # parse frames as fast as a browser does, so the server is what is measured
    from orjson import loads
except ImportError:  # pragma: no cover
    from json import loads
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

# Prints exactly N MiB of ASCII.
FLOOD = "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c \"$1\""
# A tty that only echoes: the line discipline echoes each key; cat reads it away.
ECHO_ONLY = "stty -icanon min 1; exec cat > /dev/null"


# --- ours: over the WebSocket ------------------------------------------------------------


V1 = ["jupyter-container-manager.v1"]
V2 = ["jupyter-container-manager.v2", "jupyter-container-manager.v1"]


class Socket:
    def __init__(self, connection):
        self.connection = connection
        self.ids = 0
        self.decoders: dict = {}

    @classmethod
    async def open(cls, server, offered: list[str] | None = V1) -> Socket:
        url = server.url.replace("http", "ws", 1) + "/container"
        return cls(await websocket_connect(HTTPRequest(url, headers=server.headers),
                                           max_message_size=64 * 2**20,
                                           subprotocols=offered))

    async def send(self, event: str, data: dict, with_id: bool = True) -> str | None:
        frame = {"event": event, "data": data}
        request_id = None
        if with_id:
            self.ids += 1
            request_id = frame["id"] = f"b{self.ids}"
        await self.connection.write_message(json.dumps(frame))
        return request_id

    async def frame(self) -> dict:
        message = await asyncio.wait_for(self.connection.read_message(), 60)
        assert message is not None, "socket closed"
        if isinstance(message, bytes):  # v2 output: read and decoded as the clients do
            event, data, payload = parse_output_frame(message)
            key = (event, data.get("pid", data.get("terminalId")))
            decoder = self.decoders.get(key)
            if decoder is None:
                decoder = self.decoders[key] = codecs.getincrementaldecoder("utf-8")("replace")
            data["data"] = decoder.decode(payload)
            return {"event": event, "data": data}
        return loads(message)

    async def request(self, event: str, data: dict) -> dict:
        request_id = await self.send(event, data)
        while True:
            frame = await self.frame()
            if frame.get("id") == request_id:
                assert frame["event"] != "error", frame
                return frame["data"]


async def ws_echo(sock: Socket, keystrokes: int) -> list[float]:
    pid = (await sock.request("process-operation", {
        "type": "spawn", "command": "sh", "args": ["-c", ECHO_ONLY],
        "terminal": {"cols": 80, "rows": 24}}))["pid"]
    await asyncio.sleep(0.3)  # stty has run
    samples = []
    for n in range(keystrokes):
        key = "abcdefghij"[n % 10]
        started = time.perf_counter()
        await sock.send("process-operation", {"type": "input", "pid": pid, "data": key},
                        with_id=False)
        while True:
            frame = await sock.frame()
            if frame["event"] == "process-output" and key in frame["data"]["data"]:
                break
        samples.append(time.perf_counter() - started)
    await sock.request("process-operation", {"type": "kill", "pid": pid})
    return samples


async def ws_pty_echo(sock: Socket, keystrokes: int) -> list[float]:
    """The same through a pty-open terminal (the PTY sessions that outlive sockets)."""
    terminal = (await sock.request("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    await sock.send("pty-input", {"terminalId": terminal, "data": ECHO_ONLY + "\r"},
                    with_id=False)
    await asyncio.sleep(1.0)
    while True:  # drain the prompt and the command's echo
        try:
            await asyncio.wait_for(sock.frame(), 0.3)
        except asyncio.TimeoutError:
            break
    samples = []
    for n in range(keystrokes):
        key = "abcdefghij"[n % 10]
        started = time.perf_counter()
        await sock.send("pty-input", {"terminalId": terminal, "data": key}, with_id=False)
        while True:
            frame = await sock.frame()
            if frame["event"] == "pty-output" and key in frame["data"]["data"]:
                break
        samples.append(time.perf_counter() - started)
    await sock.request("pty-close", {"terminalId": terminal, "kill": True})
    return samples


async def ws_throughput(sock: Socket, size: int) -> float:
    """MiB/s from the first output to the exit (process start-up is the spawn benchmark's)."""
    pid = (await sock.request("process-operation", {
        "type": "spawn", "command": "sh", "args": ["-c", FLOOD, "sh", str(size)]}))["pid"]
    received, first, started = 0, 0, 0.0
    while True:
        frame = await sock.frame()
        if frame["event"] == "process-output" and frame["data"]["pid"] == pid:
            received += len(frame["data"]["data"])
            if not started:
                started, first = time.perf_counter(), received
        elif frame["event"] == "process-exit" and frame["data"]["pid"] == pid:
            break
    elapsed = time.perf_counter() - started
    assert received == size, (received, size)
    return (received - first) / 2**20 / elapsed


# --- raw: docker-py's hijacked exec socket ------------------------------------------------


def raw_socket(api: docker.APIClient, docker_id: str, argv: list[str], tty: bool):
    exec_id = api.exec_create(docker_id, argv, stdin=tty, tty=tty)["Id"]
    sock = api.exec_start(exec_id, tty=tty, socket=True)
    raw = getattr(sock, "_sock", sock)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) if raw.family != socket.AF_UNIX \
        else None
    return raw


def raw_echo(api: docker.APIClient, docker_id: str, keystrokes: int) -> list[float]:
    sock = raw_socket(api, docker_id, ["sh", "-c", ECHO_ONLY], tty=True)
    time.sleep(0.3)
    sock.settimeout(30)
    samples = []
    for n in range(keystrokes):
        key = "abcdefghij"[n % 10].encode()
        started = time.perf_counter()
        sock.sendall(key)
        while key not in sock.recv(4096):
            pass
        samples.append(time.perf_counter() - started)
    sock.close()
    return samples


def raw_throughput(api: docker.APIClient, docker_id: str, size: int) -> float:
    """MiB/s from the first output to the end of the stream."""
    sock = raw_socket(api, docker_id, ["sh", "-c", FLOOD, "sh", str(size)], tty=False)
    sock.settimeout(60)
    view = memoryview(bytearray(1 << 20))
    first = sock.recv_into(view)
    started = time.perf_counter()
    received = first
    while count := sock.recv_into(view):
        received += count
    elapsed = time.perf_counter() - started
    sock.close()
    headers = received - size
    assert 0 <= headers < size // 100 and headers % 8 == 0, (received, size)  # frame headers
    return (received - first) / 2**20 / elapsed


async def engine_throughput(engine, docker_id: str, size: int) -> float:
    """The same through the project's own asyncio exec stream (what the gateway relays)."""
    stream = await engine.exec_start(
        await engine.exec_create(docker_id, ["sh", "-c", FLOOD, "sh", str(size)]))
    received, first, started = 0, 0, 0.0
    while (frame := await stream.read()) is not None:
        received += len(frame[1])
        if not started:
            started, first = time.perf_counter(), received
    elapsed = time.perf_counter() - started
    stream.close()
    assert received == size, (received, size)
    return (received - first) / 2**20 / elapsed


# --- the run ---------------------------------------------------------------------------


async def ours(server, keystrokes: int, size: int, rounds: int):
    sock = await Socket.open(server)
    container = server.request("POST", "containers", json={"name": "bench-gateway"}).json()
    await sock.request("join-container", {"containerId": container["id"]})
    return sock, container


def main(keystrokes: int = 300, mib: int = 256, rounds: int = 3) -> None:
    size = mib * 2**20
    api = docker.APIClient()
    echo = {"ours": [], "pty": [], "raw": []}
    throughput = {"ours": [], "v2": [], "raw": [], "engine": []}
    with bench_server() as server:
        loop = asyncio.new_event_loop()
        engine = DockerBackend()
        sock, container = loop.run_until_complete(ours(server, keystrokes, size, rounds))
        docker_id = f"jcm-{container['id']}"
        sock_v2 = loop.run_until_complete(Socket.open(server, V2))
        loop.run_until_complete(sock_v2.request("join-container",
                                                {"containerId": container["id"]}))
        for _ in range(rounds):
            echo["raw"] += raw_echo(api, docker_id, keystrokes // rounds)
            echo["ours"] += loop.run_until_complete(ws_echo(sock, keystrokes // rounds))
            echo["pty"] += loop.run_until_complete(ws_pty_echo(sock, keystrokes // rounds))
            throughput["raw"].append(raw_throughput(api, docker_id, size))
            throughput["ours"].append(loop.run_until_complete(ws_throughput(sock, size)))
            throughput["v2"].append(loop.run_until_complete(ws_throughput(sock_v2, size)))
            throughput["engine"].append(
                loop.run_until_complete(engine_throughput(engine, docker_id, size)))
        loop.run_until_complete(engine.close())
        sock.connection.close()
        sock_v2.connection.close()
        loop.close()
        server.request("DELETE", f"containers/{container['id']}")

    print(f"gateway: {keystrokes} keystrokes, {rounds} x {mib} MiB of output, "
          f"one container, ours and raw alternating")
    print_table([
        ("echo, spawn terminal", summary(echo["ours"]), summary(echo["raw"])),
        ("echo, pty-open terminal", summary(echo["pty"]), summary(echo["raw"])),
    ])
    print()
    print(f"{'output throughput, MiB/s':<28}{'v1':>8}{'v2':>8}{'raw':>8}{'v1/raw':>8}"
          f"{'v2/raw':>8}{'engine':>8}{'v2/eng':>8}")
    for label, pick in (("  median of rounds", lambda v: percentile(v, 50)),
                        ("  best round", max)):
        v1_, v2_, raw_, engine_ = (pick(throughput[k]) for k in ("ours", "v2", "raw", "engine"))
        print(f"{label:<28}{v1_:>8.1f}{v2_:>8.1f}{raw_:>8.1f}{v1_ / raw_:>8.2f}"
              f"{v2_ / raw_:>8.2f}{engine_:>8.1f}{v2_ / engine_:>8.2f}")
    print("(v1: JSON text frames; v2: binary frames; raw: docker-py's exec socket read with "
          "recv_into, no parsing; engine: the asyncio exec stream the gateway reads; "
          "target: v2 >= 0.80 of raw)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
