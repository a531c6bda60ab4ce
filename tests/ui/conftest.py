"""Browser tests of the JupyterLab panel: a real ``jupyter lab`` subprocess, the real
Docker engine, and Debian's Chromium driven by Playwright for Python.

Each run uses its own owner label, so cleanup removes exactly the containers the run
made (through the API, then by Docker label, also when a test failed).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OWNER_LABEL = "jupyter-container-manager.owner"
ARTIFACTS = Path(__file__).parent / "artifacts"
# The front end built in this checkout (jlpm build), which the tests load rather
# than whichever copy an installed package put under share/jupyter/labextensions.
CHECKOUT_LABEXTENSION = (
    Path(__file__).resolve().parents[2] / "jupyter_container_manager" / "labextension"
)
LABEXTENSION_NAME = "jupyter-container-manager"
# JupyterLab's terminal draws on a canvas; with the user's screen-reader mode on,
# xterm also keeps the visible rows as text (.xterm-accessibility-tree), which the
# tests read.
SCREEN_READER_TERMINALS = {"@jupyterlab/terminal-extension:plugin": {"screenReaderMode": True}}
TERMINAL_TEXT = ".xterm-accessibility-tree"
STARTUP_TIMEOUT = 90  # seconds for jupyter lab to answer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ui: end-to-end browser tests (headless Chromium, jupyter lab, Docker)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.ui)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab`` with token auth."""

    url: str
    token: str
    owner: str
    log_path: Path
    created: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, f"{self.url}{path.lstrip('/')}", headers=self.headers, timeout=30, **kwargs
        )

    def lab_url(self) -> str:
        return f"{self.url}lab?token={self.token}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _remove_containers(server: LabServer) -> None:
    """DELETE every container of this run's owner, then force-remove leftovers by label."""
    try:
        listed = server.api("GET", "containers")
        ids = [c["id"] for c in listed.json()] if listed.ok else []
    except requests.RequestException:
        ids = []
    for container_id in set(ids) | set(server.created):
        try:
            server.api("DELETE", f"containers/{container_id}")
        except requests.RequestException:
            pass
    try:
        import docker

        client = docker.from_env()
        try:
            for container in client.containers.list(
                all=True, filters={"label": f"{OWNER_LABEL}={server.owner}"}
            ):
                container.remove(force=True)
        finally:
            client.close()
    except Exception as error:  # the engine may be gone; report, do not mask the test
        print(f"cleanup by label failed: {error}", file=sys.stderr)


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """Replaces pytest-jupyter's autouse loop fixture for these tests: a private loop,
    never made current, because closing the thread's current loop would close the one
    Playwright's sync API runs on."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(autouse=True)
def _clean_containers():
    """Replaces the suite's per-test cleanup: these steps share one container across
    tests; lab_server removes the run's containers when the module ends."""
    yield


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str, docker_client
) -> Iterator[LabServer]:
    with launch_lab(tmp_path_factory, user_settings=SCREEN_READER_TERMINALS) as server:
        yield server


@contextmanager
def launch_lab(
    tmp_path_factory: pytest.TempPathFactory,
    manager: dict | None = None,
    args: tuple[str, ...] = (),
    log_name: str = "jupyter-lab.log",
    user_settings: dict[str, dict] | None = None,
) -> Iterator[LabServer]:
    """A ``jupyter lab`` subprocess of this run (its own owner label), with more
    ``ContainerManager`` settings and command-line arguments, and the user's
    JupyterLab settings by plugin id (``"@jupyterlab/terminal-extension:plugin"``);
    its containers are removed and its log kept in the artifacts when the block ends."""
    from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE

    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    config_dir = base / "config"
    settings_dir = base / "settings"
    workspaces = base / "workspaces"
    for directory in (root, config_dir, settings_dir, workspaces):
        directory.mkdir()
    owner = f"ui-test-{secrets.token_hex(4)}"
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "FileContentsManager": {"delete_to_trash": False},
                "ContainerManager": {
                    "owner": owner,
                    "image": TEST_IMAGE,
                    "extra_labels": {RUN_LABEL: RUN_ID},
                    **(manager or {}),
                },
            }
        )
    )
    # No "get Jupyter news?" toast over the panel.
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    for plugin_id, values in (user_settings or {}).items():
        package, plugin = plugin_id.split(":")
        (settings_dir / package).mkdir(parents=True, exist_ok=True)
        (settings_dir / package / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))

    port = _free_port()
    token = secrets.token_hex(16)
    log_path = base / "jupyter-lab.log"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(workspaces),
    }
    if (CHECKOUT_LABEXTENSION / "package.json").exists():
        # JUPYTER_PATH comes first among the data dirs, and the first
        # labextensions/<name> found is the one JupyterLab serves.
        data_dir = base / "jupyter-data"
        (data_dir / "labextensions").mkdir(parents=True)
        (data_dir / "labextensions" / LABEXTENSION_NAME).symlink_to(CHECKOUT_LABEXTENSION)
        env["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(data_dir), os.environ.get("JUPYTER_PATH")])
        )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--FileContentsManager.delete_to_trash=False",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
        *args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = LabServer(f"http://127.0.0.1:{port}/", token, owner, log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if server.api("GET", "api/status").ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer in {STARTUP_TIMEOUT} s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        answer = server.api("GET", "containers")
        assert answer.status_code == 200, (
            f"GET /containers answered {answer.status_code}: the server extension is not "
            f"enabled\n{server.log_tail()}"
        )
        assert_serves_checkout_build(server)
        yield server
    finally:
        _remove_containers(server)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if log_path.exists():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_path, ARTIFACTS / log_name)


def assert_serves_checkout_build(server: LabServer) -> None:
    """The lab page loads this checkout's front end (its remoteEntry), when it is built."""
    built = CHECKOUT_LABEXTENSION / "package.json"
    if not built.exists():
        return
    expected = json.loads(built.read_text())["jupyterlab"]["_build"]["load"]
    page = requests.get(server.lab_url(), timeout=30).text
    loads = [
        ext.get("load", "")
        for ext in _page_config(page).get("federated_extensions", [])
        if ext.get("name") == LABEXTENSION_NAME
    ]
    assert loads == [expected], (
        f"JupyterLab serves {loads} of {LABEXTENSION_NAME}, not the build of this "
        f"checkout ({expected})"
    )


AXE_SCRIPT = Path(__file__).resolve().parents[2] / "labextension/node_modules/axe-core/axe.min.js"


def open_container_panel(page, lab_url: str, load_ms: int = 90_000):
    """Load JupyterLab at ``lab_url`` and show the container panel (the side bar's cube);
    the panel's locator."""
    page.goto(lab_url, timeout=load_ms)
    page.wait_for_selector("#jp-main-dock-panel", timeout=load_ms)
    tab = page.locator('.jp-SideBar li[data-id="jp-ContainerManager-panel"]')
    tab.wait_for(timeout=load_ms)
    panel = page.locator("#jp-ContainerManager-panel")
    # JupyterLab may still be restoring its saved layout, which can hide the panel again
    # just after a click showed it: click until it stays shown for a moment.
    deadline = time.monotonic() + load_ms / 1000
    while time.monotonic() < deadline:
        if not panel.is_visible():
            tab.click()
        page.wait_for_timeout(500)
        if panel.is_visible():
            page.wait_for_timeout(500)
            if panel.is_visible():
                break
    panel.wait_for(state="visible")
    return panel


def reload_and_reattach_terminal(page, server: LabServer, terminal_id: str, seen: str, *,
                                 load_ms: int = 90_000, step_ms: int = 30_000):
    """Reload the page once JupyterLab's workspace remembers the terminal tab of
    ``terminal_id``; the tab comes back on the same shell: its scrollback shows ``seen``
    and typing works (``echo again-$((40 + 2))`` prints ``again-42``). The restored
    terminal's locator."""
    from playwright.sync_api import expect

    deadline = time.monotonic() + 15
    while terminal_id not in server.api("GET", "lab/api/workspaces/default").text:
        if time.monotonic() > deadline:
            pytest.fail(f"the terminal id {terminal_id} was not saved in the workspace")
        time.sleep(0.25)
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=load_ms)
    restored = page.locator(f'.jp-ContainerManager-terminal[data-terminal-id="{terminal_id}"]')
    expect(restored).to_have_count(1, timeout=load_ms)
    expect(restored.locator(TERMINAL_TEXT)).to_contain_text(seen, timeout=step_ms)
    # Still the same shell: typing works after the re-attach.
    restored.click()
    page.keyboard.type("echo again-$((40 + 2))")
    page.keyboard.press("Enter")
    expect(restored.locator(TERMINAL_TEXT)).to_contain_text("again-42", timeout=step_ms)
    return restored


def axe_violations(page, selector: str, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of WCAG 2.x A and AA rules in the part of the page that
    `selector` names, of these impacts (axe-core from npm, injected into the page)."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run jlpm install in labextension/")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        """async selector => {
            const result = await window.axe.run(selector, {
                runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
                resultTypes: ['violations']
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary }))
            }));
        }""",
        selector,
    )
    return [v for v in result if v["impact"] in impacts]


def _page_config(html: str) -> dict:
    start = html.index('id="jupyter-config-data"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextmanager
def serving(server):
    """Run an ``http.server`` server (bound to a loopback port) in a daemon thread for the
    block; shut it down after, also on failure."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
