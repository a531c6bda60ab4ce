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
``/container`` socket, delete (tests/support/engine_round_trip.py).

The same engine is then reached through a Docker context that the real ``docker context
create`` made in a DOCKER_CONFIG of the test's own (the certificates copied into the
context's store): a server given that DOCKER_CONFIG alone uses the CLI's current context,
or the one DOCKER_CONTEXT names, and runs the same API on it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import docker
import pytest

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.engine_round_trip import (
    DOCKER_VARIABLES,
    EnvServer,
    run_the_api,
    server_api,
)
from tests.support.private_engine import PrivateEngine


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
    with server_api(server) as api:
        yield api


def docker_cli(*args: str, config: Path) -> str:
    """The real ``docker`` CLI with its configuration in ``config`` (and no DOCKER_HOST)."""
    env = {name: value for name, value in os.environ.items() if name not in DOCKER_VARIABLES}
    done = subprocess.run(["docker", *args], env={**env, "DOCKER_CONFIG": str(config)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def docker_config(tls_engine, tmp_path_factory):
    """A DOCKER_CONFIG whose contexts the ``docker`` CLI made: ``jcm-tls``, the TLS engine
    with the client certificate (copied into the context's own store, as the CLI does), the
    current one (``docker context use``); and ``jcm-nowhere``, an engine that is not there."""
    if shutil.which("docker") is None:
        pytest.skip("the Docker contexts are made by the docker CLI")
    _, port, client_certs = tls_engine
    config = tmp_path_factory.mktemp("docker-config")
    docker_cli("context", "create", "jcm-tls", "--description", "the TLS test engine",
               "--docker", f"host=tcp://127.0.0.1:{port},ca={client_certs / 'ca.pem'},"
               f"cert={client_certs / 'cert.pem'},key={client_certs / 'key.pem'}",
               config=config)
    docker_cli("context", "create", "jcm-nowhere", "--docker", "host=tcp://127.0.0.1:9",
               config=config)
    docker_cli("context", "use", "jcm-tls", config=config)
    return config


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
    # It runs on the TLS engine, not on the suite's.
    await run_the_api(server, api, engine=engine.client, not_on=docker.from_env, name="TLS")


def test_the_docker_cli_reaches_the_tls_engine_through_its_context(tls_engine, docker_config):
    engine, _, _ = tls_engine
    with contextlib.closing(engine.client()) as private:
        engine_id = private.info()["ID"]
    assert docker_cli("info", "--format", "{{.ID}}", config=docker_config).strip() == engine_id
    # The context holds its own copy of the certificates.
    stored = list((docker_config / "contexts" / "tls").rglob("*.pem"))
    assert sorted(path.name for path in stored) == ["ca.pem", "cert.pem", "key.pem"]


@pytest.mark.parametrize("selected", ["current context", "DOCKER_CONTEXT"])
async def test_the_api_runs_on_the_docker_context_of_a_tls_engine(tls_engine, docker_config,
                                                                   selected):
    """The server is given a DOCKER_CONFIG and nothing else (the CLI's current context), or
    DOCKER_CONTEXT too, naming the TLS engine's context while the current one is an engine
    that is not there."""
    engine, _, _ = tls_engine
    config = docker_config
    env = {"DOCKER_CONFIG": str(config)}
    if selected == "DOCKER_CONTEXT":
        # The same contexts, with the one that answers no longer the current one.
        config = docker_config.with_name(docker_config.name + "-named")
        shutil.copytree(docker_config, config, dirs_exist_ok=True)
        docker_cli("context", "use", "jcm-nowhere", config=config)
        env = {"DOCKER_CONFIG": str(config), "DOCKER_CONTEXT": "jcm-tls"}
    settings = {
        "owner": f"test-{RUN_ID}-context",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "docker_timeout": 20.0,
    }
    with EnvServer(settings, env) as server, server_api(server) as api:
        await run_the_api(server, api, engine=engine.client, not_on=docker.from_env,
                          name="context")
