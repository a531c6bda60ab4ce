"""Snapshots, forks and checkpoints through the Python client (sync), on the real engine."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client import Checkpoint, ContainerError, Snapshot


def test_snapshot_fork_and_checkpoints(containers):
    wc = containers.boot(files={"app.js": {"file": {"contents": "one"}}})
    made = []
    try:
        cp = wc.checkpoint()
        assert isinstance(cp, Checkpoint) and cp.files == {"/app.js": "add"}
        wc.fs.write_file("app.js", "two")
        wc.fs.write_file("new.txt", "new")
        second = wc.checkpoint()
        assert second.files == {"/app.js": "change", "/new.txt": "add"}
        assert [c.id for c in wc.checkpoints()] == [cp.id, second.id]
        assert wc.restore_checkpoint(cp, ["app.js"]) == {"/app.js": "change"}
        assert wc.fs.read_file("app.js", "utf-8") == "one"

        snapshot = wc.snapshot("one")
        assert isinstance(snapshot, Snapshot) and snapshot.name == "one"
        assert snapshot.container == wc.id
        assert [s.id for s in containers.snapshots.list()] == [snapshot.id]
        copy = containers.create(snapshot=snapshot)
        made.append(copy.id)
        attached = containers.attach(copy.id)
        assert attached.fs.read_file("new.txt", "utf-8") == "new"
        attached.close()

        copies = wc.fork(2)
        made += [c.id for c in copies]
        assert len({c.id for c in copies}) == 2 and wc.id not in {c.id for c in copies}

        containers.snapshots.delete(snapshot.id)
        assert containers.snapshots.list() == []
        with pytest.raises(ContainerError) as caught:
            containers.snapshots.get("no-such-snapshot")
        assert caught.value.status == 404
    finally:
        for container_id in made:
            containers.delete(container_id)
        wc.teardown()
