"""Checks of request bodies and query values. Pure: each returns the value or raises
BadRequest (code EINVAL) with a message that names the field by its path
(``'env.A'``, ``'ports[0]'``).

A request body is checked by ``check_body`` against the JSON Schema the OpenAPI document
publishes for it (``core.schemas``), with ``jsonschema``: the spec is the check. A null
member of a body counts as absent, as it always has.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from . import fstree
from .errors import BadRequest
from .schemas import REQUEST_SCHEMAS

INVALID = "EINVAL"  # the code of every validation error
_TREE = {"$ref": "#/components/schemas/FileSystemTree"}


def check_body(body: dict, schema: str) -> dict:
    """``body`` (a JSON object) checked against the published schema named ``schema``;
    its members that are null left out. BadRequest names the first problem found."""
    body = {key: value for key, value in body.items() if value is not None}
    error = best_match(_validator(schema).iter_errors(body))
    if error is not None:
        raise BadRequest(_message(error, body, REQUEST_SCHEMAS[schema]), code=INVALID)
    return body


@cache
def _validator(name: str) -> jsonschema.Draft4Validator:
    """OpenAPI 3.0 schemas take draft 4's keywords (a boolean exclusiveMinimum); their
    references resolve in a root that holds every published schema."""
    root = dict(REQUEST_SCHEMAS[name], components={"schemas": REQUEST_SCHEMAS})
    return jsonschema.Draft4Validator(root)


def _where(path) -> str:
    """``['env', 'A']`` -> ``env.A``; ``['ports', 0]`` -> ``ports[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: ValidationError, body: dict, schema: dict) -> str:
    path = list(error.absolute_path)
    top = schema.get("properties", {}).get(path[0]) if path else None
    if top == _TREE and len(path) > 1:
        # Inside a FileSystemTree: the tree's own check names the entry (and knows more,
        # such as which names are files' names).
        try:
            for _ in fstree.iter_entries(body[path[0]]):
                pass
        except BadRequest as err:
            return f"'{path[0]}': {err.message}"
    titled = error
    while titled is not None and "title" not in titled.schema:
        titled = titled.parent
    if titled is not None:
        where = _where(titled.absolute_path)
        return f"'{where}' must be {titled.schema['title']}, not {_shown(titled.instance)}"
    where = _where(path)
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        missing = next(name for name in expected if name not in error.instance)
        return f"'{_where([*path, missing])}' is required"
    if keyword == "type":
        names = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_ARTICLES.get(name, name) for name in names)
        return f"'{where}' must be {wanted}, not {_type_of(error.instance)}"
    if keyword == "enum":
        choices = ", ".join(json.dumps(choice) for choice in expected)
        return f"'{where}' must be one of {choices}, not {_shown(error.instance)}"
    if keyword == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"'{where}' takes no member {', '.join(map(repr, extra))}"
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        if error.schema.get(f"exclusive{keyword.title()}"):
            bound = "above" if keyword == "minimum" else "below"
        return f"'{where}' must be {bound} {expected}, not {_shown(error.instance)}"
    return f"'{where}' is not valid: {error.message}" if where else error.message


_ARTICLES = {"string": "a string", "integer": "an integer", "number": "a number",
             "boolean": "a boolean", "object": "an object", "array": "an array"}


def _type_of(value: Any) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", bool: "a boolean",
        int: "an integer", float: "a number", type(None): "null",
    }.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value in a message: scalars as JSON (cut short), containers by their type."""
    if isinstance(value, (dict, list)):
        return _type_of(value)
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_json_object(raw: bytes) -> dict:
    """A request body as a JSON object; an empty body is ``{}``."""
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"Request body is not valid JSON: {err}", code=INVALID) from err
    if not isinstance(value, dict):
        raise BadRequest(f"Request body must be a JSON object, not {type(value).__name__}",
                         code=INVALID)
    return value


def port_number(value: Any, where: str = "port") -> int:
    """A TCP port 1..65535, from an int or a decimal string (a query argument)."""
    if isinstance(value, bool):
        raise BadRequest(f"'{where}' must be a port number from 1 to 65535", code=INVALID)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise BadRequest(f"'{where}' must be a port number from 1 to 65535, not {value!r}",
                         code=INVALID)
    return value


def flag(value: str | None, name: str, default: bool = False) -> bool:
    """A boolean query argument: true/false/1/0/yes/no/'' (present means true)."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("", "1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise BadRequest(f"'{name}' must be true or false, not {value!r}", code=INVALID)
