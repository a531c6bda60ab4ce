"""paths.py: workdir-relative paths, lexical `..` escapes, workdir names. No Docker."""

from __future__ import annotations

import pytest

from jupyter_container_manager.core.errors import BadRequest, FileSystemError
from jupyter_container_manager.core.paths import parts_of, relative, resolve, workdir_for_name


@pytest.mark.parametrize(
    "path, expected",
    [
        ("", "/workspace"),
        ("/", "/workspace"),
        (".", "/workspace"),
        ("./", "/workspace"),
        ("a.js", "/workspace/a.js"),
        ("/a.js", "/workspace/a.js"),
        ("src/a.js", "/workspace/src/a.js"),
        ("/src//a.js/", "/workspace/src/a.js"),
        ("src/./lib/../a.js", "/workspace/src/a.js"),
        ("src/..", "/workspace"),
        ("/workspace/x", "/workspace/workspace/x"),  # paths are taken from the workdir
        ("...", "/workspace/..."),
        ("..a/b..", "/workspace/..a/b.."),
        ("-rf", "/workspace/-rf"),
        ("$(id)/`x`;y", "/workspace/$(id)/`x`;y"),
        ("tab\tnew\nline", "/workspace/tab\tnew\nline"),
        ("名前 🚀", "/workspace/名前 🚀"),
        ("back\\slash", "/workspace/back\\slash"),
    ],
)
def test_resolve(path, expected):
    assert resolve("/workspace", path, "open") == expected


@pytest.mark.parametrize(
    "path, reached",
    [
        ("..", "/"),
        ("../etc/passwd", "/etc/passwd"),
        ("/../etc/passwd", "/etc/passwd"),
        ("src/../../x", "/x"),
        ("a/b/../../../workspace2", "/workspace2"),
        ("./../workspace/x", "/workspace/x"),  # lexically out and back in: still out
    ],
)
def test_dotdot_escapes_are_eacces_with_the_path_reached(path, reached):
    with pytest.raises(FileSystemError) as caught:
        resolve("/workspace", path, "open")
    assert caught.value.code == "EACCES"
    assert caught.value.status == 403
    assert caught.value.message == f"EACCES: permission denied, open '{reached}'"


def test_nul_bytes_and_non_strings_are_einval():
    with pytest.raises(FileSystemError) as caught:
        resolve("/workspace", "a\0b", "mkdir")
    assert caught.value.code == "EINVAL" and caught.value.status == 400
    assert "mkdir" in caught.value.message
    with pytest.raises(BadRequest):
        resolve("/workspace", 5, "open")


@pytest.mark.parametrize("path", ["\ud800", "a/\udcff", "é\udfff"])
def test_lone_surrogates_are_einval(path):
    with pytest.raises(FileSystemError) as caught:
        resolve("/workspace", path, "open")
    assert caught.value.code == "EINVAL" and caught.value.status == 400
    caught.value.message.encode("utf-8")  # the message itself is valid text


def test_other_workdirs():
    assert resolve("/home/app/", "x", "open") == "/home/app/x"
    assert resolve("/home/app", "", "open") == "/home/app"


def test_parts_of():
    assert parts_of("a/./b/../c") == ["a", "c"]
    assert parts_of("a/../..") is None
    assert parts_of("") == []


def test_relative():
    assert relative("/workspace", "/workspace") == "/"
    assert relative("/workspace", "/workspace/a/b") == "/a/b"
    with pytest.raises(ValueError):
        relative("/workspace", "/workspace2/a")


@pytest.mark.parametrize("name", ["app", "my-app", "my_app.v2", "A1", "_x", "a" * 64])
def test_good_workdir_names(name):
    assert workdir_for_name(name) == f"/home/{name}"


@pytest.mark.parametrize(
    "name", ["", ".", "..", ".x", "-x", "a/b", "a b", "ü", "a" * 65, 5, None, "a\0"]
)
def test_bad_workdir_names(name):
    with pytest.raises(BadRequest):
        workdir_for_name(name)


def test_names_and_paths_past_linux_limits_are_enametoolong():
    assert resolve("/workspace", "a" * 255, "open") == "/workspace/" + "a" * 255
    for path in ("a" * 256, "é" * 128, "/".join(["d" * 200] * 21)):
        with pytest.raises(FileSystemError) as caught:
            resolve("/workspace", path, "open")
        assert caught.value.code == "ENAMETOOLONG" and caught.value.status == 400
