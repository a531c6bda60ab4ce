"""The Python client's file watches and terminals, over the container's WebSocket, on a
real server subprocess and engine (E2B's ``files.watch_dir`` and ``pty``)."""

from __future__ import annotations

import threading
import time


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_watch_sees_changes_by_anyone(containers):
    wc = containers.boot(files={"src": {"directory": {}}, "other": {"directory": {}}})
    try:
        seen: list[tuple[str, str]] = []
        lock = threading.Lock()

        def changed(kind, path):
            with lock:
                seen.append((kind, path))

        watcher = wc.fs.watch("src", changed)
        wc.fs.write_file("src/a.js", "1")                  # through REST
        # A batch folds an add and a change of the same file into the add: the change
        # comes after the add was told.
        assert wait_until(lambda: ("add", "/src/a.js") in seen)
        wc.run("sh", ["-c", "echo 2 >> src/a.js; mkdir src/lib; echo x > other/b.js"])
        assert wait_until(lambda: ("addDir", "/src/lib") in seen)
        assert wait_until(lambda: ("change", "/src/a.js") in seen)
        assert all(path.startswith("/src/") for _, path in seen), seen  # not other/
        watcher.close()
        count = len(seen)
        wc.fs.write_file("src/after.js", "3")
        time.sleep(1.0)
        assert len(seen) == count, seen[count:]
    finally:
        wc.teardown()


def test_pty_open_type_attach_again_and_exit(containers):
    wc = containers.boot()
    try:
        text: list[str] = []
        pty = wc.pty(cols=100, rows=30, on_data=text.append)
        pty.write("echo pty-$((6*7))\n")
        assert wait_until(lambda: "pty-42" in "".join(text)), "".join(text)
        pty.resize(120, 40)
        pty.write("stty size\n")
        assert wait_until(lambda: "40 120" in "".join(text)), "".join(text)
        pty.close()  # detached: the shell lives on

        again = wc.pty(terminal_id=pty.terminal_id)  # its recent output comes first
        assert again.terminal_id == pty.terminal_id
        assert wait_until(lambda: "pty-42" in "".join(again.output)), again.output
        again.write("exit 5\n")
        assert again.wait(10) == 5
    finally:
        wc.teardown()
