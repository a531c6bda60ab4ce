"""More of the panel end to end in headless Chromium, against a real ``jupyter lab`` and
real containers: the selected container's live metrics; an image pull from a local
registry as a notification with a progress bar; a notebook whose kernel runs in a
container; checkpoints, snapshots and forks from the History section. The steps share one page;
screenshots land in tests/ui/artifacts/ (and in docs/screenshots/ with
JCM_UPDATE_SCREENSHOTS=1: a test run leaves the checkout as it was).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.registry import Registry
from tests.ui.conftest import ARTIFACTS, LabServer, launch_lab, open_container_panel

pytestmark = pytest.mark.ui

LOAD_MS = 90_000
STEP_MS = 30_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LABEL_ID = "jupyter-container-manager.id"


@dataclass
class More:
    server: LabServer
    page: object
    docker: object
    console: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """A screenshot in the artifacts (copied to docs/screenshots/<name>.png when
        JCM_UPDATE_SCREENSHOTS=1)."""
        path = ARTIFACTS / f"more-{name}.png"
        self.page.screenshot(path=str(path))
        if os.environ.get("JCM_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SCREENSHOTS / f"{name}.png")
        return path

    def create(self, name: str) -> str:
        answer = self.server.api("POST", "containers", json={"name": name})
        assert answer.status_code in (200, 201), answer.text
        container_id = answer.json()["id"]
        self.server.created.append(container_id)
        return container_id

    def engine_container(self, container_id: str):
        found = self.docker.containers.list(filters={"label": f"{LABEL_ID}={container_id}"})
        assert found, f"no engine container for {container_id}"
        return found[0]


@pytest.fixture(scope="module")
def more_lab(tmp_path_factory, chromium_path, docker_client) -> Iterator[LabServer]:
    with launch_lab(
        tmp_path_factory,
        manager={"pull_missing_images": True},
        log_name="jupyter-lab-more.log",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def more(more_lab: LabServer, browser, docker_client, artifacts: Path) -> Iterator[More]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    session = More(more_lab, page, docker_client)
    page.on("console", lambda m: session.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: session.console.append(f"pageerror: {e}\n{e.stack}"))
    try:
        yield session
    finally:
        (artifacts / "browser-console-more.log").write_text("\n".join(session.console))
        context.close()


def open_lab(more: More):
    return open_container_panel(more.page, more.server.lab_url(), LOAD_MS)


def select(panel, container_id: str):
    from playwright.sync_api import expect

    row = panel.locator(f'li.jp-ContainerManager-container[data-container-id="{container_id}"]')
    expect(row).to_have_attribute("data-status", "running", timeout=LOAD_MS)
    row.locator(".jp-ContainerManager-containerSelect").click()
    expect(row).to_have_class(re.compile("jp-mod-selected"))


def cpu_percent(metrics) -> float:
    text = metrics.locator('[data-metric="cpu"] .jp-ContainerManager-metricValue').inner_text()
    return float(text.split()[0])


def test_live_metrics_of_the_selected_container(more: More):
    from playwright.sync_api import expect

    idle = more.create(f"idle-{int(time.time())}")
    busy = more.create(f"busy-{int(time.time())}")
    panel = open_lab(more)
    metrics = panel.locator(".jp-ContainerManager-metrics")

    select(panel, idle)
    expect(metrics.locator(f'[data-container-id="{idle}"]')).to_be_visible(timeout=STEP_MS)
    memory = metrics.locator('[data-metric="memory"] .jp-ContainerManager-metricValue')
    expect(memory).to_contain_text(re.compile(r"[KMG]iB / .*[MG]iB"))

    # A process keeping one core busy shows in the numbers and the plot of that
    # container, and only there.
    more.engine_container(busy).exec_run(["sh", "-c", "while :; do :; done"], detach=True)
    select(panel, busy)
    expect(metrics.locator(f'[data-container-id="{busy}"]')).to_be_visible(timeout=STEP_MS)
    deadline = time.monotonic() + 30
    while cpu_percent(metrics) < 30:
        assert time.monotonic() < deadline, f"CPU stays at {cpu_percent(metrics)} %"
        time.sleep(0.5)
    # A reading about once a second: the sparkline grows.
    cpu_line = metrics.locator('[data-metric="cpu"] polyline')
    deadline = time.monotonic() + 30
    while len(cpu_line.get_attribute("points").split()) < 12:
        assert time.monotonic() < deadline, cpu_line.get_attribute("points")
        time.sleep(0.5)
    expect(metrics.get_by_role("img", name=re.compile("CPU over the last minute"))).to_be_visible()
    expect(metrics.locator('[data-metric="processes"]')).to_contain_text("Processes:")
    more.shot("metrics")

    # Back to the idle one: its own readings, and the busy one's history is gone.
    select(panel, idle)
    expect(metrics.locator(f'[data-container-id="{idle}"]')).to_be_visible(timeout=STEP_MS)
    time.sleep(2.5)
    assert cpu_percent(metrics) < 30

    # A stopped container shows no readings.
    assert more.server.api("POST", f"containers/{idle}/stop").ok
    expect(metrics).to_contain_text("is not running", timeout=STEP_MS)
    more.server.api("DELETE", f"containers/{busy}")  # its busy loop ends with it


@pytest.fixture
def registry(docker_client, more_lab: LabServer):
    """A slow local registry; its images leave the engine afterwards."""

    with Registry(pause=0.1) as running:
        yield running
    from tests.ui.conftest import _remove_containers

    _remove_containers(more_lab)  # first: an image in use would stay, untagged
    running.remove_pulled_images(docker_client)


def test_image_pull_progress_as_a_notification(more: More, registry: Registry):
    from playwright.sync_api import expect

    page = more.page
    panel = open_lab(more)
    image = registry.add("jcm-test/ui-pulled", f"t{int(time.time())}", filler=8 * 1024**2)

    # The create waits for the pull; the page hears of it on its own socket.
    answers = []
    create = threading.Thread(
        target=lambda: answers.append(
            more.server.api("POST", "containers", json={"name": "pulled", "image": image})
        )
    )
    create.start()
    try:
        toast = page.locator(".Toastify__toast", has_text=f"Pulling image {image}")
        expect(toast).to_be_visible(timeout=STEP_MS)
        expect(toast).to_contain_text(re.compile(r"[▰▱]{10} \d+ %, \d of 2 layers, .*iB of .*iB"))

        def percent() -> int:
            with contextlib.suppress(Exception):
                text = toast.inner_text(timeout=1000)
                return int(re.search(r"[▰▱]{10} (\d+) %", text).group(1))
            return -1

        # Updated in place: one notification for the image while its bar moves on.
        first = percent()
        deadline = time.monotonic() + 30
        while percent() <= max(first, 30):
            assert time.monotonic() < deadline, f"the pull stays at {percent()} %"
            expect(page.locator(".Toastify__toast", has_text=image)).to_have_count(1)
            time.sleep(0.2)
        more.shot("pull-progress")
    finally:
        create.join(timeout=60)
    assert answers and answers[0].status_code in (200, 201), answers and answers[0].text
    more.server.created.append(answers[0].json()["id"])
    done = page.locator(".Toastify__toast", has_text=f"Pulled image {image}")
    expect(done).to_be_visible(timeout=STEP_MS)
    expect(page.locator(".Toastify__toast", has_text=image)).to_have_count(1)
    row = panel.locator("li.jp-ContainerManager-container", has_text="pulled")
    expect(row).to_have_attribute("data-status", "running", timeout=STEP_MS)

    # A pull that fails says why, and stays until dismissed.
    missing = f"127.0.0.1:{registry.port}/jcm-test/absent-{int(time.time())}:1"
    answer = more.server.api("POST", "containers", json={"image": missing})
    assert answer.status_code == 503, answer.text
    failed = page.locator(".Toastify__toast", has_text=f"Could not pull image {missing}")
    expect(failed).to_be_visible(timeout=STEP_MS)
    expect(failed).to_contain_text("registry has no image")


def test_open_a_notebook_in_this_container(more: More):
    from playwright.sync_api import expect

    page = more.page
    name = f"nb-{int(time.time())}"
    container_id = more.create(name)
    workdir = more.server.api("GET", f"containers/{container_id}").json()["workdir"]
    marker = f"only-in-{container_id[:8]}.txt"
    answer = more.server.api(
        "POST", f"webcontainer/{container_id}/fs/writeFile", json={"path": marker, "contents": "x"}
    )
    assert answer.status_code == 204, answer.text

    panel = open_lab(more)
    select(panel, container_id)
    row = panel.locator(f'li.jp-ContainerManager-container[data-container-id="{container_id}"]')
    row.get_by_role("button", name="Open a Notebook in this Container").click()

    notebook = page.locator(".jp-NotebookPanel").last
    expect(notebook).to_be_visible(timeout=STEP_MS)
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        f"{name}.ipynb"
    )
    cell = notebook.locator(".jp-Cell .cm-content").first
    cell.click()
    page.keyboard.type("import os; print(os.getcwd(), sorted(os.listdir()))")
    page.keyboard.press("Shift+Enter")
    output = notebook.locator(".jp-OutputArea-output").first
    expect(output).to_contain_text(workdir, timeout=LOAD_MS)
    expect(output).to_contain_text(marker)
    # The kernel indicator says where the code runs (the container's own kernel spec;
    # the panel refreshes JupyterLab's specs, which would otherwise poll for a minute).
    expect(notebook.locator(".jp-KernelName")).to_have_text(
        f"Python 3 (container {name})", timeout=LOAD_MS
    )
    more.shot("notebook-in-container")

    # The session JupyterLab uses is the one the server made for the container.
    sessions = more.server.api("GET", "api/sessions").json()
    paths = [s["path"] for s in sessions]
    assert f"{name}.ipynb" in paths, paths


def test_checkpoints_snapshots_and_forks(more: More):
    from playwright.sync_api import expect

    page = more.page
    name = f"hist-{int(time.time())}"
    container_id = more.create(name)

    def write(path: str, contents: str) -> None:
        answer = more.server.api(
            "POST",
            f"webcontainer/{container_id}/fs/writeFile",
            json={"path": path, "contents": contents},
        )
        assert answer.status_code == 204, answer.text

    def read(cid: str, path: str) -> str | None:
        answer = more.server.api("GET", f"webcontainer/{cid}/fs/readFile/{path}?encoding=utf-8")
        return None if answer.status_code == 404 else answer.text

    snapshot_ids = []
    try:
        write("app.js", "v1")
        panel = open_lab(more)
        select(panel, container_id)
        # Room for the History section: fold the others below the list.
        for section in ("Files Section", "Previews Section", "Metrics Section"):
            title = panel.locator(f'h3[aria-label="{section}"]')
            if title.get_attribute("aria-expanded") == "true":
                title.click(position={"x": 12, "y": 8})  # not on its toolbar
        history = panel.locator(".jp-ContainerManager-history")
        expect(history.locator(f'[data-container-id="{container_id}"]')).to_be_visible()
        checkpoints = history.locator("li.jp-ContainerManager-checkpoint")

        # Two checkpoints: app.js at v1, then app.js at v2 and a new notes.md.
        history.get_by_role("button", name="Checkpoint", exact=True).click()
        expect(checkpoints).to_have_count(1)
        expect(checkpoints.first.locator('[data-path="/app.js"]')).to_be_visible()
        write("app.js", "v2")
        write("notes.md", "new")
        history.get_by_role("button", name="Checkpoint", exact=True).click()
        expect(checkpoints).to_have_count(2)
        newest, oldest = checkpoints.nth(0), checkpoints.nth(1)
        expect(newest.locator('[data-path="/notes.md"]')).to_be_visible()
        write("app.js", "v3")
        more.shot("checkpoints")

        # One file from the newest checkpoint.
        newest.locator('[data-path="/app.js"]').get_by_role("button").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Restore").click()
        wait = time.monotonic() + 15
        while read(container_id, "app.js") != "v2":
            assert time.monotonic() < wait, read(container_id, "app.js")
            time.sleep(0.2)
        assert read(container_id, "notes.md") == "new"

        # All of the workdir from the oldest: notes.md, made since, goes.
        oldest.get_by_role("button", name=re.compile("Restore all files")).click()
        page.locator(".jp-Dialog").get_by_role("button", name="Restore").click()
        wait = time.monotonic() + 15
        while read(container_id, "app.js") != "v1" or read(container_id, "notes.md") is not None:
            assert time.monotonic() < wait, (read(container_id, "app.js"), "notes.md")
            time.sleep(0.2)

        # A snapshot, named; then a new container from it in the create dialog.
        history.get_by_role("button", name="Snapshot…").click()
        dialog = page.locator(".jp-Dialog")
        dialog.locator("input").fill("after v1")
        dialog.get_by_role("button", name="Save Snapshot").click()
        saved = page.locator(".Toastify__toast", has_text='Snapshot "after v1" saved')
        expect(saved).to_be_visible(timeout=LOAD_MS)
        listed = more.server.api("GET", "containers/snapshots").json()
        snapshot_ids += [s["id"] for s in listed]
        snapshot = next(s for s in listed if s["name"] == "after v1")

        panel.get_by_role("button", name="Create a container").click()
        dialog = page.locator(".jp-Dialog")
        picker = dialog.get_by_label("Start from snapshot")
        expect(picker.locator(f'option[value="{snapshot["id"]}"]')).to_have_count(1)
        picker.select_option(snapshot["id"])
        expect(dialog.get_by_label("Image")).to_be_disabled()
        dialog.get_by_label("Name").fill(f"{name}-from-snap")
        more.shot("snapshots")
        dialog.get_by_role("button", name="Create", exact=True).click()
        row = panel.locator("li.jp-ContainerManager-container", has_text=f"{name}-from-snap")
        expect(row).to_have_attribute("data-status", "running", timeout=LOAD_MS)
        restored_id = row.get_attribute("data-container-id")
        more.server.created.append(restored_id)
        assert read(restored_id, "app.js") == "v1"

        # Fork the first container into two running copies with its files.
        select(panel, container_id)
        history.get_by_role("button", name="Fork…").click()
        dialog = page.locator(".jp-Dialog")
        dialog.locator("input").fill("2")
        dialog.get_by_role("button", name="Fork", exact=True).click()
        forks = panel.locator("li.jp-ContainerManager-container", has_text=f"{name}-fork-")
        expect(forks).to_have_count(2, timeout=LOAD_MS)
        for index in range(2):
            fork_id = forks.nth(index).get_attribute("data-container-id")
            more.server.created.append(fork_id)
            expect(forks.nth(index)).to_have_attribute("data-status", "running")
            assert read(fork_id, "app.js") == "v1"
    finally:
        for snapshot_id in snapshot_ids:
            more.server.api("DELETE", f"containers/snapshots/{snapshot_id}")
