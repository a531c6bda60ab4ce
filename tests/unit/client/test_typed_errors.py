"""The client's typed errors: each server code has its ContainerError subclass."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client import (
    ContainerError,
    ContainerNotRunning,
    FileNotFound,
    NotADirectory,
    PermissionDenied,
)
from jupyter_container_manager.client.errors import error_for
from jupyter_container_manager.client.transport import Answer, error_from_answer


@pytest.mark.parametrize("code, kind", [
    ("ENOENT", FileNotFound), ("ENOTDIR", NotADirectory), ("EACCES", PermissionDenied),
    ("EPERM", PermissionDenied), ("ENOTRUNNING", ContainerNotRunning),
    ("ESOMETHINGELSE", ContainerError), (None, ContainerError),
])
def test_codes_pick_their_class(code, kind):
    error = error_for("boom", status=404, code=code)
    assert type(error) is kind and isinstance(error, ContainerError)
    assert (error.message, error.status, error.code) == ("boom", 404, code)


def test_an_http_answer_becomes_its_typed_error():
    answer = Answer(404, {}, b'{"message": "ENOENT: no such file or directory, open \'/w/x\'",'
                             b' "code": "ENOENT", "reason": "Not Found"}')
    error = error_from_answer("GET", "webcontainer/x/fs/readFile/x", answer, "http://s")
    assert isinstance(error, FileNotFound) and error.reason == "Not Found"
    with pytest.raises(FileNotFound):
        raise error
    assert repr(error).startswith("FileNotFound(")
