"""Checks of request bodies and query values. Pure: each returns the value or raises
BadRequest with a message that names the field."""

from __future__ import annotations

import json
from typing import Any

from .errors import BadRequest

_MISSING = object()


def parse_json_object(raw: bytes) -> dict:
    """A request body as a JSON object; an empty body is ``{}``."""
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"Request body is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise BadRequest(f"Request body must be a JSON object, not {type(value).__name__}")
    return value


def _type_name(expected: type | tuple) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", dict: "an object",
             list: "an array", float: "a number"}
    if isinstance(expected, tuple):
        return " or ".join(names.get(t, t.__name__) for t in expected)
    return names.get(expected, expected.__name__)


def field(body: dict, key: str, expected: type | tuple, *, required: bool = False,
          default: Any = None) -> Any:
    """``body[key]`` checked against ``expected``; null counts as absent."""
    value = body.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise BadRequest(f"'{key}' is required")
        return default
    if isinstance(value, bool) and expected is not bool and (
        not isinstance(expected, tuple) or bool not in expected
    ):
        raise BadRequest(f"'{key}' must be {_type_name(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise BadRequest(f"'{key}' must be {_type_name(expected)}, not {type(value).__name__}")
    return value


def string_map(body: dict, key: str) -> dict[str, str] | None:
    """An object of string values (environment variables)."""
    value = field(body, key, dict)
    if value is None:
        return None
    for name, item in value.items():
        if not isinstance(item, str):
            raise BadRequest(f"'{key}.{name}' must be a string, not {type(item).__name__}")
    return value


def port_number(value: Any, where: str = "port") -> int:
    """A TCP port 1..65535, from an int or a decimal string."""
    if isinstance(value, bool):
        raise BadRequest(f"'{where}' must be a port number from 1 to 65535")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise BadRequest(f"'{where}' must be a port number from 1 to 65535, not {value!r}")
    return value


def port_list(body: dict, key: str) -> list[int]:
    value = field(body, key, list, default=[])
    return [port_number(item, f"{key}[{index}]") for index, item in enumerate(value)]


def flag(value: str | None, name: str, default: bool = False) -> bool:
    """A boolean query argument: true/false/1/0/yes/no/'' (present means true)."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("", "1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise BadRequest(f"'{name}' must be true or false, not {value!r}")

