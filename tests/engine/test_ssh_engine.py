"""A Docker engine reached over ssh, the way the Docker CLI reaches one: ``DOCKER_HOST``
``ssh://root@127.0.0.1:<port>`` and nothing in the server's configuration.

The ssh server is a real ``sshd`` of this module's own (tests/support/ssh_server.py: a free
loopback port, a host key and an authorized client key made here in a temporary
directory). Behind it ``docker system dial-stdio`` reaches this machine's engine, the one
the suite uses. A real Jupyter server subprocess, whose ``ssh`` uses this server's keys,
runs the API through it: docker-py's requests (its ``ssh`` client transport) and every raw
exec stream (``ssh ... docker system dial-stdio`` of engine_streams.py): create, a file
written (a streamed upload whose end is ssh's end of stdin) and read back, a spawn with
streamed output, a PTY on the ``/container`` socket, delete. sshd's log shows that the
connections went through it. A server on such an engine stops at once on SIGTERM and
leaves no ``ssh`` behind (the engine's event stream is ended through its ssh).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.engine_round_trip import EnvServer, run_the_api, server_api
from tests.support.ssh_server import SshServer, missing_tools


@pytest.fixture(scope="module")
def sshd(docker_client, tmp_path_factory):
    if missing := missing_tools():
        pytest.skip(f"an sshd of its own: {missing}")
    if os.geteuid() != 0:
        pytest.skip("the sshd of this test logs in as the user running it, as root")
    with SshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def ssh_server_process(sshd: SshServer, owner: str) -> EnvServer:
    config = {
        "owner": f"test-{RUN_ID}-{owner}",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "docker_timeout": 30.0,
    }
    return EnvServer(config, sshd.environ({"DOCKER_HOST": sshd.url}))


@pytest.fixture(scope="module")
def server(sshd):
    with ssh_server_process(sshd, "ssh") as running:
        yield running


@pytest.fixture
def api(server):
    with server_api(server) as api:
        yield api


def ssh_clients_of(sshd: SshServer) -> list[int]:
    """The pids of the ``ssh`` processes that use this server's client configuration."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if str(sshd.client_config).encode() in argv:
                    found.append(int(entry.name))
    return found


def accepted_logins(sshd: SshServer) -> int:
    return sshd.log_path.read_text(errors="replace").count("Accepted publickey for ")


def test_the_sshd_lets_in_only_its_own_key(sshd, tmp_path):
    # Its key reaches the engine through `docker system dial-stdio`'s CLI.
    answer = sshd.ssh("docker", "version", "--format", "{{.Server.APIVersion}}")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == docker.from_env().version()["ApiVersion"].encode()
    # Another key is refused.
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True)
    refused = subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", str(other), "-o", "IdentitiesOnly=yes",
         "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={sshd.root / 'known_hosts'}",
         "-p", str(sshd.port), "-l", sshd.user, "127.0.0.1", "true"],
        capture_output=True, timeout=30, check=False)
    assert refused.returncode == 255 and b"Permission denied" in refused.stderr, refused


async def test_the_api_runs_on_an_ssh_engine_named_by_the_environment(sshd, server, api):
    logins = accepted_logins(sshd)
    await run_the_api(server, api, engine=docker.from_env, name="SSH", within=90.0)
    # The server's requests and exec streams went over ssh: one login per connection
    # (the client's pooled ones, then one per exec stream: the upload, the reads, the
    # spawn, the PTY).
    assert accepted_logins(sshd) - logins >= 4


def test_a_server_on_an_ssh_engine_stops_at_once_and_leaves_no_ssh_behind(sshd, tmp_path):
    """The engine's event stream (read on a thread of its own) ends when the server
    stops: over ssh, docker-py cannot close it, so its ``ssh`` is ended instead. (An sshd
    of the test's own, so that the ssh clients counted are this server's alone.)"""
    with SshServer(tmp_path / "sshd") as own:
        running = ssh_server_process(own, "ssh-stop").start()
        try:
            created = running.request("POST", "webcontainer/boot", json={"files": {}})
            assert created.status_code == 201, created.text
            cid = created.json()["containerId"]
            spawned = running.request("POST", f"webcontainer/{cid}/spawn",
                                      json={"command": "echo", "args": ["hi"]})
            assert spawned.json() == {"exitCode": 0, "output": "hi\n"}, spawned.text
            assert running.request("DELETE", f"containers/{cid}").status_code == 204
            assert ssh_clients_of(own), "the server reaches the engine through no ssh"
        finally:
            process = running.process
            started = time.monotonic()
            running.stop(timeout=15)
        # SIGTERM was enough (stop() sends SIGKILL after 15 s).
        assert process.returncode != -signal.SIGKILL, running.log_tail()
        assert time.monotonic() - started < 10
        for _ in range(50):
            if not ssh_clients_of(own):
                break
            time.sleep(0.1)
        assert not ssh_clients_of(own)
