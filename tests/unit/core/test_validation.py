"""Request-body checks, without a server."""

from __future__ import annotations

import pytest

from jupyter_container_manager.core.errors import BadRequest
from jupyter_container_manager.core.schemas import REQUEST_SCHEMAS
from jupyter_container_manager.core.validation import (
    check_body,
    flag,
    parse_json_object,
    port_number,
)
from jupyter_container_manager.rest.openapi import build_spec


def test_parse_json_object():
    assert parse_json_object(b"") == {}
    assert parse_json_object(b"  ") == {}
    assert parse_json_object(b'{"a": 1}') == {"a": 1}
    for raw, fragment in [(b"{nope", "not valid JSON"), (b"[]", "not list"), (b"3", "not int"),
                          (b"\xff", "not valid JSON")]:
        with pytest.raises(BadRequest, match=fragment):
            parse_json_object(raw)


def test_bodies_are_checked_against_the_schemas_the_spec_publishes():
    published = build_spec()["components"]["schemas"]
    for name, schema in REQUEST_SCHEMAS.items():
        assert published[name] is schema, name


def test_null_members_count_as_absent():
    assert check_body({"name": None, "image": "x"}, "CreateContainer") == {"image": "x"}
    assert check_body({}, "CreateContainer") == {}
    assert check_body({"path": "a", "recursive": None}, "MkdirRequest") == {"path": "a"}


@pytest.mark.parametrize("schema, body, message", [
    ("CreateContainer", {"name": 5}, "'name' must be a string, not an integer"),
    ("CreateContainer", {"name": True}, "'name' must be a string, not a boolean"),
    ("CreateContainer", {"env": ["A=1"]}, "'env' must be an object, not an array"),
    ("CreateContainer", {"env": {"A": 1}}, "'env.A' must be a string, not an integer"),
    ("CreateContainer", {"ports": "3000"}, "'ports' must be an array, not a string"),
    ("CreateContainer", {"ports": [80, 0]},
     "'ports[1]' must be a port number from 1 to 65535, not 0"),
    ("CreateContainer", {"ports": [True]}, "'ports[0]' must be a port number"),
    ("CreateContainer", {"files": []}, "'files' must be an object, not an array"),
    ("CreateContainer", {"files": {"a": {"file": {"contents": 5}}}},
     "'files': Invalid FileSystemTree at 'a': contents must be a string"),
    ("CreateContainer", {"files": {"a": {"nope": {}}}}, "'files': Invalid FileSystemTree at "
     """'a': each entry must be {"file": {...}} or {"directory": {...}}"""),
    ("CreateContainer", {"files": {"d": {"directory": {"b": {"file": {}}}}}},
     "'files': Invalid FileSystemTree at 'd/b': a file needs \"contents\""),
    ("MountRequest", {}, "'tree' is required"),
    ("MountRequest", {"tree": {}, "mountPoint": 3}, "'mountPoint' must be a string"),
    ("WriteFileRequest", {"path": "a"}, "'contents' is required"),
    ("WriteFileRequest", {"path": "a", "contents": 5},
     "'contents' must be a string (or an array of bytes), not 5"),
    ("WriteFileRequest", {"path": "a", "contents": [1, 256]},
     "'contents' must be a string (or an array of bytes), not an array"),
    ("WriteFileRequest", {"path": "a", "contents": "", "encoding": "latin1"},
     "'encoding' must be one of \"utf-8\", \"utf8\", \"base64\", not \"latin1\""),
    ("MkdirRequest", {"path": "a", "recursive": "yes"}, "'recursive' must be a boolean"),
    ("RenameRequest", {"oldPath": "a"}, "'newPath' is required"),
    ("SpawnRequest", {}, "'command' is required"),
    ("SpawnRequest", {"command": "ls", "args": ["-l", 2]},
     "'args[1]' must be a string, not an integer"),
    ("SpawnRequest", {"command": "ls", "timeout": 0}, "'timeout' must be a number of seconds "
     "above 0, at most 604800, not 0"),
    ("SpawnRequest", {"command": "ls", "timeout": 10**9}, "'timeout' must be a number of"),
    ("BootRequest", {"workdirName": "../x"}, "'workdirName' must be a folder name"),
])
def test_bad_bodies_name_the_field_by_its_path(schema, body, message):
    with pytest.raises(BadRequest) as caught:
        check_body(body, schema)
    assert caught.value.message == message or caught.value.message.startswith(message), (
        caught.value.message)
    assert caught.value.code == "EINVAL" and caught.value.status == 400


@pytest.mark.parametrize("schema, body", [
    ("CreateContainer", {"name": "a", "image": "i", "env": {"A": "1"}, "ports": [1, 65535],
                         "files": {"a": {"file": {"contents": "x"}},
                                   "d": {"directory": {"b": {"file": {"contents": [0, 255],
                                                                      "encoding": "utf8"}}}}}}),
    ("WriteFileRequest", {"path": "a", "contents": [0, 255]}),
    ("WriteFileRequest", {"path": "a", "contents": "eA==", "encoding": "base64"}),
    ("SpawnRequest", {"command": "ls", "args": [], "env": {}, "timeout": 0.5, "stream": True,
                      "extra": "ignored"}),
    ("BootRequest", {"workdirName": "app_1.x"}),
])
def test_good_bodies_pass(schema, body):
    assert check_body(body, schema) == body


@pytest.mark.parametrize("value, port", [(1, 1), (65535, 65535), ("3000", 3000)])
def test_ports_accepted(value, port):
    assert port_number(value) == port


@pytest.mark.parametrize("value", [0, 65536, -1, "0", "abc", "3e3", "٣", True, None, 3.0, "65536"])
def test_ports_refused(value):
    with pytest.raises(BadRequest, match="port number"):
        port_number(value)


def test_flag():
    assert flag(None, "x") is False
    assert flag(None, "x", default=True) is True
    assert flag("", "x") is True and flag("TRUE", "x") is True and flag("1", "x") is True
    assert flag("false", "x") is False and flag("0", "x") is False
    with pytest.raises(BadRequest, match="'x' must be true or false"):
        flag("maybe", "x")
