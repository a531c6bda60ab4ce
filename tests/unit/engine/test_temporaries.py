"""Atomic writes without Docker: the WRITE, COMMIT and SWEEP scripts run by this host's sh
on a temporary folder, and the places that hide the temporaries (paths, trees, exports,
zip exports, watch listings)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import tarfile
import time
import zipfile

import pytest

from jupyter_container_manager.core.errors import BadRequest, FileSystemError
from jupyter_container_manager.core.fstree import TarToZip, tar_to_tree, tree_to_tar
from jupyter_container_manager.core.paths import TEMP_PREFIX, resolve
from jupyter_container_manager.engine import fs_scripts as scripts
from jupyter_container_manager.engine.watch import TreeWatcher

TOKEN = "0123456789abcdef0123456789abcdef"


def run(script: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script, "sh", *args], input=stdin,
                          capture_output=True, timeout=30, check=False)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"old bytes")
    (tmp_path / "data.bin").chmod(0o640)
    return tmp_path


def test_a_complete_write_replaces_the_file_with_its_mode(workdir):
    new = os.urandom(100_000) + scripts.END_MARKER.encode()  # even a body ending like one
    done = run(scripts.WRITE, str(workdir), f"{workdir}/data.bin", TOKEN,
               stdin=new + (scripts.END_MARKER + TOKEN).encode())
    assert done.stdout.split(b"\n")[1:] == [b"DONE", b""], done
    assert (workdir / "data.bin").read_bytes() == new
    assert oct((workdir / "data.bin").stat().st_mode & 0o777) == "0o640"
    assert sorted(os.listdir(workdir)) == ["data.bin"]


@pytest.mark.parametrize("cut", [b"", b"new", b"new bytes " * 1000 + b"JCM-END-",
                                 b"x" + (scripts.END_MARKER + "f" * 32).encode()])
def test_input_without_the_marker_keeps_the_old_file(workdir, cut):
    out = run(scripts.WRITE, str(workdir), f"{workdir}/data.bin", TOKEN, stdin=cut)
    assert out.stdout.split(b"\n")[1:] == [b"CUT", b""], out
    assert (workdir / "data.bin").read_bytes() == b"old bytes"
    assert sorted(os.listdir(workdir)) == ["data.bin"]


def test_a_new_file_is_made_only_when_complete(workdir):
    run(scripts.WRITE, str(workdir), f"{workdir}/new.txt", TOKEN, stdin=b"half")
    assert not (workdir / "new.txt").exists()
    marker = (scripts.END_MARKER + TOKEN).encode()
    run(scripts.WRITE, str(workdir), f"{workdir}/new.txt", TOKEN, stdin=b"all" + marker)
    assert (workdir / "new.txt").read_bytes() == b"all"
    assert sorted(os.listdir(workdir)) == ["data.bin", "new.txt"]


def test_commit_renames_over_files_folders_and_links_without_following(workdir, tmp_path):
    (workdir / "dir").mkdir()
    (workdir / "dir" / "inside").write_text("x")
    (workdir / "target").mkdir()
    os.symlink("target", workdir / "link")
    for index, name in enumerate(["data.bin", "dir", "link"]):
        (workdir / f"{TEMP_PREFIX}{TOKEN}-{index}").write_text(f"new {name}")
    pairs = [part for index, name in enumerate(["data.bin", "dir", "link"])
             for part in (f"{TEMP_PREFIX}{TOKEN}-{index}", name)]
    out = run(scripts.COMMIT, str(workdir), *pairs)
    assert out.stdout == b"OK\n", out
    for name in ("data.bin", "dir", "link"):
        assert (workdir / name).read_text() == f"new {name}"
    assert not (workdir / "link").is_symlink() and os.listdir(workdir / "target") == []


def test_sweep_removes_what_no_write_uses(workdir):
    (workdir / "sub").mkdir()
    old = time.time() - 3600
    mine = "5e1f5e1f"  # this server's instance
    names = {
        "earlier-old": f"{TEMP_PREFIX}aaaa",  # an earlier server's, old: removed
        "earlier-deep": f"sub/{TEMP_PREFIX}bbbb-3",  # same, a mount's: removed
        "in-flight": f"{TEMP_PREFIX}cccc",  # kept whatever its age
        "earlier-fresh": f"{TEMP_PREFIX}dddd",  # newer than the sweep: kept
        "mine-done": f"{TEMP_PREFIX}{mine}0000000003{'e' * 16}",  # counter < 7: removed
        "mine-new": f"{TEMP_PREFIX}{mine}0000000007{'f' * 16}-2",  # issued since: kept
    }
    for key, name in names.items():
        (workdir / name).write_text(key)
        if key in ("earlier-old", "earlier-deep", "in-flight"):
            os.utime(workdir / name, (old, old))
    before = str(int(time.time()) - 60)
    out = run(scripts.SWEEP, str(workdir), before, ".", "", mine, "7", "cccc")
    assert out.stdout == b"OK\n", out
    left = sorted(p.read_text() for p in workdir.rglob(f"{TEMP_PREFIX}*"))
    assert left == ["earlier-fresh", "in-flight", "mine-new"]
    run(scripts.SWEEP, str(workdir), before, ".", "dddd", mine, "7")  # one token, any age
    left = sorted(p.read_text() for p in workdir.rglob(f"{TEMP_PREFIX}*"))
    assert left == ["in-flight", "mine-new"]


def test_readdir_leaves_temporaries_out(workdir):
    (workdir / f"{TEMP_PREFIX}{TOKEN}").write_text("partial")
    out = run(scripts.READDIR, str(workdir), str(workdir)).stdout
    assert out == b"OK\nfdata.bin\0"


def test_api_paths_and_trees_may_not_name_a_temporary():
    with pytest.raises(FileSystemError) as raised:
        resolve("/workspace", f"src/{TEMP_PREFIX}x/a.js", "open")
    assert raised.value.code == "EACCES"
    assert resolve("/workspace", "src/.jcm-tmp", "open") == "/workspace/src/.jcm-tmp"
    with pytest.raises(BadRequest):
        tree_to_tar({"a": {"directory": {f"{TEMP_PREFIX}1": {"file": {"contents": ""}}}}})


def _tar(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    return buffer.getvalue()


def test_exports_leave_temporaries_out():
    archive = _tar(["./a.txt", f"./{TEMP_PREFIX}1", f"./d/{TEMP_PREFIX}2-0", "./d/b.txt"])
    assert tar_to_tree(archive, 0) == {
        "a.txt": {"file": {"contents": "hi"}},
        "d": {"directory": {"b.txt": {"file": {"contents": "hi"}}}},
    }
    converter = TarToZip()
    data = converter.feed(archive) + converter.close()
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["a.txt", "d/b.txt"]


async def test_watch_listings_leave_temporaries_out():
    changes = []
    watcher = TreeWatcher.__new__(TreeWatcher)  # its parser only: no exec
    watcher._checked, watcher._snapshot, watcher._listing = True, None, {}
    watcher._on_changes = changes.extend
    watcher.ready = asyncio.Event()
    for listing in ([b"f\t1\t1\t/w/a"], [b"f\t1\t1\t/w/a", f"f\t2\t5\t/w/{TEMP_PREFIX}1".encode()],
                    [b"f\t3\t2\t/w/a"]):
        for record in listing:
            await watcher._record(record)
        await watcher._record(b"")
    assert changes == [("/w/a", "change")]
