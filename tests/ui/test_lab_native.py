"""The panel as part of JupyterLab, end to end in headless Chromium: container terminals
are JupyterLab's own terminal widget (with the user's terminal settings), the launcher
and the palette create containers and open terminals, and JupyterLab's own file browser
works on a container's files. The steps share one page and one container; screenshots
land in tests/ui/artifacts/ (``native-*.png``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ui.conftest import (
    ARTIFACTS,
    CHECKOUT_LABEXTENSION,
    TERMINAL_TEXT,
    LabServer,
    axe_violations,
    launch_lab,
    open_container_panel,
    reload_and_reattach_terminal,
)

pytestmark = pytest.mark.ui

LOAD_MS = 90_000
STEP_MS = 30_000
# The user's terminal settings: JupyterLab's terminal applies them to container
# terminals too (screen-reader mode also keeps the rows as text for the test).
TERMINAL_SETTINGS = {"screenReaderMode": True, "fontSize": 17, "theme": "dark"}


@dataclass
class Native:
    server: LabServer
    page: object
    container_id: str = ""
    name: str = ""
    console: list[str] = field(default_factory=list)

    def shot(self, label: str) -> Path:
        path = ARTIFACTS / f"native-{label}.png"
        self.page.screenshot(path=str(path))
        return path

    def read_file(self, path: str) -> str | None:
        answer = self.server.api(
            "GET",
            f"webcontainer/{self.container_id}/fs/readFile/{path.lstrip('/')}?encoding=utf-8",
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.text

    def write_file(self, path: str, contents: str) -> None:
        answer = self.server.api(
            "POST",
            f"webcontainer/{self.container_id}/fs/writeFile",
            json={"path": path, "contents": contents},
        )
        assert answer.status_code == 204, answer.text

    def listing(self, path: str = "/") -> set[str]:
        answer = self.server.api(
            "GET", f"webcontainer/{self.container_id}/fs/readdir/{path.lstrip('/')}"
        )
        answer.raise_for_status()
        return set(answer.json())


def wait_until(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.25)
    pytest.fail(f"{message} (last value: {last!r})")


@pytest.fixture(scope="module")
def native_lab(tmp_path_factory, chromium_path, docker_client) -> Iterator[LabServer]:
    with launch_lab(
        tmp_path_factory,
        log_name="jupyter-lab-native.log",
        user_settings={"@jupyterlab/terminal-extension:plugin": TERMINAL_SETTINGS},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def native(native_lab: LabServer, browser, artifacts: Path) -> Iterator[Native]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    session = Native(native_lab, page)
    page.on("console", lambda m: session.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: session.console.append(f"pageerror: {e}\n{e.stack}"))
    try:
        yield session
    finally:
        (artifacts / "browser-console-native.log").write_text("\n".join(session.console))
        context.close()


def open_lab(native: Native):
    return open_container_panel(native.page, native.server.lab_url(), LOAD_MS)


def test_launcher_tile_creates_a_container_from_a_template(native: Native):
    from playwright.sync_api import expect

    page = native.page
    panel = open_lab(native)
    launcher = page.locator(".jp-Launcher")
    if launcher.count() == 0:
        page.keyboard.press("Control+Shift+L")
    section = page.locator(".jp-Launcher-section", has_text="Containers")
    expect(section).to_be_visible(timeout=LOAD_MS)
    tiles = section.locator(".jp-LauncherCard")
    expect(tiles).to_have_count(3)
    expect(tiles.nth(1)).to_contain_text("Node.js HTTP server")
    native.shot("launcher")

    tiles.nth(1).click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.get_by_label("Starter template")).to_have_value("node-http")
    native.name = f"native-{int(time.time())}"
    dialog.get_by_label("Name").fill(native.name)
    dialog.get_by_role("button", name="Create", exact=True).click()
    row = panel.locator("li.jp-ContainerManager-container", has_text=native.name)
    expect(row).to_have_attribute("data-status", "running", timeout=LOAD_MS)
    native.container_id = row.get_attribute("data-container-id")
    native.server.created.append(native.container_id)
    assert native.read_file("/server.js") is not None


def test_palette_opens_a_terminal_in_a_container(native: Native):
    from playwright.sync_api import expect

    assert native.container_id, "no container: the launcher step failed"
    page = native.page
    page.locator("#jp-main-dock-panel").click()
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#command-palette")
    expect(palette).to_be_visible()
    palette.locator("input").fill("Open a Terminal in a Container")
    palette.locator(
        ".lm-CommandPalette-item", has_text="Open a Terminal in a Container"
    ).first.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("select")).to_contain_text(native.name)
    dialog.locator("select").select_option(label=f"{native.name} ({native.container_id[:12]})")
    dialog.get_by_role("button", name="OK").click()
    terminal = page.locator(".jp-ContainerManager-terminal").last
    expect(terminal.locator(".jp-Terminal")).to_be_visible(timeout=STEP_MS)


def test_terminal_is_jupyterlabs_own_with_the_users_settings(native: Native):
    from playwright.sync_api import expect

    page = native.page
    terminal = page.locator(".jp-ContainerManager-terminal").last
    text = terminal.locator(TERMINAL_TEXT)
    # JupyterLab's terminal widget, with the user's settings: screen-reader mode
    # (the accessible rows), the dark theme and the font size.
    expect(terminal.locator(".jp-Terminal")).to_have_attribute("data-term-theme", "dark")
    expect(text).to_have_count(1, timeout=STEP_MS)
    # A row of a 17 px font is some 20 px high (13 px, the default: some 15 px).
    row = text.locator("> div").first
    height = wait_until(
        lambda: float(row.evaluate("node => parseFloat(getComputedStyle(node).height) || 0")),
        10,
        "no row height",
    )
    assert height >= 18, height
    wait_until(lambda: text.inner_text().strip(), STEP_MS / 1000, "no prompt in the terminal")
    terminal.click()
    page.keyboard.type("echo hi-$((20 + 1))")
    page.keyboard.press("Enter")
    expect(text).to_contain_text("hi-21", timeout=STEP_MS)
    terminal_id = terminal.get_attribute("data-terminal-id")
    assert terminal_id
    # Its tab names the container (then the title the shell sets).
    expect(
        page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    ).to_have_text(re.compile(rf"^{re.escape(native.name)}: "))
    native.shot("terminal")

    # The PTY follows the tab's size.
    page.keyboard.type("echo SIZE=$(stty size)")
    page.keyboard.press("Enter")
    expect(text).to_contain_text(re.compile(r"SIZE=\d+ \d+"))
    rows, cols = map(int, re.search(r"SIZE=(\d+) (\d+)", text.inner_text()).groups())
    assert cols > 80 and rows > 24, (rows, cols)

    # A reload re-attaches to the same shell, with its scrollback.
    restored = reload_and_reattach_terminal(page, native.server, terminal_id, "hi-21",
                                            load_ms=LOAD_MS, step_ms=STEP_MS)
    native.shot("terminal-after-reload")

    # Paste from the system clipboard through the terminal's context menu.
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=native.server.url.rstrip("/")
    )
    page.evaluate("() => navigator.clipboard.writeText('echo pasted-$((3 * 3))')")
    restored.locator(".jp-Terminal").click(button="right")
    page.locator('.lm-Menu-item[data-command="container-manager:terminal-paste"]').click()
    expect(restored.locator(TERMINAL_TEXT)).to_contain_text("echo pasted-$((3 * 3))")
    restored.locator(".jp-Terminal").click()
    page.keyboard.press("Enter")
    expect(restored.locator(TERMINAL_TEXT)).to_contain_text("pasted-9", timeout=STEP_MS)


def test_file_browser_on_the_container_drive(native: Native):
    from playwright.sync_api import expect

    assert native.container_id, "no container: the launcher step failed"
    page = native.page
    panel = page.locator("#jp-ContainerManager-panel")
    if not panel.is_visible():
        page.locator('.jp-SideBar li[data-id="jp-ContainerManager-panel"]').click()
    row = panel.locator(f'li[data-container-id="{native.container_id}"]')
    row.get_by_role("button", name="Browse Files").click()
    browser = page.locator(
        f'.jp-ContainerManager-fileBrowser[data-container-id="{native.container_id}"]'
    )
    expect(browser).to_be_visible()
    listing = browser.locator(".jp-DirListing-content")
    items = listing.locator(".jp-DirListing-item")

    def item(name: str):
        text = page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$"))
        return items.filter(has=text)

    for name in ("server.js", "package.json", "README.md"):
        expect(item(name)).to_have_count(1)
    # Sizes and times come with the listing (the Last Modified column).
    expect(item("server.js").locator(".jp-DirListing-itemModified")).not_to_have_text("")

    # A change made in the container shows at once (fs-change; no polling).
    native.write_file("/live.txt", "from the REST API")
    expect(item("live.txt")).to_have_count(1, timeout=10_000)

    # New folder from the toolbar, named in place.
    browser.get_by_role("button", name="New Folder").click()
    editor = listing.locator("input.jp-DirListing-editor")
    expect(editor).to_be_visible()
    editor.fill("assets")
    editor.press("Enter")
    expect(item("assets")).to_have_count(1)
    wait_until(lambda: "assets" in native.listing("/"), 10, "no folder assets")

    # Multi-select (click, Control+click), copy, then paste into the folder.
    item("server.js").click()
    item("package.json").click(modifiers=["Control"])
    expect(listing.locator(".jp-DirListing-item.jp-mod-selected")).to_have_count(2)
    page.keyboard.press("Control+c")
    item("assets").dblclick()
    expect(browser.locator(".jp-BreadCrumbs")).to_contain_text("assets")
    # The folder is empty: paste from the listing's context menu.
    listing.click(position={"x": 200, "y": 200}, button="right")
    page.locator(".lm-Menu .lm-Menu-item", has_text="Paste").first.click()
    wait_until(
        lambda: {"server.js", "package.json"} <= native.listing("/assets"),
        15,
        "the pasted files are not in /assets",
    )
    expect(item("server.js")).to_have_count(1)
    assert native.read_file("/assets/server.js") == native.read_file("/server.js")
    # Up again: the container's folder is the root of this browser.
    browser.get_by_role("button", name="Up One Folder").click()
    expect(item("assets")).to_have_count(1)

    # Drag README.md onto the folder: a move.
    source = item("README.md").bounding_box()
    target = item("assets").bounding_box()
    page.mouse.move(source["x"] + 30, source["y"] + source["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            source["x"] + 30,
            source["y"] + (target["y"] - source["y"]) * step / 10 + target["height"] / 2,
        )
    page.mouse.up()
    wait_until(
        lambda: "README.md" in native.listing("/assets") and "README.md" not in native.listing("/"),
        15,
        "README.md was not moved into /assets",
    )
    expect(item("README.md")).to_have_count(0)

    # Rename with F2, delete with the Delete key (after JupyterLab's confirmation).
    item("live.txt").click()
    page.keyboard.press("F2")
    editor = listing.locator("input.jp-DirListing-editor")
    expect(editor).to_be_visible()
    editor.fill("notes.txt")
    editor.press("Enter")
    expect(item("notes.txt")).to_have_count(1)
    wait_until(lambda: native.read_file("/notes.txt") == "from the REST API", 10, "no rename")
    assert native.read_file("/live.txt") is None
    native.shot("file-browser")

    item("notes.txt").click()
    page.keyboard.press("Delete")
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(item("notes.txt")).to_have_count(0)
    wait_until(lambda: native.read_file("/notes.txt") is None, 10, "notes.txt not deleted")

    # Open a file in JupyterLab's editor from the browser, edit and save.
    item("server.js").dblclick()
    code = page.locator(".jp-FileEditor .cm-content").last
    expect(code).to_contain_text("Listening on port")
    code.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n// saved from the file browser\n")
    page.keyboard.press("Control+s")
    wait_until(
        lambda: "// saved from the file browser" in (native.read_file("/server.js") or ""),
        15,
        "the edit did not reach the container",
    )
    assert items.count() >= 3

    # A reloaded page brings the file browser tab back, on the same folder.
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=LOAD_MS)
    expect(browser).to_have_count(1, timeout=LOAD_MS)
    expect(item("assets")).to_have_count(1, timeout=STEP_MS)


def test_the_front_end_carries_no_xterm_of_its_own():
    """The terminal is JupyterLab's: the built extension bundles no xterm.js (its
    helper textarea's class name is in every copy of xterm)."""
    static = CHECKOUT_LABEXTENSION / "static"
    if not static.is_dir():
        pytest.skip("the front end is not built here")
    bundled = [
        path.name
        for path in static.glob("*.js")
        if "xterm-helper-textarea" in path.read_text(errors="replace")
    ]
    assert bundled == []


def test_panel_has_no_serious_accessibility_violations(native: Native):
    """axe-core on the side panel (container list, file tree, previews) and on the
    container's file browser: no serious or critical violation of WCAG 2.1 A/AA."""
    from playwright.sync_api import expect

    page = native.page
    panel = page.locator("#jp-ContainerManager-panel")
    if not panel.is_visible():
        page.locator('.jp-SideBar li[data-id="jp-ContainerManager-panel"]').click()
    expect(panel.locator(".jp-ContainerManager-treeBox")).to_be_visible()
    for selector in ("#jp-ContainerManager-panel", ".jp-ContainerManager-fileBrowser"):
        violations = axe_violations(page, selector)
        assert violations == [], json.dumps(violations, indent=1)


def test_container_list_and_file_tree_from_the_keyboard(native: Native):
    from playwright.sync_api import expect

    page = native.page
    panel = page.locator("#jp-ContainerManager-panel")
    # A second container, made through the API, to move between.
    answer = native.server.api("POST", "containers", json={"name": f"{native.name}-b"})
    assert answer.status_code == 201, answer.text
    second = answer.json()["id"]
    native.server.created.append(second)
    panel.locator('[data-command="container-manager:refresh"]').click()
    rows = panel.locator("li.jp-ContainerManager-container")
    expect(rows).to_have_count(2)

    # Focus the selected container's button (the only one in the tab order),
    # then Up/Down/Home/End move the selection and the focus.
    first = rows.nth(0).locator(".jp-ContainerManager-containerSelect")
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    selected = rows.nth(1).locator(".jp-ContainerManager-containerSelect")
    expect(selected).to_have_attribute("aria-pressed", "true")
    expect(selected).to_be_focused()
    expect(first).to_have_attribute("tabindex", "-1")
    page.keyboard.press("Home")
    expect(first).to_be_focused()
    # Tab reaches the selected container's actions; Enter runs one.
    page.keyboard.press("Tab")
    expect(rows.nth(0).get_by_role("button", name="Stop")).to_be_focused()
    terminals = page.locator(".jp-ContainerManager-terminal")
    before = terminals.count()
    for _ in range(2):
        page.keyboard.press("Tab")
    expect(rows.nth(0).get_by_role("button", name="Open Terminal")).to_be_focused()
    page.keyboard.press("Enter")
    expect(terminals).to_have_count(before + 1)

    # The file tree: focus it, move with the arrows, open a folder with Right,
    # a file with Enter.
    rows.nth(0).locator(".jp-ContainerManager-containerSelect").click()
    tree = panel.locator('[role="tree"]')
    expect(tree.locator('[data-path="/assets"]')).to_be_visible()
    tree.focus()
    page.keyboard.press("Home")
    expect(tree.locator('[role="treeitem"][aria-selected="true"]')).to_have_attribute(
        "data-path", "/assets"
    )
    active = tree.get_attribute("aria-activedescendant")
    assert active and tree.locator(f"#{active}").get_attribute("data-path") == "/assets"
    page.keyboard.press("ArrowRight")
    expect(tree.locator('[data-path="/assets"]')).to_have_attribute("aria-expanded", "true")
    expect(tree.locator('[data-path^="/assets/"]').first).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(tree.locator('[role="treeitem"][aria-selected="true"]')).to_have_attribute(
        "data-path", re.compile("^/assets/")
    )
    page.keyboard.press("ArrowLeft")
    expect(tree.locator('[role="treeitem"][aria-selected="true"]')).to_have_attribute(
        "data-path", "/assets"
    )
    page.keyboard.press("ArrowLeft")
    expect(tree.locator('[data-path="/assets"]')).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("End")
    expect(tree.locator('[role="treeitem"][aria-selected="true"]')).to_have_attribute(
        "data-path", "/server.js"
    )
    page.keyboard.press("Enter")
    expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text="server.js")).to_be_visible()
    native.shot("keyboard")
