"""Request-body checks, without a server."""

from __future__ import annotations

import pytest

from jupyter_container_manager.core.errors import BadRequest
from jupyter_container_manager.core.validation import (
    field,
    flag,
    parse_json_object,
    port_list,
    port_number,
    string_map,
)


def test_parse_json_object():
    assert parse_json_object(b"") == {}
    assert parse_json_object(b"  ") == {}
    assert parse_json_object(b'{"a": 1}') == {"a": 1}
    for raw, fragment in [(b"{nope", "not valid JSON"), (b"[]", "not list"), (b"3", "not int"),
                          (b"\xff", "not valid JSON")]:
        with pytest.raises(BadRequest, match=fragment):
            parse_json_object(raw)


def test_field_types_and_null_as_absent():
    body = {"s": "x", "b": True, "n": None, "i": 3}
    assert field(body, "s", str) == "x"
    assert field(body, "n", str, default="d") == "d"
    assert field(body, "missing", str) is None
    with pytest.raises(BadRequest, match="'missing' is required"):
        field(body, "missing", str, required=True)
    with pytest.raises(BadRequest, match="'b' must be an integer, not a boolean"):
        field(body, "b", int)
    with pytest.raises(BadRequest, match="'i' must be a string, not int"):
        field(body, "i", str)
    assert field(body, "b", bool) is True


def test_string_map():
    assert string_map({"env": {"A": "1"}}, "env") == {"A": "1"}
    assert string_map({}, "env") is None
    with pytest.raises(BadRequest, match="'env.A' must be a string"):
        string_map({"env": {"A": 1}}, "env")


@pytest.mark.parametrize("value, port", [(1, 1), (65535, 65535), ("3000", 3000)])
def test_ports_accepted(value, port):
    assert port_number(value) == port


@pytest.mark.parametrize("value", [0, 65536, -1, "0", "abc", "3e3", "٣", True, None, 3.0, "65536"])
def test_ports_refused(value):
    with pytest.raises(BadRequest, match="port number"):
        port_number(value)


def test_port_list_names_the_item():
    assert port_list({"ports": [80, "81"]}, "ports") == [80, 81]
    with pytest.raises(BadRequest, match=r"ports\[1\]"):
        port_list({"ports": [80, 0]}, "ports")


def test_flag():
    assert flag(None, "x") is False
    assert flag(None, "x", default=True) is True
    assert flag("", "x") is True and flag("TRUE", "x") is True and flag("1", "x") is True
    assert flag("false", "x") is False and flag("0", "x") is False
    with pytest.raises(BadRequest, match="'x' must be true or false"):
        flag("maybe", "x")
