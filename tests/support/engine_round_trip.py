"""The API run end to end on an engine that a real Jupyter server found through its
environment alone (``DOCKER_HOST`` with TLS or ``ssh://``, a Docker context): the tests of
tests/engine/test_tls_engine.py, test_ssh_engine.py and test_docker_context.py share it.

:class:`EnvServer` is a server subprocess whose Docker variables are exactly the ones a
test gives. :func:`run_the_api` creates a container, checks on which engine it runs,
round-trips files (a streamed upload whose end is the transport's half-close, a JSON
write), spawns a command whose output streams, opens a PTY on the ``/container`` socket,
and deletes the container.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import docker
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support.gateway_client import GatewayClient
from tests.support.helpers import Api
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import ndjson_lines

DOCKER_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT",
                    "DOCKER_CONFIG")


class EnvServer(ServerProcess):
    """A server subprocess with more environment variables; the Docker ones of the test
    process are dropped first, so the server sees only those the test gives."""

    def __init__(self, config: dict, env: dict[str, str]):
        super().__init__(config)
        self.extra_env = env

    def environ(self) -> dict[str, str]:
        env = super().environ()
        for name in DOCKER_VARIABLES:
            env.pop(name, None)
        return {**env, **self.extra_env}


@contextlib.contextmanager
def server_api(server: ServerProcess) -> Iterator[Api]:
    """An :class:`Api` of a server subprocess."""
    http = AsyncHTTPClient(force_instance=True)

    async def fetch(*parts, method="GET", headers=None, params=None, body=None, **options):
        url = server.url + "/" + "/".join(part.strip("/") for part in parts)
        if params:
            url += "?" + urlencode(params)
        return await http.fetch(HTTPRequest(
            url, method=method, headers={**server.headers, **(headers or {})}, body=body,
            request_timeout=60, **options))

    try:
        yield Api(fetch)
    finally:
        http.close()


async def run_the_api(server: ServerProcess, api: Api, *,
                      engine: Callable[[], docker.DockerClient],
                      not_on: Callable[[], docker.DockerClient] | None = None,
                      name: str, within: float = 45.0) -> None:
    """Create, files, a streamed spawn, a PTY and delete through ``server``; the container
    runs on ``engine`` (a client made on demand) and, when given, not on ``not_on``.
    ``name`` marks the data written (``over <name>``), ``within`` bounds the seconds."""
    started = time.monotonic()
    created = await api.post("webcontainer", "boot", body={"files": {}})
    assert created.status == 201, created.text
    cid, workdir = created.json()["containerId"], created.json()["workdir"]
    with contextlib.closing(engine()) as client:
        # It runs on that engine (its name is jcm-<id>).
        assert client.containers.get(f"jcm-{cid}").status == "running"
    if not_on is not None:
        with contextlib.closing(not_on()) as other, pytest.raises(docker.errors.NotFound):
            other.containers.get(f"jcm-{cid}")
    listed = await api.get("containers")
    assert cid in [c["id"] for c in listed.json()], listed

    # A streamed upload: its end reaches the container as the transport's half-close.
    data = os.urandom(3 * 1024**2)
    put = await api.put("webcontainer", cid, "fs", "writeFile", raw=data,
                        params={"path": "data.bin"})
    assert put.status == 204, put
    read = await api.get("webcontainer", cid, "fs", "readFile", "data.bin")
    assert read.status == 200 and hashlib.sha256(read.body).digest() == \
        hashlib.sha256(data).digest()
    written = await api.post("webcontainer", cid, "fs", "writeFile",
                             body={"path": "a.txt", "contents": f"over {name}"})
    assert written.status in (200, 204), written
    assert (await api.get("webcontainer", cid, "fs", "readFile", "a.txt")).body == \
        f"over {name}".encode()

    # A spawn whose output streams.
    printed: list[bytes] = []
    http = AsyncHTTPClient(force_instance=True)
    try:
        answer = await http.fetch(HTTPRequest(
            f"{server.url}/webcontainer/{cid}/spawn", method="POST", headers=server.headers,
            body=json.dumps({"command": "sh", "args": ["-c", "for i in 1 2 3; do echo line $i;"
                                                       " sleep 0.2; done; cat a.txt; exit 3"],
                             "stream": True}),
            streaming_callback=printed.append, request_timeout=60))
    finally:
        http.close()
    assert answer.code == 200
    lines = ndjson_lines(b"".join(printed))
    output = "".join(line.get("output", "") for line in lines)
    assert output == f"line 1\nline 2\nline 3\nover {name}", lines
    assert lines[-1] == {"exitCode": 3}, lines
    assert len(printed) >= 2, "the output came in one piece, not streamed"

    # A PTY on the /container socket.
    url = server.url.replace("http", "ws", 1) + "/container"
    sock = GatewayClient(await websocket_connect(HTTPRequest(url, headers=server.headers)))
    word = name.lower()
    try:
        await sock.join(cid)
        tid = (await sock.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await sock.send("pty-input", {"terminalId": tid, "data": f"echo {word}-$((40+2)); pwd\n"})
        await sock.pty_text(tid, f"{word}-42\r\n{workdir}\r\n")
        await sock.send("pty-input", {"terminalId": tid, "data": "exit\n"})
        assert (await sock.push("pty-exit", timeout=10))["terminalId"] == tid
    finally:
        sock.close()

    removed = await api.delete("containers", cid)
    assert removed.status == 204, removed
    with contextlib.closing(engine()) as client:
        for _ in range(50):
            if not client.containers.list(all=True, filters={"name": f"jcm-{cid}"}):
                break
            await asyncio.sleep(0.1)
        assert not client.containers.list(all=True, filters={"name": f"jcm-{cid}"})
    assert time.monotonic() - started < within
