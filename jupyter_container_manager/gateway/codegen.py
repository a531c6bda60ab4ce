"""The clients' event names and payload types, generated from the protocol table.

``protocol.py`` is the one source of the ``/container`` protocol. This module writes it
out as a TypeScript module inside the browser WebContainer client (which imports nothing
outside its folder; the rest of the lab extension imports from it) and as a Python module
of the Python client (which speaks the protocol like any outside client and so imports
nothing of the gateway). Both files are committed; a unit test fails when they are stale.

    python -m jupyter_container_manager.gateway.codegen          # write both files
    python -m jupyter_container_manager.gateway.codegen --check  # exit 1 when stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import protocol
from .protocol import (
    ANY,
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    STRING_LIST,
    STRING_MAP,
    ClientEvent,
    Field,
)

COMMAND = "python -m jupyter_container_manager.gateway.codegen"
ROOT = Path(__file__).resolve().parents[2]
TS_TARGET = "labextension/src/webcontainer/protocol.generated.ts"
PY_TARGET = "jupyter_container_manager/client/protocol_generated.py"


def _pascal(name: str) -> str:
    """``join-container`` -> ``JoinContainer``; ``readFile`` -> ``ReadFile``."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))


def _constant(name: str) -> str:
    """``join-container`` -> ``JOIN_CONTAINER``."""
    return name.replace("-", "_").upper()


def _client_fields(event: ClientEvent, variant: str | None) -> tuple[Field, ...]:
    """An event's fields; for one variant, the variant key narrowed to that choice."""
    if variant is None:
        return event.fields
    own = tuple(
        Field(f.name, f.type, True, f.doc, choices=(variant,)) if f.name == event.variant_key
        else f
        for f in event.fields
    )
    return own + event.variants[variant]


# --- TypeScript --------------------------------------------------------------------------


def _ts_string(value: object) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ts_type(member: Field, indent: str) -> str:
    if member.choices:
        shown = " | ".join(_ts_string(c) if isinstance(c, str) else str(c)
                           for c in member.choices)
    elif member.type == OBJECT and member.fields:
        shown = "{\n" + _ts_members(member.fields, indent + "  ") + indent + "}"
    else:
        shown = {
            STRING: "string", INTEGER: "number", NUMBER: "number", BOOLEAN: "boolean",
            OBJECT: "Record<string, unknown>", STRING_LIST: "string[]",
            STRING_MAP: "Record<string, string>", ANY: "unknown",
        }[member.type]
    return shown + (" | null" if member.nullable else "")


def _ts_doc(text: str, indent: str) -> str:
    return f"{indent}/** {text.replace('*/', '* /')} */\n" if text else ""


def _ts_members(fields: tuple[Field, ...], indent: str) -> str:
    lines = []
    for member in fields:
        doc = member.doc
        limits = [f"at least {member.minimum}"] if member.minimum is not None else []
        limits += [f"at most {member.maximum}"] if member.maximum is not None else []
        if limits:
            doc = f"{doc} ({', '.join(limits)})" if doc else ", ".join(limits)
        optional = "" if member.required else "?"
        lines.append(_ts_doc(doc, indent)
                     + f"{indent}{member.name}{optional}: {_ts_type(member, indent)};\n")
    return "".join(lines)


def _ts_interface(name: str, doc: str, fields: tuple[Field, ...]) -> str:
    body = _ts_members(fields, "  ") if fields else "  [key: string]: never;\n"
    return _ts_doc(doc, "") + f"export interface {name} {{\n{body}}}\n"


def _binary_doc() -> list[str]:
    return [f"{name} ({size}): {doc}" for name, size, doc in protocol.BINARY_LAYOUT]


def _ts_binary() -> str:
    layout = "".join(f" *   {line}\n" for line in _binary_doc())
    return (
        "/**\n"
        f" * From version {protocol.BINARY_VERSION} on, these pushes are binary frames: a header,\n"
        " * then the output's bytes (decode each pid's or terminal's frames with one\n"
        " * streaming UTF-8 decoder). Integers are unsigned big-endian.\n"
        f"{layout}"
        " */\n"
        f"export const BINARY_VERSION = {protocol.BINARY_VERSION};\n"
        "/** The first byte of a binary frame: which push it is. */\n"
        "export const BinaryKind = {\n"
        + "".join(f"  {_pascal(name)}: {kind},\n" for name, kind in protocol.BINARY_KINDS.items())
        + "} as const;\n"
        "/** The bits of a binary frame's second byte. */\n"
        "export const BinaryFlag = {\n"
        f"  Stderr: {protocol.FLAG_STDERR},\n"
        f"  Replay: {protocol.FLAG_REPLAY},\n"
        f"  Dropped: {protocol.FLAG_DROPPED},\n"
        "} as const;\n"
    )


def typescript() -> str:
    """``protocol.generated.ts``: names, payload interfaces, event maps, the version."""
    out = [
        "/**\n"
        " * The `/container` protocol: event names and payload types.\n"
        " *\n"
        f" * Generated from jupyter_container_manager/gateway/protocol.py by\n"
        f" * `{COMMAND}`; do not edit (a test fails when\n"
        " * it is stale). Part of the browser WebContainer client: imports nothing.\n"
        " */\n"
        "/* eslint-disable */\n",
        "/** The protocol version this client speaks. */\n"
        f"export const PROTOCOL_VERSION = {protocol.PROTOCOL_VERSION};\n",
        "/** The WebSocket subprotocol that names it. */\n"
        f"export const SUBPROTOCOL = {_ts_string(protocol.SUBPROTOCOL)};\n",
        "/**\n * The subprotocols a client offers on every connect, highest version first\n"
        " * (the server picks the highest it speaks; none: version 1).\n */\n"
        "export const SUBPROTOCOLS: readonly string[] = [\n"
        + "".join(f"  {_ts_string(s)},\n" for s in protocol.SUBPROTOCOLS) + "];\n",
        _ts_binary(),
        "/** Events a client sends. */\nexport const ClientEvent = {\n"
        + "".join(f"  {_pascal(name)}: {_ts_string(name)},\n" for name in protocol.CLIENT_EVENTS)
        + "} as const;\n",
        "/** Events the server sends: replies and pushes. */\nexport const ServerEvent = {\n"
        + "".join(f"  {_pascal(name)}: {_ts_string(name)},\n" for name in protocol.SERVER_EVENTS)
        + "} as const;\n",
    ]
    client_map, server_map = [], []
    for event in protocol.CLIENT_EVENTS.values():
        base = _pascal(event.name)
        if event.variant_key is None:
            name = f"I{base}Data"
            out.append(_ts_interface(name, f"`{event.name}`: {event.doc}", event.fields))
        else:
            names = []
            for variant in event.variants:
                variant_name = f"I{base}{_pascal(variant)}Data"
                names.append(variant_name)
                out.append(_ts_interface(
                    variant_name, f"`{event.name}` with {event.variant_key} `{variant}`.",
                    _client_fields(event, variant)))
            name = f"{base}Data"
            out.append(_ts_doc(f"`{event.name}`: {event.doc}", "")
                       + f"export type {name} =\n"
                       + "".join(f"  | {n}\n" for n in names)[:-1] + ";\n")
        client_map.append(f"  {_ts_string(event.name)}: {name};\n")
    for event in protocol.SERVER_EVENTS.values():
        name = f"I{_pascal(event.name)}Data"
        kind = "push" if event.push else "reply"
        out.append(_ts_interface(name, f"`{event.name}` ({kind}): {event.doc}", event.fields))
        server_map.append(f"  {_ts_string(event.name)}: {name};\n")
    out += [
        "/** The data of each client event. */\n"
        "export interface IClientEventData {\n" + "".join(client_map) + "}\n",
        "/** The data of each server event. */\n"
        "export interface IServerEventData {\n" + "".join(server_map) + "}\n",
        "export type ClientEventName = keyof IClientEventData;\n",
        "export type ServerEventName = keyof IServerEventData;\n",
        "/** The event that answers each client event (`ok` where none is named). */\n"
        "export const REPLY_EVENT = {\n"
        + "".join(f"  {_ts_string(e)}: {_ts_string(protocol.reply_event(e))},\n"
                  for e in protocol.CLIENT_EVENTS)
        + "} as const;\n",
        "/** The events the server pushes (frames without an id). */\n"
        "export const PUSH_EVENTS: readonly ServerEventName[] = [\n"
        + "".join(f"  {_ts_string(e.name)},\n" for e in protocol.SERVER_EVENTS.values()
                  if e.push)
        + "];\n",
        "/** The data of the reply to a client event. */\n"
        "export type ReplyData<E extends ClientEventName> =\n"
        "  IServerEventData[(typeof REPLY_EVENT)[E]];\n",
    ]
    return "\n".join(out)


# --- Python ------------------------------------------------------------------------------


def _py_type(member: Field, owner: str, nested: list[str]) -> str:
    if member.choices:
        shown = "Literal[" + ", ".join(json.dumps(c) for c in member.choices) + "]"
        if len(shown) > 80:
            shown = ("Literal[\n" + "".join(f"        {json.dumps(c)},\n" for c in member.choices)
                     + "    ]")
    elif member.type == OBJECT and member.fields:
        shown = owner.removesuffix("Data") + _pascal(member.name)
        nested.append(_py_typed_dict(shown, "", member.fields, nested))
    else:
        shown = {
            STRING: "str", INTEGER: "int", NUMBER: "float", BOOLEAN: "bool",
            OBJECT: "dict[str, Any]",
            STRING_LIST: "list[str]", STRING_MAP: "dict[str, str]", ANY: "Any",
        }[member.type]
    return shown + (" | None" if member.nullable else "")


def _py_members(fields, owner: str, nested: list[str]) -> str:
    lines = []
    for member in fields:
        comment = f"  # {member.doc}" if member.doc else ""
        line = f"    {member.name}: {_py_type(member, owner, nested)}"
        if len(line.split("\n")[0] + comment) > 100:
            comment = ""
        elif "\n" in line:
            first, rest = line.split("\n", 1)
            line = f"{first}{comment}\n{rest}"
            comment = ""
        lines.append(line + comment + "\n")
    return "".join(lines)


def _py_typed_dict(name: str, doc: str, fields: tuple[Field, ...], nested: list[str]) -> str:
    docstring = f'    """{doc}"""\n' if doc else ""
    required = tuple(f for f in fields if f.required)
    optional = tuple(f for f in fields if not f.required)
    if not fields:
        return f"class {name}(TypedDict):\n{docstring or '    pass' + chr(10)}"
    if not optional:
        return f"class {name}(TypedDict):\n{docstring}{_py_members(required, name, nested)}"
    if not required:
        return (f"class {name}(TypedDict, total=False):\n{docstring}"
                f"{_py_members(optional, name, nested)}")
    return (f"class _{name}Required(TypedDict):\n{_py_members(required, name, nested)}\n\n"
            f"class {name}(_{name}Required, total=False):\n{docstring}"
            f"{_py_members(optional, name, nested)}")


def _py_doc(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 88 else text[:85].rsplit(" ", 1)[0] + "..."


def python() -> str:
    """``protocol_generated.py``: names, payload TypedDicts, event maps, the version."""
    out = [
        '"""The ``/container`` protocol: event names and payload types.\n\n'
        "Generated from jupyter_container_manager/gateway/protocol.py by\n"
        f"``{COMMAND}``; do not edit (a test fails when it\n"
        'is stale). The Python client speaks the protocol like any outside client."""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Any, Literal, TypedDict, Union\n\n"
        f"PROTOCOL_VERSION = {protocol.PROTOCOL_VERSION}\n"
        f"SUBPROTOCOL = {json.dumps(protocol.SUBPROTOCOL)}\n"
        "# Offered on every connect, highest version first (none: version 1).\n"
        "SUBPROTOCOLS = (\n"
        + "".join(f"    {json.dumps(s)},\n" for s in protocol.SUBPROTOCOLS) + ")\n\n"
        f"# From version {protocol.BINARY_VERSION} on, these pushes are binary frames: a header, then\n"
        "# the output's bytes. Integers are unsigned big-endian.\n"
        + "".join(f"#   {line}\n" for line in _binary_doc())
        + f"BINARY_VERSION = {protocol.BINARY_VERSION}\n"
        + "".join(f"BINARY_{_constant(name)} = {kind}\n"
                  for name, kind in protocol.BINARY_KINDS.items())
        + f"FLAG_STDERR = {protocol.FLAG_STDERR:#04x}\n"
        f"FLAG_REPLAY = {protocol.FLAG_REPLAY:#04x}\n"
        f"FLAG_DROPPED = {protocol.FLAG_DROPPED:#04x}\n\n"
        "# Events a client sends.\n"
        + "".join(f"{_constant(n)} = {json.dumps(n)}\n" for n in protocol.CLIENT_EVENTS)
        + "\n# Events the server sends: replies and pushes.\n"
        + "".join(f"{_constant(n)} = {json.dumps(n)}\n" for n in protocol.SERVER_EVENTS)
        + "\nCLIENT_EVENTS = (\n"
        + "".join(f"    {_constant(n)},\n" for n in protocol.CLIENT_EVENTS)
        + ")\nSERVER_EVENTS = (\n"
        + "".join(f"    {_constant(n)},\n" for n in protocol.SERVER_EVENTS)
        + ")\n# The events the server pushes (frames without an id).\nPUSH_EVENTS = (\n"
        + "".join(f"    {_constant(e.name)},\n" for e in protocol.SERVER_EVENTS.values()
                  if e.push)
        + ")\n# The event that answers each client event (``ok`` where none is named).\n"
        "REPLY_EVENTS = {\n"
        + "".join(f"    {_constant(e)}: {_constant(protocol.reply_event(e))},\n"
                  for e in protocol.CLIENT_EVENTS)
        + "}\n"
    ]
    classes: list[str] = []
    for event in protocol.CLIENT_EVENTS.values():
        base = _pascal(event.name)
        if event.variant_key is None:
            nested: list[str] = []
            body = _py_typed_dict(f"{base}Data", _py_doc(f"{event.name}: {event.doc}"),
                                  event.fields, nested)
            classes += nested + [body]
            continue
        names = []
        for variant in event.variants:
            nested = []
            name = f"{base}{_pascal(variant)}Data"
            names.append(name)
            body = _py_typed_dict(name, f"{event.name} with {event.variant_key} {variant}.",
                                  _client_fields(event, variant), nested)
            classes += nested + [body]
        classes.append(f"{base}Data = Union[\n" + "".join(f"    {n},\n" for n in names) + "]")
    for event in protocol.SERVER_EVENTS.values():
        nested = []
        kind = "push" if event.push else "reply"
        body = _py_typed_dict(f"{_pascal(event.name)}Data",
                              _py_doc(f"{event.name} ({kind}): {event.doc}"), event.fields,
                              nested)
        classes += nested + [body]
    return "\n\n".join([out[0].rstrip("\n") + "\n", *[c.rstrip("\n") + "\n" for c in classes]])


# --- files -------------------------------------------------------------------------------

GENERATORS = {TS_TARGET: typescript, PY_TARGET: python}


def stale(root: Path = ROOT) -> list[str]:
    """The generated files that differ from what the table gives now."""
    found = []
    for target, generate in GENERATORS.items():
        path = root / target
        if not path.exists() or path.read_text(encoding="utf-8") != generate():
            found.append(target)
    return found


def write(root: Path = ROOT) -> list[str]:
    """Write the generated files; the ones that changed."""
    changed = stale(root)
    for target in changed:
        (root / target).write_text(GENERATORS[target](), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for target in outdated:
            print(f"{target} is stale; run `{COMMAND}`", file=sys.stderr)
        return 1 if outdated else 0
    for target in write():
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
