"""The JupyterLab panel end to end: a person's steps in headless Chromium against a real
``jupyter lab`` and real containers. The steps run in order on one page and one
container; a screenshot of each lands in tests/ui/artifacts/.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ui.conftest import (
    ARTIFACTS,
    TERMINAL_TEXT,
    LabServer,
    open_container_panel,
    reload_and_reattach_terminal,
)

pytestmark = pytest.mark.ui

# Generous bounds: a cold container start, a first JupyterLab load on 2 cores.
LOAD_MS = 90_000
STEP_MS = 30_000


@dataclass
class Session:
    server: LabServer
    page: object
    name: str
    container_id: str | None = None
    full_width: int = 0
    console: list[str] = field(default_factory=list)
    shots: int = 0

    def shot(self, label: str) -> Path:
        self.shots += 1
        path = ARTIFACTS / f"{self.shots:02d}-{label}.png"
        self.console.append(f"---- screenshot {path.name}")
        self.page.screenshot(path=str(path))
        return path

    def need_container(self) -> str:
        if not self.container_id:
            pytest.fail("no container: the create step failed")
        return self.container_id

    def read_file(self, path: str, text: bool = True) -> str | bytes | None:
        query = "?encoding=utf-8" if text else ""
        answer = self.server.api(
            "GET", f"webcontainer/{self.need_container()}/fs/readFile/{path.lstrip('/')}{query}"
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.text if text else answer.content


def wait_until(predicate, timeout: float, message: str, interval: float = 0.25):
    """Poll `predicate` until it returns a truthy value, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{message} (last value: {last!r})")


@pytest.fixture(scope="module")
def ui(lab_server: LabServer, browser, artifacts: Path) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    session = Session(lab_server, page, name=f"e2e-{os.getpid()}")
    page.on("console", lambda m: session.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: session.console.append(f"pageerror: {e}\n{e.stack}"))
    try:
        yield session
    finally:
        try:
            session.shot("final")
        except Exception:  # the page may be gone after a failure
            pass
        (artifacts / "browser-console.log").write_text("\n".join(session.console))
        context.close()


def open_lab(session: Session):
    return open_container_panel(session.page, session.server.lab_url(), LOAD_MS)


def container_row(session: Session):
    return session.page.locator(
        "#jp-ContainerManager-panel li.jp-ContainerManager-container"
        f'[data-container-id="{session.container_id}"]'
    )


def terminal_text(session: Session) -> str:
    return session.page.locator(f".jp-ContainerManager-terminal {TERMINAL_TEXT}").last.inner_text()


def pty_size(session: Session, terminal, tag: str) -> tuple[int, int]:
    """Rows and columns of the PTY, as the shell in the container sees them."""
    from playwright.sync_api import expect

    terminal.click()
    session.page.keyboard.type(f"echo {tag}=$(stty size)")
    session.page.keyboard.press("Enter")
    rows = terminal.locator(TERMINAL_TEXT)
    expect(rows).to_contain_text(re.compile(rf"{tag}=\d+ \d+"))
    found = re.search(rf"{tag}=(\d+) (\d+)", rows.inner_text().replace("\n", ""))
    return int(found.group(1)), int(found.group(2))


def test_panel_loads_and_creates_a_container(ui: Session):
    from playwright.sync_api import expect

    page = ui.page
    panel = open_lab(ui)
    expect(panel.get_by_text("No containers yet.")).to_be_visible(timeout=LOAD_MS)
    ui.shot("panel-empty")

    panel.get_by_role("button", name="Create a container").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_label("Name").fill(ui.name)
    dialog.get_by_label("Starter template").select_option("node-http")
    ui.shot("create-dialog")
    dialog.get_by_role("button", name="Create", exact=True).click()

    row = panel.locator('li.jp-ContainerManager-container', has_text=ui.name)
    expect(row).to_have_attribute("data-status", "running", timeout=LOAD_MS)
    ui.container_id = row.get_attribute("data-container-id")
    ui.server.created.append(ui.container_id)

    info = ui.server.api("GET", f"containers/{ui.container_id}").json()
    assert info["name"] == ui.name
    assert info["status"] == "running"
    # The starter template's files are in the explorer.
    tree = panel.locator(".jp-ContainerManager-treeBox")
    expect(tree.locator('[data-path="/server.js"]')).to_be_visible()
    expect(tree.locator('[data-path="/package.json"]')).to_be_visible()
    ui.shot("container-created")


def test_create_edit_and_save_a_file(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    panel = page.locator("#jp-ContainerManager-panel")
    tree = panel.locator(".jp-ContainerManager-treeBox")

    panel.get_by_role("button", name="New file").click()
    name_input = page.locator(".jp-Dialog input")
    name_input.fill("hello.js")
    name_input.press("Enter")
    row = tree.locator('[data-path="/hello.js"]')
    expect(row).to_be_visible()
    assert ui.read_file("/hello.js") == ""
    ui.shot("file-created")

    row.dblclick()
    editor = page.locator(".jp-FileEditor .cm-content").last
    expect(editor).to_be_visible()
    tab = page.locator(".jp-MainAreaWidget, .jp-Document").filter(has=editor)
    editor.click()
    text = 'console.log("saved from JupyterLab");'
    page.keyboard.type(text)
    page.keyboard.press("Control+s")
    wait_until(
        lambda: ui.read_file("/hello.js") == text,
        20,
        "the saved text did not reach the container",
    )
    expect(page.locator(".lm-TabBar-tab.jp-mod-dirty", has_text="hello.js")).to_have_count(0)
    assert tab.count() >= 1
    ui.shot("file-saved")

    # A change made in the container shows in the explorer (fs-change push).
    answer = ui.server.api(
        "POST",
        f"webcontainer/{ui.container_id}/fs/writeFile",
        json={"path": "/from-rest.txt", "contents": "made by the REST API"},
    )
    assert answer.status_code == 204, answer.text
    expect(tree.locator('[data-path="/from-rest.txt"]')).to_be_visible(timeout=STEP_MS)


def test_terminal_runs_node_and_survives_a_reload(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    container_row(ui).get_by_role("button", name="Open Terminal").click()
    terminal = page.locator(".jp-ContainerManager-terminal").last
    expect(terminal.locator(TERMINAL_TEXT)).to_be_visible()
    # The shell's prompt arrives.
    wait_until(lambda: terminal_text(ui).strip(), 30, "no prompt in the terminal")
    terminal.click()
    page.keyboard.type("node -e \"console.log(6 * 7 + '-from-node')\"")
    page.keyboard.press("Enter")
    expect(terminal.locator(TERMINAL_TEXT)).to_contain_text("42-from-node", timeout=STEP_MS)
    terminal_id = terminal.get_attribute("data-terminal-id")
    assert terminal_id
    # The PTY has the size of the tab, not the 80x24 default.
    rows, cols = pty_size(ui, terminal, "FULL")
    assert cols > 100 and rows > 24, (rows, cols)
    ui.full_width = cols
    ui.shot("terminal-node")

    # The workspace (saved by JupyterLab) remembers the terminal id: a reload brings the
    # tab back on the same shell.
    reload_and_reattach_terminal(page, ui.server, terminal_id, "42-from-node",
                                 load_ms=LOAD_MS, step_ms=STEP_MS)
    ui.shot("terminal-after-reload")


def test_upload_with_the_button_and_by_drop(ui: Session, tmp_path: Path):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    panel = (
        open_lab(ui)
        if not page.locator("#jp-ContainerManager-panel").is_visible()
        else (page.locator("#jp-ContainerManager-panel"))
    )
    tree = panel.locator(".jp-ContainerManager-treeBox")
    expect(tree).to_be_visible(timeout=LOAD_MS)
    # Upload into the workdir root: select a file there first.
    tree.locator('[data-path="/package.json"]').click()

    payload = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "upload.bin"
    source.write_bytes(payload)
    with page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Upload files").click()
    chooser.value.set_files(str(source))
    expect(tree.locator('[data-path="/upload.bin"]')).to_be_visible(timeout=LOAD_MS)
    expect(panel.locator(".jp-ContainerManager-upload")).to_contain_text("Uploaded 1 file")
    assert panel.locator("progress.jp-ContainerManager-progress").get_attribute("value") == "100"
    ui.shot("uploaded-button")
    uploaded = ui.read_file("/upload.bin", text=False)
    assert hashlib.sha256(uploaded).hexdigest() == hashlib.sha256(payload).hexdigest()

    # Drag and drop a file onto the tree.
    page.evaluate(
        """() => {
            const box = document.querySelector('.jp-ContainerManager-treeBox');
            const transfer = new DataTransfer();
            const file = new File(['dropped text\\n'], 'dropped.txt', { type: 'text/plain' });
            transfer.items.add(file);
            for (const type of ['dragenter', 'dragover', 'drop']) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                box.dispatchEvent(new DragEvent(type, init));
            }
        }"""
    )
    expect(tree.locator('[data-path="/dropped.txt"]')).to_be_visible(timeout=STEP_MS)
    assert ui.read_file("/dropped.txt") == "dropped text\n"
    ui.shot("uploaded-drop")


def test_preview_of_a_node_server(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    panel = page.locator("#jp-ContainerManager-panel")
    terminal = page.locator(".jp-ContainerManager-terminal").last
    if terminal.count() == 0:
        container_row(ui).get_by_role("button", name="Open Terminal").click()
        terminal = page.locator(".jp-ContainerManager-terminal").last
    terminal.click()
    page.keyboard.type("node server.js &")
    page.keyboard.press("Enter")
    expect(terminal.locator(TERMINAL_TEXT)).to_contain_text(
        "Listening on port 3000", timeout=STEP_MS
    )

    link = panel.locator('.jp-ContainerManager-port[data-port="3000"]')
    expect(link).to_be_visible(timeout=STEP_MS)
    href = link.locator("a").get_attribute("href")
    # A preview on its own origin (the browser reached Jupyter as 127.0.0.1).
    assert re.match(rf"^http://3000-{ui.container_id}\.localhost:\d+/__jcm_grant/[^/]+/$",
                    href), href
    ui.shot("preview-link")

    # In a JupyterLab tab: an iframe that keeps the preview's own origin (cross-origin
    # to Jupyter by construction).
    link.get_by_role("button", name="Open port 3000 in a JupyterLab tab").click()
    preview = page.locator('.jp-ContainerManager-preview[data-port="3000"]')
    expect(preview).to_be_visible()
    sandbox = preview.locator("iframe").get_attribute("sandbox") or ""
    assert "allow-scripts" in sandbox and "allow-same-origin" in sandbox
    src = preview.locator("iframe").get_attribute("src") or ""
    assert src.startswith(f"http://3000-{ui.container_id}.localhost:"), src
    frame = page.frame_locator('.jp-ContainerManager-preview[data-port="3000"] iframe')
    expect(frame.locator("h1")).to_have_text("Hello from your container", timeout=STEP_MS)
    ui.shot("preview-tab")
    # The preview took the right half: the terminal's PTY narrowed with its tab.
    _, cols = pty_size(ui, terminal, "HALF")
    assert ui.full_width and cols < ui.full_width * 0.75, (cols, ui.full_width)

    # In a new browser tab.
    with page.context.expect_page() as opened:
        link.get_by_role("button", name="Open port 3000 in a new browser tab").click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab.locator("h1")).to_have_text("Hello from your container", timeout=STEP_MS)
    tab.screenshot(path=str(ARTIFACTS / f"{ui.shots + 1:02d}-preview-browser-tab.png"))
    ui.shots += 1
    tab.close()


def test_new_folder_rename_download_and_delete(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    panel = page.locator("#jp-ContainerManager-panel")
    tree = panel.locator(".jp-ContainerManager-treeBox")
    tree.locator('[data-path="/package.json"]').click()

    panel.get_by_role("button", name="New folder").click()
    name_input = page.locator(".jp-Dialog input")
    name_input.fill("assets")
    name_input.press("Enter")
    expect(tree.locator('[data-path="/assets"][data-type="directory"]')).to_be_visible()
    listing = ui.server.api(
        "GET", f"webcontainer/{ui.container_id}/fs/readdir/?withFileTypes=true"
    ).json()
    assert {"name": "assets", "type": "directory"} in listing

    # Rename from the context menu.
    tree.locator('[data-path="/from-rest.txt"]').click(button="right")
    page.get_by_role("menuitem", name="Rename…").click()
    name_input = page.locator(".jp-Dialog input")
    name_input.fill("renamed.txt")
    name_input.press("Enter")
    expect(tree.locator('[data-path="/renamed.txt"]')).to_be_visible()
    expect(tree.locator('[data-path="/from-rest.txt"]')).to_have_count(0)
    assert ui.read_file("/renamed.txt") == "made by the REST API"
    assert ui.read_file("/from-rest.txt") is None
    ui.shot("renamed")

    # Download from the context menu.
    with page.expect_download() as download:
        tree.locator('[data-path="/renamed.txt"]').click(button="right")
        page.get_by_role("menuitem", name="Download").click()
    assert download.value.suggested_filename == "renamed.txt"
    assert Path(download.value.path()).read_text() == "made by the REST API"

    # Delete with the keyboard, after a confirmation.
    tree.locator('[data-path="/dropped.txt"]').click()
    page.keyboard.press("Delete")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("/dropped.txt")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(tree.locator('[data-path="/dropped.txt"]')).to_have_count(0)
    assert ui.read_file("/dropped.txt") is None
    ui.shot("deleted-file")


def test_stop_and_start(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    row = container_row(ui)
    row.get_by_role("button", name="Stop", exact=True).click()
    expect(row).to_have_attribute("data-status", re.compile("stopped|exited"), timeout=LOAD_MS)
    assert ui.server.api("GET", f"containers/{ui.container_id}").json()["status"] in (
        "stopped",
        "exited",
    )
    panel = page.locator("#jp-ContainerManager-panel")
    expect(panel.get_by_text("Select a running container")).to_be_visible()
    ui.shot("stopped")

    row.get_by_role("button", name="Start", exact=True).click()
    expect(row).to_have_attribute("data-status", "running", timeout=LOAD_MS)
    # Files survive a stop and come back in the explorer.
    tree = panel.locator(".jp-ContainerManager-treeBox")
    expect(tree.locator('[data-path="/hello.js"]')).to_be_visible()
    # The explorer watches the restarted container again.
    answer = ui.server.api(
        "POST",
        f"webcontainer/{ui.container_id}/fs/writeFile",
        json={"path": "/after-restart.txt", "contents": "back"},
    )
    assert answer.status_code == 204, answer.text
    expect(tree.locator('[data-path="/after-restart.txt"]')).to_be_visible()
    ui.shot("started")


def test_delete_the_container_with_confirmation(ui: Session):
    from playwright.sync_api import expect

    ui.need_container()
    page = ui.page
    row = container_row(ui)
    row.get_by_role("button", name="Delete").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(ui.name)
    ui.shot("delete-confirm")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(row).to_have_count(0, timeout=STEP_MS)
    assert ui.server.api("GET", f"containers/{ui.container_id}").status_code == 404
    # Its terminal and preview tabs closed with it.
    expect(page.locator(".jp-ContainerManager-terminal")).to_have_count(0)
    expect(page.locator(".jp-ContainerManager-preview")).to_have_count(0)
    ui.shot("deleted")


def test_no_uncaught_errors_in_the_page(ui: Session):
    errors = [line for line in ui.console if line.startswith("pageerror")]
    assert errors == []
