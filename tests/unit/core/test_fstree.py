"""fstree.py: FileSystemTree <-> tar, and tar -> zip as a stream. No Docker."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile

import pytest

from jupyter_container_manager.core.errors import BadRequest, FileSystemError, TooLarge
from jupyter_container_manager.core.fstree import (
    ZIP_ENTRY_COST,
    TarToZip,
    entries_to_tar,
    tar_to_tree,
    tree_to_tar,
    zip_entries,
)

TREE = {
    "package.json": {"file": {"contents": '{"name": "x"}'}},
    "src": {
        "directory": {
            "main.js": {"file": {"contents": "console.log('$(id) `x`')"}},
            "empty": {"directory": {}},
        }
    },
    "bin.dat": {"file": {"contents": "AAEC/w==", "encoding": "base64"}},
    "ünï cødé\ttab.txt": {"file": {"contents": "名前 🚀"}},
}


def test_tree_tar_tree_round_trip():
    assert tar_to_tree(tree_to_tar(TREE), strip=0) == TREE


def test_prefix_puts_the_tree_under_folders():
    archive = tree_to_tar({"a.txt": {"file": {"contents": "a"}}}, prefix="deep/er")
    names = tarfile.open(fileobj=io.BytesIO(archive)).getnames()
    assert names == ["deep", "deep/er", "deep/er/a.txt"]
    assert tar_to_tree(archive, strip=2) == {"a.txt": {"file": {"contents": "a"}}}


@pytest.mark.security_case(12)
@pytest.mark.parametrize(
    "tree",
    [
        {"a/b": {"file": {"contents": "x"}}},
        {"..": {"directory": {}}},
        {"": {"file": {"contents": "x"}}},
        {"a": {"file": {"contents": 5}}},
        {"a": {"file": {"contents": "!!", "encoding": "base64"}}},
        {"a": {"file": {"contents": "x", "encoding": "latin1"}}},
        {"a": {"folder": {}}},
        {"a": {"file": {"contents": "x"}, "directory": {}}},
        [],
    ],
)
def test_bad_trees_are_refused(tree):
    with pytest.raises(BadRequest):
        tree_to_tar(tree)


def _tar(entries, fmt=tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(data, tuple):  # ("symlink", target)
                info.type = tarfile.SYMTYPE
                info.linkname = data[1]
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                info.mtime = 1_700_000_000
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _convert(archive: bytes, piece: int) -> zipfile.ZipFile:
    converter = TarToZip()
    out = bytearray()
    for start in range(0, len(archive), piece):
        out += converter.feed(archive[start : start + piece])
    out += converter.close()
    return zipfile.ZipFile(io.BytesIO(bytes(out)))


LONG = "d" * 120 + "/" + "f" * 150 + ".txt"
ENTRIES = [
    (".", None),
    ("./src", None),
    ("./src/a.js", b"console.log(1)\n"),
    ("./empty.txt", b""),
    ("./big.bin", os.urandom(300_000)),
    ("./" + LONG, b"long name"),
    ("./ünï cødé.txt", "名前".encode()),
    ("./link", ("symlink", "/etc/passwd")),
]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("piece", [1, 511, 512, 4096, 1 << 20])
def test_tar_to_zip_in_any_pieces(fmt, piece):
    entries = (
        ENTRIES if fmt != tarfile.USTAR_FORMAT else [e for e in ENTRIES if e[0] != "./" + LONG]
    )
    if fmt == tarfile.USTAR_FORMAT:
        entries = [e for e in entries if "ü" not in e[0]]
    if piece == 1:  # byte by byte: keep it small
        entries = [e for e in entries if e[0] != "./big.bin"]
    archive = _convert(_tar(entries, fmt), piece)
    assert archive.testzip() is None
    expected = {name[2:]: data for name, data in entries if isinstance(data, bytes)}
    files = {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
    assert files == expected
    folders = {i.filename for i in archive.infolist() if i.is_dir()}
    assert folders == {"src/"}
    if fmt != tarfile.USTAR_FORMAT:
        assert archive.getinfo(LONG).file_size == len(b"long name")


def test_tar_to_zip_keeps_modes_and_survives_an_empty_archive():
    archive = _convert(_tar([("./run.sh", b"#!/bin/sh\n")]), 4096)
    assert (archive.getinfo("run.sh").external_attr >> 16) & 0o777 == 0o644
    empty = _convert(_tar([]), 512)
    assert empty.namelist() == []


def test_tar_to_zip_refuses_garbage():
    converter = TarToZip()
    with pytest.raises(ValueError):
        converter.feed(b"x" * 512)


def test_tree_to_tar_entries_belong_to_the_owner():
    tree = {"d": {"directory": {"f": {"file": {"contents": "x"}}}}}
    for owner, expected in (((1000, 1001), (1000, 1001)), (None, (0, 0))):
        with tarfile.open(fileobj=io.BytesIO(tree_to_tar(tree, "p", owner=owner))) as tar:
            members = tar.getmembers()
        assert [m.name for m in members] == ["p", "p/d", "p/d/f"]
        assert {(m.uid, m.gid) for m in members} == {expected}


# --- zip archives back into entries (mount of an export) ----------------------------------


def _zip(*members: tuple[str, bytes, int | None]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_zip_entries_of_an_export_stream():
    """What TarToZip writes, zip_entries reads back: folders, bytes, the executable bit."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        members = (("./run.sh", b"#!/bin/sh\n", 0o755), ("./bin", os.urandom(999), 0o644))
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("./empty")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
    converter = TarToZip()
    zipped = converter.feed(tar.getvalue()) + converter.close()
    entries = {path: (data, mode) for path, data, mode in zip_entries(zipped, 10**6)}
    assert entries["run.sh"] == (b"#!/bin/sh\n", 0o755)
    assert entries["bin"][1] == 0o644 and len(entries["bin"][0]) == 999
    assert entries["empty"] == (None, None)


def test_zip_entries_leave_out_links_and_the_root():
    zipped = _zip(("./", b"", 0o040755), ("link", b"target", 0o120777), ("a.txt", b"a", None))
    assert zip_entries(zipped, 10**6) == [("a.txt", b"a", 0o644)]


@pytest.mark.parametrize("name", ["../up", "/etc/passwd", "a/../../up", "a/b/../../../up"])
def test_zip_entries_refuse_names_outside_the_root(name):
    with pytest.raises(FileSystemError) as caught:
        zip_entries(_zip((name, b"x", None)), 10**6)
    assert caught.value.code == "EACCES" and caught.value.status == 403


def test_zip_entries_refuse_what_is_not_a_zip_and_what_unpacks_too_large():
    with pytest.raises(BadRequest) as caught:
        zip_entries(b"PK\x03\x04 not really", 10**6)
    assert caught.value.code == "EINVAL"
    # Declared sizes count, each entry with a tar header more: a bomb is refused unread.
    bomb = _zip(("zeros", bytes(2_000_000), None))
    assert len(bomb) < 10_000
    with pytest.raises(TooLarge):
        zip_entries(bomb, 1_000_000)
    many = _zip(*((f"f{i}", b"", None) for i in range(100)))
    with pytest.raises(TooLarge):
        zip_entries(many, 100 * ZIP_ENTRY_COST - 1)
    assert len(zip_entries(many, 100 * ZIP_ENTRY_COST)) == 100


def test_entries_to_tar_adds_missing_folders_with_the_owner():
    archive = entries_to_tar([("a/b/c.txt", b"c", 0o755), ("a/d", None, None)], "p", (7, 8))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["p", "p/a", "p/a/b", "p/a/b/c.txt", "p/a/d"]
    assert all((m.uid, m.gid) == (7, 8) for m in members.values())
    assert members["p/a/b/c.txt"].mode == 0o755 and members["p/a"].isdir()
