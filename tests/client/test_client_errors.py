"""Typed errors from a real server: what the server says (ENOENT, ENOTDIR, EISDIR,
ENOCONTAINER) arrives as the ContainerError subclass of its code, whichever way (REST or
the WebSocket) the call went."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client import (
    ContainerError,
    ContainerNotFound,
    FileNotFound,
    IsADirectory,
    NotADirectory,
)


def test_errors_are_typed(containers):
    wc = containers.boot(files={"a.txt": {"file": {"contents": "A"}},
                                "d": {"directory": {"x": {"file": {"contents": "x"}}}}})
    try:
        with pytest.raises(FileNotFound) as missing:
            wc.fs.read_file("missing.txt")
        assert missing.value.code == "ENOENT" and isinstance(missing.value, ContainerError)
        with pytest.raises(NotADirectory):
            wc.fs.readdir("a.txt")
        with pytest.raises(IsADirectory):  # Node: rm of a directory needs recursive
            wc.fs.rm("d")
        with pytest.raises(ContainerNotFound):
            containers.get("no-such-container")
    finally:
        wc.teardown()
