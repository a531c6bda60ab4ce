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
connections went through it.
"""

from __future__ import annotations

import os
import subprocess

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


@pytest.fixture(scope="module")
def server(sshd):
    config = {
        "owner": f"test-{RUN_ID}-ssh",
        "image": TEST_IMAGE,
        "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID},
        "docker_timeout": 30.0,
    }
    with EnvServer(config, sshd.environ({"DOCKER_HOST": sshd.url})) as running:
        yield running


@pytest.fixture
def api(server):
    with server_api(server) as api:
        yield api


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
