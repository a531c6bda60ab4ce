"""A Docker engine behind TLS, reached the way the Docker CLI reaches one: ``DOCKER_HOST``
``tcp://127.0.0.1:<port>``, ``DOCKER_TLS_VERIFY=1``, ``DOCKER_CERT_PATH`` (``ca.pem``,
``cert.pem``, ``key.pem``), and nothing in the server's configuration.

The engine is a ``dockerd --tlsverify`` of this module's own (tests/support/private_engine.py:
its own network namespace, data root, exec root, pid file and socket; the engine the rest
of the suite uses is never touched), with a CA, a server and a client certificate made
here by ``openssl``. It serves TLS on a socket bound to 127.0.0.1 in the host's network
namespace (socket activation) and its plain unix socket, which only the test's own checks
and the image load use. A real Jupyter server subprocess, configured by those environment
variables alone, then runs the API on it: create, a file written (a streamed upload whose
end is TLS's close_notify) and read back, a spawn with streamed output, a PTY on the
``/container`` socket, delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import docker
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.gateway_client import GatewayClient
from tests.support.helpers import Api
from tests.support.private_engine import PrivateEngine
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import ndjson_lines


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(root: Path) -> tuple[Path, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by
    the CA: ``(server dir, client dir)``, the client's laid out as DOCKER_CERT_PATH."""
    server, client = root / "server", root / "client"
    server.mkdir()
    client.mkdir()
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=jcm test CA", cwd=root)
    for name, usage, where in (("server", "serverAuth", server), ("client", "clientAuth", client)):
        extensions = root / f"{name}.ext"
        alt = "subjectAltName=IP:127.0.0.1\n" if name == "server" else ""
        extensions.write_text(f"{alt}extendedKeyUsage={usage}\n")
        openssl("req", *key, "-keyout", str(where / "key.pem"), "-out", f"{name}.csr",
                "-subj", f"/CN=jcm test {name}", cwd=root)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", str(where / "cert.pem"), "-days", "1",
                "-extfile", str(extensions), cwd=root)
        shutil.copy(root / "ca.pem", where / "ca.pem")
    return server, client


@pytest.fixture(scope="module")
def tls_engine(docker_client, tmp_path_factory):
    """``(engine, port, client cert dir)``: the module's own dockerd, TLS only on
    127.0.0.1:<port>, with the test image; stopped and deleted at the end."""
    if shutil.which("dockerd") is None or shutil.which("openssl") is None or os.geteuid() != 0:
        pytest.skip("a dockerd of its own needs the dockerd and openssl binaries and root")
    server_certs, client_certs = make_certificates(tmp_path_factory.mktemp("tls"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    flags = ["--tlsverify", "--tlscacert", str(server_certs / "ca.pem"),
             "--tlscert", str(server_certs / "cert.pem"), "--tlskey", str(server_certs / "key.pem")]
    try:
        with PrivateEngine(f"t{RUN_ID[:7]}", listener=listener, extra_args=flags,
                           memory_root="3g") as engine:
            engine.load_image(TEST_IMAGE, docker_client)
            yield engine, port, client_certs
    finally:
        listener.close()


class EnvServer(ServerProcess):
    """A server subprocess with more environment variables."""

    def __init__(self, config: dict, env: dict[str, str]):
        super().__init__(config)
        self.extra_env = env

    def environ(self) -> dict[str, str]:
        env = super().environ()
        for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
            env.pop(name, None)
        return {**env, **self.extra_env}


@pytest.fixture(scope="module")
def server(tls_engine):
    _, port, client_certs = tls_engine
    config = {
        "owner": f"test-{RUN_ID}-tls",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "docker_timeout": 20.0,
    }
    env = {"DOCKER_HOST": f"tcp://127.0.0.1:{port}", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(client_certs)}
    with EnvServer(config, env) as running:
        yield running


@pytest.fixture
def api(server):
    http = AsyncHTTPClient(force_instance=True)

    async def fetch(*parts, method="GET", headers=None, params=None, body=None, **options):
        url = server.url + "/" + "/".join(part.strip("/") for part in parts)
        if params:
            url += "?" + urlencode(params)
        return await http.fetch(HTTPRequest(
            url, method=method, headers={**server.headers, **(headers or {})}, body=body,
            request_timeout=60, **options))

    yield Api(fetch)
    http.close()


def test_the_engine_speaks_only_tls_with_our_certificates(tls_engine):
    engine, port, client_certs = tls_engine
    # Plain HTTP on the TLS port is refused.
    plain = docker.DockerClient(base_url=f"tcp://127.0.0.1:{port}", version="1.41", timeout=5)
    with pytest.raises(docker.errors.DockerException):
        plain.ping()
    plain.close()
    # TLS without a client certificate is refused.
    context = ssl.create_default_context(cafile=str(client_certs / "ca.pem"))
    with pytest.raises((ssl.SSLError, ConnectionError)), \
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
        wrapped.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert not wrapped.recv(100)


async def test_the_api_runs_on_a_tls_engine_named_by_the_environment(tls_engine, server, api):
    engine, _, _ = tls_engine
    started = time.monotonic()
    created = await api.post("webcontainer", "boot", body={"files": {}})
    assert created.status == 201, created.text
    cid, workdir = created.json()["containerId"], created.json()["workdir"]
    with contextlib.closing(engine.client()) as private:
        # It runs on the TLS engine (its name is jcm-<id>), not on the suite's.
        assert private.containers.get(f"jcm-{cid}").status == "running"
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().containers.get(f"jcm-{cid}")
    listed = await api.get("containers")
    assert cid in [c["id"] for c in listed.json()], listed

    # A streamed upload: its end reaches the container as TLS close_notify.
    data = os.urandom(3 * 1024**2)
    put = await api.put("webcontainer", cid, "fs", "writeFile", raw=data,
                        params={"path": "data.bin"})
    assert put.status == 204, put
    read = await api.get("webcontainer", cid, "fs", "readFile", "data.bin")
    assert read.status == 200 and hashlib.sha256(read.body).digest() == \
        hashlib.sha256(data).digest()
    written = await api.post("webcontainer", cid, "fs", "writeFile",
                             body={"path": "a.txt", "contents": "over TLS"})
    assert written.status in (200, 204), written
    assert (await api.get("webcontainer", cid, "fs", "readFile", "a.txt")).body == b"over TLS"

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
    assert output == "line 1\nline 2\nline 3\nover TLS", lines
    assert lines[-1] == {"exitCode": 3}, lines
    assert len(printed) >= 2, "the output came in one piece, not streamed"

    # A PTY on the /container socket.
    url = server.url.replace("http", "ws", 1) + "/container"
    sock = GatewayClient(await websocket_connect(HTTPRequest(url, headers=server.headers)))
    try:
        await sock.join(cid)
        tid = (await sock.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await sock.send("pty-input", {"terminalId": tid, "data": "echo tls-$((40+2)); pwd\n"})
        await sock.pty_text(tid, f"tls-42\r\n{workdir}\r\n")
        await sock.send("pty-input", {"terminalId": tid, "data": "exit\n"})
        assert (await sock.push("pty-exit", timeout=10))["terminalId"] == tid
    finally:
        sock.close()

    removed = await api.delete("containers", cid)
    assert removed.status == 204, removed
    with contextlib.closing(engine.client()) as private:
        for _ in range(50):
            if not private.containers.list(all=True, filters={"name": f"jcm-{cid}"}):
                break
            await asyncio.sleep(0.1)
        assert not private.containers.list(all=True, filters={"name": f"jcm-{cid}"})
    assert time.monotonic() - started < 45
