"""FileSystemTree between Python and the wire (pure).

In Python a file's ``contents`` may be ``str`` or ``bytes``; on the wire, as in
``@webcontainer/api``'s JSON, text travels as is and bytes as
``{"contents": "<base64>", "encoding": "base64"}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping


def tree_to_wire(tree: Mapping) -> dict:
    """A tree whose file contents may be bytes -> the JSON the server takes."""
    if not isinstance(tree, Mapping):
        raise TypeError(f"a FileSystemTree is a dict of names, not {type(tree).__name__}")
    wire: dict = {}
    for name, node in tree.items():
        if not isinstance(node, Mapping):
            raise TypeError(f"{name!r}: a tree node is {{'file': ...}} or {{'directory': ...}}")
        if "directory" in node:
            wire[name] = {"directory": tree_to_wire(node["directory"])}
        elif "file" in node:
            wire[name] = {"file": _file_to_wire(name, node["file"])}
        else:
            raise TypeError(f"{name!r}: a tree node has 'file' or 'directory'")
    return wire


def _file_to_wire(name: str, file: Mapping) -> dict:
    contents = file.get("contents", "")
    if isinstance(contents, (bytes, bytearray, memoryview)):
        return {"contents": base64.b64encode(bytes(contents)).decode("ascii"), "encoding": "base64"}
    if isinstance(contents, str):
        out = {"contents": contents}
        if file.get("encoding"):
            out["encoding"] = file["encoding"]
        return out
    raise TypeError(f"{name!r}: contents must be str or bytes, not {type(contents).__name__}")


def tree_from_wire(wire: Mapping) -> dict:
    """The server's JSON tree -> a tree with text as ``str`` and binary files as ``bytes``."""
    tree: dict = {}
    for name, node in wire.items():
        if "directory" in node:
            tree[name] = {"directory": tree_from_wire(node["directory"])}
        else:
            file = node.get("file") or {}
            contents = file.get("contents", "")
            if file.get("encoding") == "base64":
                contents = base64.b64decode(contents)
            tree[name] = {"file": {"contents": contents}}
    return tree
