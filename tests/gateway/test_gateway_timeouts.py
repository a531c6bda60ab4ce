"""Slow and idle clients (item 4; security case 23): idle sockets, sockets that
never read and request bodies sent a byte a second are closed by timeouts that are
settings, while new requests keep being served in their usual time and the server's
memory stays bounded. On a real ``jupyter server`` subprocess and the real engine; only
loopback traffic."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.servers import ServerProcess

IDLE_SOCKETS = 100  # that answer pings but send nothing
DEAF_SOCKETS = 100  # that never read a byte after the handshake
TORNADO_CLOSE_WAIT = 5.0  # Tornado waits this long for a closing client before aborting


def server_config(**timeouts) -> dict:
    return {
        "owner": f"test-{RUN_ID}-timeouts",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        **timeouts,
    }


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# --- a raw WebSocket client that never reads ------------------------------------------

def raw_handshake(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /container HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: token {server.token}\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(1)  # byte by byte: not one byte past the handshake is read
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    sock.setblocking(False)
    return sock


def masked_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    if len(payload) < 126:
        head += bytes([0x80 | len(payload)])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def closed_by_server(sock: socket.socket) -> bool:
    """Read what is waiting (only now): has the server closed the connection?"""
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return True
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


# --- requests that must keep being served ---------------------------------------------

class Prober:
    """GET /containers and a new socket's join, again and again, timed."""

    def __init__(self, server: ServerProcess, container_id: str):
        self.server = server
        self.container_id = container_id
        self.http = AsyncHTTPClient(force_instance=True)
        self.gets: list[float] = []
        self.joins: list[float] = []

    async def get(self) -> None:
        started = time.monotonic()
        answer = await self.http.fetch(f"{self.server.url}/containers",
                                       headers=self.server.headers, request_timeout=10)
        assert answer.code == 200
        self.gets.append(time.monotonic() - started)

    async def join(self) -> None:
        started = time.monotonic()
        conn = await websocket_connect(HTTPRequest(
            f"ws://127.0.0.1:{self.server.port}/container", headers=self.server.headers,
            request_timeout=10))
        try:
            conn.write_message(json.dumps({"event": "join-container", "id": "j",
                                           "data": {"containerId": self.container_id}}))
            reply = json.loads(await asyncio.wait_for(conn.read_message(), 10))
            assert reply["event"] == "joined-container", reply
        finally:
            conn.close()
        self.joins.append(time.monotonic() - started)

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await self.get()
            await self.join()
            await asyncio.sleep(0.1)

    def close(self) -> None:
        self.http.close()


async def create_container(server: ServerProcess) -> str:
    http = AsyncHTTPClient(force_instance=True)
    try:
        answer = await http.fetch(f"{server.url}/containers", method="POST",
                                  headers=server.headers, body=json.dumps({"name": "slow"}),
                                  request_timeout=120)
        return json.loads(answer.body)["id"]
    finally:
        http.close()


@pytest.mark.security_case(23)
async def test_idle_and_never_reading_sockets_are_closed_while_new_requests_are_served(
        docker_client):
    """Case 23: 100 idle sockets (they answer pings) go by ws_idle_timeout, with code 4408;
    100 that never read go by the ping timeout; meanwhile GET /containers and a new
    socket's join answer as usual, and the server's memory and open files come back."""
    config = server_config(ws_ping_interval=1.0, ws_ping_timeout=2.0, ws_idle_timeout=4.0)
    with ServerProcess(config) as server:
        container_id = await create_container(server)
        prober = Prober(server, container_id)
        try:
            await prober.run(time.monotonic() + 2)  # warm, and the usual time
            usual = p95(prober.gets + prober.joins)
            prober.gets.clear()
            prober.joins.clear()
            rss_before, fds_before = rss_kib(server.pid), open_fds(server.pid)

            opened = time.monotonic()
            idle = await asyncio.gather(*(
                websocket_connect(HTTPRequest(f"ws://127.0.0.1:{server.port}/container",
                                              headers=server.headers, request_timeout=30))
                for _ in range(IDLE_SOCKETS)))
            deaf = [raw_handshake(server) for _ in range(DEAF_SOCKETS)]
            assert open_fds(server.pid) >= fds_before + IDLE_SOCKETS + DEAF_SOCKETS - 5
            rss_during = rss_kib(server.pid)

            async def idle_closed(conn) -> float:
                assert await asyncio.wait_for(conn.read_message(), 30) is None
                assert conn.close_code == 4408, (conn.close_code, conn.close_reason)
                return time.monotonic() - opened

            async def all_closed_at_the_server() -> float:
                """The never-reading clients read nothing meanwhile: the server's open
                files tell when it has let go of every socket."""
                deadline = time.monotonic() + 30
                while open_fds(server.pid) > fds_before + 5:
                    assert time.monotonic() < deadline, \
                        f"{open_fds(server.pid) - fds_before} sockets stayed open"
                    await asyncio.sleep(0.1)
                return time.monotonic() - opened

            probing = asyncio.ensure_future(prober.run(time.monotonic() + 9))
            idle_times = await asyncio.gather(*(idle_closed(c) for c in idle))
            all_closed = await all_closed_at_the_server()
            await probing
            # Reading at last, each never-reading client finds its connection closed.
            assert all(closed_by_server(sock) for sock in deaf)
            for sock in deaf:
                sock.close()

            # Closed by the timeouts, not before, not much later.
            assert 3.5 <= min(idle_times) and max(idle_times) < 4 + 4
            # no pong for 2 s, seen at a ping (every 1 s), then Tornado's close wait
            assert all_closed < 2 + 1 + TORNADO_CLOSE_WAIT + 3
            # New requests were served in their usual time meanwhile.
            assert len(prober.gets) >= 10 and len(prober.joins) >= 10
            during = p95(prober.gets + prober.joins)
            assert during < 1.0, (during, usual)
            # Memory stayed bounded.
            rss_after = rss_kib(server.pid)
            assert rss_during - rss_before < 64 * 1024, (rss_before, rss_during)
            assert rss_after - rss_before < 64 * 1024, (rss_before, rss_after)
            print(f"p95 usual {usual * 1000:.0f} ms, under 200 sockets {during * 1000:.0f} ms;"
                  f" RSS {rss_before} -> {rss_during} -> {rss_after} KiB; idle closed after"
                  f" {min(idle_times):.1f}-{max(idle_times):.1f} s, all closed after"
                  f" {all_closed:.1f} s")
        finally:
            prober.close()


@pytest.mark.security_case(23)
async def test_a_socket_that_never_reads_its_output_is_closed_and_its_process_ended(
        docker_client):
    """No pings here: the send timeout alone closes a socket whose client stopped reading
    while a process floods it; the process ends with the socket; memory stays bounded."""
    config = server_config(ws_ping_interval=0.0, ws_send_timeout=2.0, ws_idle_timeout=0.0)
    with ServerProcess(config) as server:
        container_id = await create_container(server)
        rss_before = rss_kib(server.pid)
        sock = raw_handshake(server)
        sock.setblocking(True)
        sock.sendall(masked_frame(json.dumps({"event": "join-container",
                                              "data": {"containerId": container_id}})))
        sock.sendall(masked_frame(json.dumps({"event": "process-operation", "data": {
            "type": "spawn", "command": "sh", "args": ["-c", "exec yes flood-from-yes"]}})))
        started = time.monotonic()
        box = docker_client.containers.get(f"jcm-{container_id}")

        def flooding() -> bool:
            return b"flood-from-yes" in box.exec_run(["ps", "-eo", "args"]).output

        for _ in range(40):
            if flooding():
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError("the process never started")
        # The server gives up on the socket and ends its process: seen in the container,
        # while the client still reads nothing.
        rss_peak = rss_before
        while flooding():
            assert time.monotonic() - started < 2 + TORNADO_CLOSE_WAIT + 10, \
                "a never-reading socket stayed open"
            rss_peak = max(rss_peak, rss_kib(server.pid))
            await asyncio.sleep(0.25)
        closed_after = time.monotonic() - started
        assert closed_after > 1.5  # not before the send timeout
        # The client, reading at last, finds the end of the connection after what was
        # queued for it (bounded: the outbox and the network's buffers).
        received = 0
        sock.settimeout(20)
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
                assert received < 256 * 1024**2
        except ConnectionResetError:
            pass  # closed with a reset: closed all the same
        sock.close()
        assert rss_peak - rss_before < 64 * 1024, (rss_before, rss_peak)
        print(f"closed after {closed_after:.1f} s; client had {received} bytes waiting; "
              f"RSS {rss_before} -> peak {rss_peak} KiB")


@pytest.mark.security_case(23)
async def test_slow_request_bodies_are_cut_and_slow_moving_uploads_are_not(docker_client):
    """A PUT writeFile whose body comes a byte a second (less than the timeout apart) is
    served; one whose body stops is cut after http_body_timeout; other requests are
    served meanwhile."""
    config = server_config(http_body_timeout=2.0)
    with ServerProcess(config) as server:
        container_id = await create_container(server)
        prober = Prober(server, container_id)

        def put(length: int) -> socket.socket:
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall((f"PUT /webcontainer/{container_id}/fs/writeFile?path=/slow.txt "
                          f"HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                          f"Authorization: token {server.token}\r\n"
                          f"Content-Length: {length}\r\n\r\n").encode())
            return sock

        try:
            # A body that keeps moving, a byte every second, is never cut.
            moving = put(5)
            for byte in b"slow\n":
                await asyncio.sleep(1.0)
                moving.sendall(bytes([byte]))
            moving.settimeout(20)
            answer = moving.recv(4096)
            assert answer.startswith(b"HTTP/1.1 204"), answer
            moving.close()

            # A body that stops is cut: the server closes, answering nothing.
            stalled = [put(1000) for _ in range(20)]
            for sock in stalled:
                sock.sendall(b"x")
            started = time.monotonic()
            probing = asyncio.ensure_future(prober.run(time.monotonic() + 4))

            async def cut(sock) -> float:
                sock.setblocking(False)
                deadline = time.monotonic() + 15
                while True:
                    try:
                        if sock.recv(4096) == b"":
                            return time.monotonic() - started
                    except BlockingIOError:
                        pass
                    except ConnectionError:
                        return time.monotonic() - started
                    assert time.monotonic() < deadline, "a stalled body was never cut"
                    await asyncio.sleep(0.1)

            times = await asyncio.gather(*(cut(sock) for sock in stalled))
            await probing
            for sock in stalled:
                sock.close()
            assert 1.5 <= min(times) and max(times) < 2 + 3, times
            assert p95(prober.gets + prober.joins) < 1.0
            print(f"stalled bodies cut after {min(times):.1f}-{max(times):.1f} s")
        finally:
            prober.close()
