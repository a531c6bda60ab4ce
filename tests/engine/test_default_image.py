"""The default image (`.ci/image.sh`): a current Node.js LTS with npm and
corepack, Python 3 with pip and venv, git, ps and ss, all run as the non-root user `node`
who owns the workdir and can install packages. Every check goes through the API into a
new container, without the network (packages come from folders made in the test)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_IMAGE
from tests.support.webcontainer_support import WebContainer

pytestmark = pytest.mark.skipif(
    not TEST_IMAGE.startswith("jupyter-container-manager/"),
    reason="checks the image .ci/image.sh builds, not another JCM_TEST_IMAGE",
)


async def create(api, docker_client, **body) -> WebContainer:
    answer = await api.post("containers", body=body)
    assert answer.status == 201, answer
    info = answer.json()
    return WebContainer(api, docker_client, info["id"], info["workdir"])


async def run(wc: WebContainer, script: str, timeout: float = 15) -> str:
    answer = await wc.spawn("sh", "-c", script, timeout=timeout)
    assert answer.status == 200, answer
    result = answer.json()
    assert result["exitCode"] == 0, result
    return result["output"].strip()


def version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    assert match, text
    return tuple(int(part) for part in match.groups())


async def test_the_default_image_is_the_one_built_by_image_sh(api, docker_client):
    attrs = docker_client.api.inspect_image(TEST_IMAGE)
    assert attrs["Config"]["Labels"].get("jupyter-container-manager.image-recipe")
    wc = await create(api, docker_client)
    assert wc.container.attrs["Config"]["Image"] == TEST_IMAGE


async def test_node_npm_and_corepack(api, docker_client):
    wc = await create(api, docker_client)
    assert version(await run(wc, "node --version")) >= (20, 19, 0)
    # Node's own npm and npx, not Debian's old npm 9.
    assert version(await run(wc, "npm --version")) >= (10, 0, 0)
    assert await run(wc, "npx --version") == await run(wc, "npm --version")
    assert version(await run(wc, "corepack --version")) >= (0, 20, 0)
    # pnpm and yarn are corepack's shims, as `corepack enable` makes them.
    for tool in ("pnpm", "yarn"):
        target = await run(wc, f'readlink -f "$(command -v {tool})"')
        assert target == f"/usr/local/lib/node_modules/corepack/dist/{tool}.js"
    # Real TLS roots for npm, pip, git and curl.
    assert int(await run(wc, "grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt")) > 50


async def test_python_git_and_the_process_tools(api, docker_client):
    wc = await create(api, docker_client)
    assert version(await run(wc, "python3 --version")) >= (3, 11, 0)
    assert "pip" in await run(wc, "python3 -m pip --version")
    assert version(await run(wc, "git --version")) >= (2, 30, 0)
    assert version(await run(wc, "curl --version")) >= (7, 0, 0)
    # A listener shows in ss (iproute2), and ps (procps) shows its process.
    output = await run(
        wc,
        "node -e \"require('net').createServer().listen(4123)\" & "
        "sleep 1; ss -Hltn; ps -eo user=,args=; kill $!",
    )
    assert re.search(r"LISTEN .*:4123\b", output), output
    assert "node -e require('net')" in output


async def test_processes_run_as_node_who_owns_the_workdir(api, docker_client):
    wc = await create(api, docker_client)
    assert await run(wc, "id -un; id -u; id -g; echo $HOME") == "node\n1000\n1000\n/home/node"
    # Every process of the container (init, keep-alive, the agent, this one) is node's.
    assert await run(wc, "ps -eo user= | sort -u") == "node"
    assert await run(wc, "pwd; stat -c %U:%G .") == f"{wc.workdir}\nnode:node"
    assert await run(wc, "mkdir -p a/b && echo x > a/b/f && stat -c %U a/b/f") == "node"
    assert await run(wc, "stat -c %U:%G /home/node") == "node:node"
    # Not root: the system is not theirs to change.
    denied = await wc.spawn("sh", "-c", "touch /usr/local/bin/x")
    assert denied.status == 200 and denied.json()["exitCode"] != 0


PACKAGE_JSON = '{"name": "jcm-hello", "version": "1.0.0", "bin": {"jcm-hello": "cli.js"}}\n'
CLI_JS = "#!/usr/bin/env node\nconsole.log('hello from ' + require('os').userInfo().username)\n"
APP_JSON = '{"name": "app", "version": "1.0.0", "dependencies": {"jcm-hello": "file:../hello"}}\n'


async def test_npm_installs_locally_and_globally_as_the_user(api, docker_client):
    files = {
        "hello": {"directory": {"package.json": {"file": {"contents": PACKAGE_JSON}},
                                "cli.js": {"file": {"contents": CLI_JS}}}},
        "app": {"directory": {"package.json": {"file": {"contents": APP_JSON}}}},
    }
    wc = await create(api, docker_client, files=files)
    quiet = "--offline --no-audit --no-fund --loglevel=error"
    # A project's own dependencies, in the workdir.
    await run(wc, f"cd app && npm install {quiet}", timeout=60)
    assert await run(wc, "cd app && npx --offline jcm-hello") == "hello from node"
    # A global install from a packed tarball: into the user's npm prefix, on PATH.
    assert await run(wc, "npm prefix -g") == "/home/node/.npm-global"
    tarball = await run(wc, "cd hello && npm pack --loglevel=error", timeout=60)
    assert tarball == "jcm-hello-1.0.0.tgz"
    await run(wc, f"npm install -g {quiet} ./hello/{tarball}", timeout=60)
    assert await run(wc, "command -v jcm-hello") == "/home/node/.npm-global/bin/jcm-hello"
    assert await run(wc, "cd / && jcm-hello") == "hello from node"
    installed = "/home/node/.npm-global/lib/node_modules/jcm-hello"
    assert await run(wc, f"test ! -L {installed} && stat -c %U {installed}/cli.js") == "node"


# A wheel made in the container (a zip with its metadata): pip needs no index or build.
MAKE_WHEEL = r"""
import base64, hashlib, sys, zipfile
name, files = "jcm_demo-1.0-py3-none-any.whl", {
    "jcm_demo/__init__.py": "def main():\n    print('demo ' + __file__)\n",
    "jcm_demo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: jcm-demo\nVersion: 1.0\n",
    "jcm_demo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "jcm_demo-1.0.dist-info/entry_points.txt": "[console_scripts]\njcm-demo = jcm_demo:main\n",
}
record = []
with zipfile.ZipFile(name, "w") as wheel:
    for path, text in files.items():
        data = text.encode()
        wheel.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append("jcm_demo-1.0.dist-info/RECORD,,")
    wheel.writestr("jcm_demo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
print(name)
"""


async def test_pip_and_venv_as_the_user(api, docker_client):
    wc = await create(api, docker_client, files={"make_wheel.py": {"file": {"contents": MAKE_WHEEL}}})
    wheel = await run(wc, "python3 make_wheel.py")
    # Outside a venv: pip is not refused (no EXTERNALLY-MANAGED) and installs for the user,
    # its scripts on PATH.
    out = await run(wc, f"pip install --no-index --no-cache-dir ./{wheel} 2>&1", timeout=60)
    assert "Successfully installed jcm-demo-1.0" in out, out
    assert await run(wc, "command -v jcm-demo") == "/home/node/.local/bin/jcm-demo"
    assert (await run(wc, "cd / && jcm-demo")).startswith("demo /home/node/.local/lib/python3")
    # A venv of the user's own, with its own pip.
    await run(wc, "python3 -m venv .venv", timeout=60)
    await run(wc, f".venv/bin/pip install --no-index --no-cache-dir ./{wheel}", timeout=60)
    assert (await run(wc, ".venv/bin/jcm-demo")).startswith(f"demo {wc.workdir}/.venv/lib/python3")
    assert await run(wc, "stat -c %U .venv/bin/python3") == "node"
