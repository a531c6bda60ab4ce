"""The widgets, tested by their state (no browser), on a real server and engine."""

from __future__ import annotations

import time

import pytest

from jupyter_container_manager.client import ContainerError
from jupyter_container_manager.widgets import (
    ContainerManagerWidget,
    FileExplorer,
    PreviewLinks,
    Terminal,
    UploadPanel,
    Workspace,
)
from tests.support.helpers import preview_target

TREE = {
    "package.json": {"file": {"contents": '{"name": "w"}'}},
    "index.js": {"file": {"contents": "console.log('hi')\n"}},
    "src": {"directory": {"greet.js": {"file": {"contents": "module.exports = 1\n"}}}},
    "logo.bin": {"file": {"contents": b"\x89PNG\xff\xfe"}},
}


def wait_until(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def wc(containers):
    container = containers.boot(files=TREE)
    yield container
    container.teardown()


def test_container_manager(containers):
    created, deleted, selected, errors = [], [], [], []
    manager = ContainerManagerWidget(containers)
    manager.on_create(created.append)
    manager.on_delete(deleted.append)
    manager.on_select(selected.append)
    manager.on_error(errors.append)
    before = {c.id for c in manager.containers}

    info = manager.create(name="from-widget")
    assert created == [info] and manager.selected == info.id
    assert info.id in {c.id for c in manager.containers} - before
    assert manager.status == "Created from-widget (running)"
    label = dict((v, k) for k, v in manager._list.options)[info.id]
    assert label.startswith("from-widget · running")
    assert selected[-1] == manager.info(info.id)
    assert manager._stop_button.disabled is False and manager._start_button.disabled is True

    assert manager.stop().status == "stopped"
    assert manager.info().status == "stopped" and manager._start_button.disabled is False
    assert manager.start().status == "running"

    manager._list.value = None  # a click elsewhere in the list
    assert manager.selected is None and selected[-1] is None
    manager._delete_button.click()  # nothing selected: an error shown, nothing raised
    assert manager.error == "Select a container first"

    manager.select(info.id)
    manager._delete_button.click()
    assert deleted == [info.id] and manager.selected is None and manager.error == ""
    assert info.id not in {c.id for c in manager.containers}

    with pytest.raises(ContainerError):
        manager.delete(info.id)  # gone already
    assert errors and errors[-1].status == 404
    assert "No container" in manager.error and "No container" in manager._status_line.value


def test_manager_snapshot_and_fork(containers):
    manager = ContainerManagerWidget(containers, load=False)
    created = []
    manager.on_create(created.append)
    info = manager.create(name="to-save")
    snapshot = manager.snapshot(name="saved")
    assert snapshot.name == "saved" and snapshot.container == info.id
    assert manager.status.startswith("Snapshot saved")
    manager._fork_button.click()
    assert manager.error == "" and manager.status == "Forked 1: to-save-fork-1"
    copy = created[-1]
    assert copy.name == "to-save-fork-1" and copy.id in {c.id for c in manager.containers}
    again = manager.create(name="from-snapshot", snapshot=snapshot.id)
    for container_id in (info.id, copy.id, again.id):
        manager.delete(container_id)
    containers.snapshots.delete(snapshot.id)


def test_manager_create_button_uses_the_name_box(containers):
    manager = ContainerManagerWidget(containers, load=False)
    assert manager.containers == []  # load=False: nothing fetched
    manager._name.value = "by-button"
    manager._create_button.click()
    assert manager.info().name == "by-button" and manager._name.value == ""
    manager.delete()


def test_file_explorer(wc):
    opened, saved = [], []
    explorer = FileExplorer(wc)
    explorer.on_open(lambda path, text: opened.append(path))
    explorer.on_save(saved.append)
    assert explorer.entries == ["/src/", "/index.js", "/logo.bin", "/package.json"]

    explorer._tree.value = "/src"  # a click on a folder opens it
    assert explorer.expanded == ["/src"] and "/src/greet.js" in explorer.entries
    labels = {value: label for label, value in explorer._tree.options}
    assert labels["/src/greet.js"].strip().endswith("greet.js")

    explorer._tree.value = "/src/greet.js"  # a click on a file opens it
    assert explorer.open_path == "/src/greet.js" and opened == ["/src/greet.js"]
    assert explorer.contents == "module.exports = 1\n"
    assert explorer._editor.value == explorer.contents
    assert not explorer.dirty and explorer._save_button.disabled

    explorer._editor.value = "module.exports = 2\n"  # typing in the editor
    assert explorer.dirty and not explorer._save_button.disabled
    explorer._save_button.click()
    assert saved == ["/src/greet.js"] and not explorer.dirty
    assert wc.fs.read_file("src/greet.js", "utf-8") == "module.exports = 2\n"

    explorer.new_folder("/lib")
    explorer.new_file("/lib/util.js", "export {}")
    assert {"/lib/", "/lib/util.js"} <= set(explorer.entries)
    assert explorer.open_path == "/lib/util.js" and explorer.contents == "export {}"

    explorer.select("/lib")
    explorer._name.value = "inside.txt"
    explorer._new_file_button.click()
    assert wc.fs.read_file("lib/inside.txt", "utf-8") == ""

    explorer.delete("/lib")
    assert not any(e.startswith("/lib") for e in explorer.entries)
    assert explorer.open_path is None and "lib" not in wc.fs.readdir("/")

    explorer.open("/logo.bin")
    assert explorer._editor.disabled and "binary" in explorer.status

    with pytest.raises(ContainerError):
        explorer.open("/missing.txt")
    assert explorer.error.startswith("ENOENT")

    explorer.collapse("/src")
    assert "/src/greet.js" not in explorer.entries


def test_file_explorer_sees_changes_after_refresh(wc):
    explorer = FileExplorer(wc)
    wc.fs.write_file("later.txt", "x")
    assert "/later.txt" not in explorer.entries
    explorer._refresh_button.click()
    assert "/later.txt" in explorer.entries


def test_terminal_keeps_the_cwd(wc):
    results = []
    terminal = Terminal(wc)
    terminal.on_output(lambda line, result: results.append((line, result.exit_code)))
    assert terminal.cwd == "/workspace"
    terminal.run("cd src")
    assert terminal.cwd == "/workspace/src" and "/workspace/src $" in terminal._prompt.value
    terminal._input.value = "ls"  # Enter in the input box
    assert terminal._input.value == ""
    assert "greet.js" in terminal.transcript and "/workspace/src $ ls" in terminal.transcript
    assert terminal.history == ["cd src", "ls"] and terminal.last_exit_code == 0
    terminal.run("exit 3")
    assert terminal.last_exit_code == 3 and results[-1] == ("exit 3", 3)
    terminal.run("printf '\\033[31mred\\033[0m'")
    assert "red" in terminal.transcript and "\x1b" not in terminal.transcript
    terminal.run("echo '<b>'")
    assert "&lt;b&gt;" in terminal._screen.value

    again = Terminal(wc)  # another client sees the same remembered cwd
    assert again.cwd == "/workspace/src"
    terminal.clear()
    assert terminal.transcript == ""


def test_upload_panel(wc):
    uploads = []
    panel = UploadPanel(wc, directory="/incoming/deep")
    panel.on_upload(lambda path, size: uploads.append((path, size)))
    assert panel.upload("a.txt", b"alpha") == "/incoming/deep/a.txt"
    assert wc.fs.read_file("incoming/deep/a.txt") == b"alpha"
    big = bytes(range(256)) * (12 * 4096)  # 12 MiB: sent in chunks, with progress
    assert panel.upload("big.bin", big) == "/incoming/deep/big.bin"
    assert panel.progress == 1.0 and panel._bar.value == 1.0
    assert wc.fs.read_file("incoming/deep/big.bin") == big

    panel._folder.value = "/"
    content = bytes(range(256))
    panel._picker.set_state({"value": [  # what the browser sends when files are picked
        {"name": "all.bin", "type": "application/octet-stream", "size": 256,
         "content": memoryview(content), "last_modified": 1_700_000_000_000},
    ]})
    assert panel._picker.value == ()  # the picker is emptied for the next files
    assert wc.fs.read_file("all.bin") == content
    assert panel.uploaded == ["/incoming/deep/a.txt", "/incoming/deep/big.bin", "/all.bin"]
    assert uploads == [("/incoming/deep/a.txt", 5), ("/incoming/deep/big.bin", len(big)),
                       ("/all.bin", 256)]
    assert "all.bin" in panel._list.value

    with pytest.raises(ValueError):
        panel.upload("../escape.txt", b"x")


def test_preview_links_follow_servers(wc):
    ready = []
    previews = PreviewLinks(wc)
    previews.on_ready(lambda port, url: ready.append(port))
    assert previews.links == {}
    wc.fs.write_file("srv.js", "require('http').createServer((q, r) => r.end('ok')).listen(5173)")
    server = wc.spawn("node", ["srv.js"])
    assert wait_until(lambda: 5173 in previews.links), (previews.links, previews.status)
    # The link comes with the port's "open" push; server-ready follows once a preview
    # really reaches the port.
    assert wait_until(lambda: ready == [5173]), ready
    url = previews.links[5173]
    assert preview_target(url) == (5173, wc.id)
    assert f'href="{url}"' in previews._view.value
    assert wc.fetch(url).text == "ok"
    previews.links = {}
    refreshed = previews.refresh()  # the ports the container lists now (fresh grants)
    assert {p: preview_target(u) for p, u in refreshed.items()} == {5173: (5173, wc.id)}
    server.kill()
    assert wait_until(lambda: 5173 not in previews.links), previews.links
    previews.close()


def test_workspace_tabs(wc):
    workspace = Workspace(wc)
    assert [workspace.get_title(i) for i in range(4)] == ["Files", "Terminal", "Upload", "Previews"]
    assert workspace.explorer.entries and workspace.terminal.cwd == "/workspace"
    workspace.close()
