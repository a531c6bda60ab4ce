"""Corporate networks: ``ca_certificates`` and ``pass_proxy_env``, on the real
engine and the real network.

On this machine containers reach the npm registry, PyPI and Debian only through a
gateway that re-signs TLS, so without the host's bundle (/etc/ssl/certs/
ca-certificates.crt) every TLS client in a container fails with "self-signed
certificate in certificate chain". The tests set ``ca_certificates`` to that bundle, as
a corporate user would, and show each tool reaching the registry with it (node in every
image; npm, pip, Python, curl and git when the image has them), and failing without it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import time

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_container_manager.base_handler import MANAGER_KEY
from jupyter_container_manager.core.ca_certificates import BUNDLE_ENV, BUNDLE_PATH, bundle_ders
from jupyter_container_manager.core.models import LABEL_OWNER, POOL_NAME_PREFIX
from tests.conftest import TEST_IMAGE
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import boot

HOST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
IMAGE_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # the test image's own (Debian)
REGISTRY = "https://registry.npmjs.org/"
# node's own https (no npm needed): the status, or the error's code and message.
FETCH_JS = (
    "require('https').get(process.argv.at(-1), r => { console.log('status ' + r.statusCode);"
    " r.resume(); }).on('error', e => { console.log('error ' + e.code + ' ' + e.message);"
    " process.exitCode = 1; })"
)
CERT_ERROR = re.compile(r"certificate|SSL|CERT_", re.IGNORECASE)
# A network that cannot be reached at all proves nothing about certificates.
UNREACHABLE = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|"
    r"Could not resolve|Temporary failure in name resolution"
)

pytestmark = pytest.mark.slow


@pytest.fixture
def corporate(manager_config):
    """``ca_certificates`` set to the host's bundle."""
    if not os.path.isfile(HOST_BUNDLE):
        pytest.skip(f"no {HOST_BUNDLE} on this machine")
    manager_config["ca_certificates"] = HOST_BUNDLE
    return manager_config


async def spawn(api, container_id: str, argv: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run argv in the container through the spawn API: ``(exitCode, output)``."""
    body = {"command": argv[0], "args": argv[1:], "timeout": timeout}
    try:
        response = await api._fetch(
            "webcontainer", container_id, "spawn", method="POST", body=json.dumps(body),
            request_timeout=timeout + 30,
        )
    except HTTPClientError as err:
        raise AssertionError(f"spawn answered {err.code}: {err.response and err.response.body}")
    answer = json.loads(response.body)
    return answer["exitCode"], answer["output"]


async def fetch_registry(api, container_id: str) -> str:
    exit_code, output = await spawn(api, container_id, ["node", "-e", FETCH_JS, REGISTRY], 60)
    if UNREACHABLE.search(output):
        pytest.skip(f"containers do not reach {REGISTRY} at all here: {output.strip()}")
    return output.strip()


async def container_env(api, container_id: str) -> dict[str, str]:
    exit_code, output = await spawn(api, container_id, ["env"], 30)
    assert exit_code == 0, output
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def host_ders() -> set[bytes]:
    with open(HOST_BUNDLE, "rb") as file:
        return bundle_ders(file.read())


def owned(docker_client, owner: str) -> list:
    return docker_client.containers.list(all=True, filters={"label": f"{LABEL_OWNER}={owner}"})


# --- the bundle makes TLS work, and only the bundle ---------------------------------


async def test_without_the_setting_node_fails_on_the_gateways_certificate(api, docker_client):
    info = await api.create()
    result = await fetch_registry(api, info["id"])
    if result == "status 200":
        pytest.skip("this network does not re-sign TLS: nothing for ca_certificates to fix")
    assert "SELF_SIGNED_CERT_IN_CHAIN" in result or CERT_ERROR.search(result), result
    env = await container_env(api, info["id"])
    assert not set(BUNDLE_ENV) & set(env), env
    container = docker_client.containers.get(f"jcm-{info['id']}")
    code, _ = container.exec_run(["test", "-e", BUNDLE_PATH])
    assert code != 0  # no bundle put in


async def test_a_created_container_trusts_the_bundle_and_its_own(corporate, api, docker_client):
    info = await api.create(name="corp")
    assert await fetch_registry(api, info["id"]) == "status 200"

    env = await container_env(api, info["id"])
    assert {name: env.get(name) for name in BUNDLE_ENV} == dict.fromkeys(BUNDLE_ENV, BUNDLE_PATH)

    container = docker_client.containers.get(f"jcm-{info['id']}")
    combined = container.exec_run(["cat", BUNDLE_PATH]).output
    own = container.exec_run(["cat", IMAGE_BUNDLE]).output
    assert own.count(b"BEGIN CERTIFICATE") > 10
    # The image's own bundle, untouched in its place and whole at the head of the
    # combined one, then what the host's adds.
    assert combined.startswith(own)
    assert bundle_ders(combined) == bundle_ders(own) | host_ders()
    ssl.create_default_context(cadata=combined.decode())
    # root's, world-readable; the container's user reads it (spawn runs as that user).
    mode = container.exec_run(["stat", "-c", "%a %u %g", BUNDLE_PATH, os.path.dirname(BUNDLE_PATH)])
    assert mode.output.decode().split("\n")[:2] == ["644 0 0", "755 0 0"]
    exit_code, output = await spawn(api, info["id"], ["sh", "-c", f"wc -c < {BUNDLE_PATH}"], 30)
    assert exit_code == 0 and int(output) == len(combined)


async def test_a_request_env_wins_over_the_bundle_variables(corporate, api):
    info = await api.create(env={"NODE_EXTRA_CA_CERTS": "/nowhere.crt", "A": "1"})
    env = await container_env(api, info["id"])
    assert env["NODE_EXTRA_CA_CERTS"] == "/nowhere.crt" and env["A"] == "1"
    assert env["SSL_CERT_FILE"] == BUNDLE_PATH


async def test_a_booted_container_trusts_the_bundle(corporate, api, docker_client):
    wc = await boot(api, docker_client, files={"index.js": {"file": {"contents": FETCH_JS}}})
    exit_code, output = await spawn(api, wc.id, ["node", "index.js", REGISTRY], 60)
    if UNREACHABLE.search(output):
        pytest.skip(output)
    assert output.strip() == "status 200", output
    assert (await container_env(api, wc.id))["NODE_EXTRA_CA_CERTS"] == BUNDLE_PATH


@pytest.fixture
def corporate_pool(corporate):
    corporate["warm_pool_size"] = 1
    return corporate


async def test_a_warm_pool_container_trusts_the_bundle(
    corporate_pool, jp_serverapp, api, docker_client, owner
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    manager.start_pool()  # the test server is not started the way `jupyter server` is
    deadline = time.monotonic() + 60
    while manager.pool_ready < 1:
        assert time.monotonic() < deadline, "the pool did not fill"
        await asyncio.sleep(0.1)
    waiting = {c.id for c in owned(docker_client, owner) if c.name.startswith(POOL_NAME_PREFIX)}
    wc = await boot(api, docker_client)
    assert wc.container.id in waiting  # handed out from the pool
    assert await fetch_registry(api, wc.id) == "status 200"
    assert (await container_env(api, wc.id))["SSL_CERT_FILE"] == BUNDLE_PATH
    assert wc.cat(BUNDLE_PATH).startswith(wc.cat(IMAGE_BUNDLE))


def test_a_crashed_servers_pool_made_without_the_bundle_is_not_handed_out(
    manager_config, docker_client, owner, tmp_path
):
    if not os.path.isfile(HOST_BUNDLE):
        pytest.skip(f"no {HOST_BUNDLE} on this machine")
    manager_config["warm_pool_size"] = 1
    with ServerProcess(manager_config, base=tmp_path / "server") as server:
        deadline = time.monotonic() + 60
        while not [c for c in owned(docker_client, owner) if c.name.startswith(POOL_NAME_PREFIX)]:
            assert time.monotonic() < deadline, "the pool did not fill"
            time.sleep(0.2)
        before = {c.id for c in owned(docker_client, owner)}
        server.process.kill()  # a crash: its pool stays behind
        server.process.wait(10)
        server.process = None
        server.manager_config = {**manager_config, "ca_certificates": HOST_BUNDLE}
        server.start()
        booted = server.request("POST", "webcontainer/boot", json={})
        assert booted.status_code == 201, booted.text
        container = docker_client.containers.get(f"jcm-{booted.json()['containerId']}")
        assert container.id not in before  # the old pool was dropped, not handed out
        assert container.exec_run(["test", "-s", BUNDLE_PATH]).exit_code == 0


# --- every tool, when the image has it ------------------------------------------------

# (tool, the script, the variables it reads, what the output must show): the script runs
# once as the container has it and once with those variables unset (`env -u`), which
# must fail on the certificate: the variables are what make the tool trust the bundle.
# Some tools read more than their own: Debian's node also takes OpenSSL's SSL_CERT_FILE,
# and Python's requests (in pip) falls back to CURL_CA_BUNDLE.
NODE_VARIABLES = ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"]
TOOLS = [
    # A fresh cache each time: npm answers from its cache without asking the registry.
    ("npm", "npm view is-number version --fetch-retries=0 --cache \"$(mktemp -d)\"",
     NODE_VARIABLES,
     r"^\d+\.\d+\.\d+$"),
    ("npm",
     "cd \"$(mktemp -d)\" && npm install --no-audit --no-fund --fetch-retries=0"
     " --cache \"$(mktemp -d)\" is-number"
     " && node -e \"console.log(typeof require('is-number'))\"",
     NODE_VARIABLES, r"function$"),
    ("python3",
     "python3 -c \"import urllib.request; print(urllib.request.urlopen("
     "'https://pypi.org/simple/six/').status)\"",
     ["SSL_CERT_FILE"], r"^200$"),
    ("pip",
     "d=\"$(mktemp -d)\" && python3 -m pip download --disable-pip-version-check --no-deps"
     " --no-cache-dir --retries 0 --timeout 30 -d \"$d\" six && ls \"$d\"",
     ["PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"],
     r"^six-[\d.]+-py.*\.whl$"),
    ("curl", f"curl -sS -o /dev/null -w '%{{http_code}}' {REGISTRY}",
     ["CURL_CA_BUNDLE", "SSL_CERT_FILE"], r"^200$"),
    # The registry is no git server: git gets as far as an HTTP answer ("not found")
    # only through a verified TLS session.
    ("git", f"git ls-remote {REGISTRY} 2>&1; true", ["GIT_SSL_CAINFO"],
     r"repository '.*' not found$"),
]


@pytest.mark.parametrize(
    "tool, script, variables, expected", TOOLS, ids=[f"{t[0]}-{i}" for i, t in enumerate(TOOLS)]
)
async def test_each_tool_trusts_the_bundle_through_its_variable(
    corporate, api, tool, script, variables, expected
):
    info = await api.create()
    probe = "python3 -m pip --version" if tool == "pip" else f"command -v {tool}"
    exit_code, _ = await spawn(api, info["id"], ["sh", "-c", f"{probe} >/dev/null 2>&1"], 30)
    if exit_code != 0:
        pytest.skip(f"{tool} is not in {TEST_IMAGE}")

    exit_code, output = await spawn(api, info["id"], ["sh", "-c", script], 180)
    if UNREACHABLE.search(output):
        pytest.skip(output)
    assert re.search(expected, output.strip(), re.MULTILINE), (exit_code, output)

    unset = [arg for name in variables for arg in ("-u", name)]
    unset_node = [arg for name in NODE_VARIABLES for arg in ("-u", name)]
    exit_code, output = await spawn(api, info["id"], ["env", *unset, "sh", "-c", script], 180)
    if not CERT_ERROR.search(output):
        # Either a variable is missing from the list, or this network does not re-sign.
        plain = await spawn(api, info["id"], ["env", *unset_node, "node", "-e", FETCH_JS, REGISTRY])
        if plain[1].strip() == "status 200":
            pytest.skip("this network does not re-sign TLS: nothing for ca_certificates to fix")
    assert CERT_ERROR.search(output), f"{tool} works without {variables}: {output}"
    assert not re.search(expected, output.strip(), re.MULTILINE), output


# --- a bundle that cannot be used --------------------------------------------------------


@pytest.fixture
def missing_bundle(manager_config, tmp_path):
    manager_config.update(ca_certificates=str(tmp_path / "corp-ca.pem"), warm_pool_size=1)
    return tmp_path / "corp-ca.pem"


async def test_a_missing_bundle_refuses_every_create_with_503(
    missing_bundle, jp_serverapp, api, docker_client, owner
):
    manager = jp_serverapp.web_app.settings[MANAGER_KEY]
    manager.start()  # as `jupyter server` does: no pool is started
    for answer in (
        await api.post("containers", body={}),
        await api.post("containers", body={"name": "x", "env": {"A": "1"}}),
        await api.post("containers", body={"files": {"a": {"file": {"contents": "a"}}}}),
        await api.post("webcontainer", "boot", body={}),
    ):
        body = assert_error(answer, 503, "CA_CERTIFICATES_INVALID")
        assert f"'{missing_bundle}' (c.ContainerManager.ca_certificates) does not exist" in (
            body["message"])
    await asyncio.sleep(1)
    assert owned(docker_client, owner) == []  # nothing created, not even for the pool
    assert manager.pool_ready == 0
    # What needs no new container still answers.
    assert (await api.get("containers")).json() == []


def test_a_bundle_that_is_not_pem_is_reported_at_start(manager_config, docker_client, owner,
                                                        tmp_path):
    bad = tmp_path / "corp-ca.pem"
    bad.write_text("this is not a certificate\n")
    manager_config.update(ca_certificates=str(bad), warm_pool_size=1)
    with ServerProcess(manager_config, base=tmp_path / "server") as server:
        log = server.log_path.read_text()
        assert re.search(
            rf"\[E .*c\.ContainerManager\.ca_certificates: {re.escape(str(bad))} is not PEM", log
        ), log
        for path in ("containers", "webcontainer/boot"):
            answer = server.request("POST", path, json={})
            assert answer.status_code == 503, answer.text
            assert answer.headers["Content-Type"].startswith("application/json")
            body = answer.json()
            assert body["code"] == "CA_CERTIFICATES_INVALID" and body["reason"]
            assert str(bad) in body["message"] and "is not PEM" in body["message"]
        time.sleep(1)
        assert owned(docker_client, owner) == []  # no pooled container either


# --- the server's proxy variables ---------------------------------------------------------

PROXIES = {  # .invalid never resolves: nothing is sent anywhere
    "HTTP_PROXY": "http://proxy.invalid:3128",
    "http_proxy": "http://proxy.invalid:3128",
    "HTTPS_PROXY": "http://proxy.invalid:3129",
    "https_proxy": "http://proxy.invalid:3129",
    "NO_PROXY": "localhost,127.0.0.1,.corp.invalid",
    "no_proxy": "localhost,127.0.0.1,.corp.invalid",
    "ALL_PROXY": "socks5://proxy.invalid:1080",
}


class ProxiedServer(ServerProcess):
    """A server started with the proxy variables in its environment (only its own)."""

    def environ(self) -> dict[str, str]:
        return {**super().environ(), **PROXIES}


def env_of(server: ServerProcess, container_id: str) -> dict[str, str]:
    answer = server.request("POST", f"webcontainer/{container_id}/spawn", json={"command": "env"})
    assert answer.status_code == 200, answer.text
    output = answer.json()["output"]
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def test_the_servers_proxy_variables_reach_containers_and_a_request_env_wins(
    manager_config, docker_client, tmp_path
):
    manager_config["warm_pool_size"] = 1
    with ProxiedServer(manager_config, base=tmp_path / "on") as server:
        plain = server.request("POST", "containers", json={})
        assert plain.status_code == 201, plain.text
        env = env_of(server, plain.json()["id"])
        assert {name: env.get(name) for name in PROXIES} == PROXIES

        booted = server.request("POST", "webcontainer/boot", json={})
        assert booted.status_code == 201, booted.text
        assert {n: env_of(server, booted.json()["containerId"]).get(n) for n in PROXIES} == PROXIES

        mine = server.request("POST", "containers", json={
            "env": {"https_proxy": "http://mine.invalid:8080", "NO_PROXY": "*"}})
        assert mine.status_code == 201, mine.text
        env = env_of(server, mine.json()["id"])
        assert env["https_proxy"] == "http://mine.invalid:8080" and "HTTPS_PROXY" not in env
        assert env["NO_PROXY"] == "*" and "no_proxy" not in env
        assert env["HTTP_PROXY"] == PROXIES["HTTP_PROXY"]
        assert env["ALL_PROXY"] == PROXIES["ALL_PROXY"]
        assert "Containers get the server's ALL_PROXY, HTTPS_PROXY" in server.log_tail(200)

    manager_config["pass_proxy_env"] = False
    with ProxiedServer(manager_config, base=tmp_path / "off") as server:
        created = server.request("POST", "containers", json={})
        assert created.status_code == 201, created.text
        env = env_of(server, created.json()["id"])
        assert not {name.upper() for name in env} & {name.upper() for name in PROXIES}, env


def test_a_loopback_proxy_is_warned_about(manager_config, tmp_path):
    class LoopbackServer(ServerProcess):
        def environ(self):
            return {**super().environ(), "HTTPS_PROXY": "http://127.0.0.1:3128",
                    "NO_PROXY": "127.0.0.1,localhost"}

    with LoopbackServer(manager_config, base=tmp_path / "server") as server:
        log = server.log_tail(200)
    assert re.search(r"\[W .*HTTPS_PROXY=http://127\.0\.0\.1:3128 is on the server's loopback", log)

