"""FileSystemTree (WebContainer's format) <-> tar archives and back. Pure.

A tree is ``{"name": {"file": {"contents": "text"}} | {"directory": {...}}}``; binary
contents travel as ``{"file": {"contents": "<base64>", "encoding": "base64"}}``.
"""

from __future__ import annotations

import base64
import binascii
import io
import tarfile
import time
from collections.abc import Iterator

from .errors import BadRequest

Tree = dict


def _bad(path: str, why: str) -> BadRequest:
    return BadRequest(f"Invalid FileSystemTree at {path or '/'!r}: {why}", code="EINVAL")


def check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise _bad(where, f"{name!r} is not a file name")
    return name


def iter_entries(tree: Tree, prefix: str = "") -> Iterator[tuple[str, bytes | None]]:
    """Walk a tree depth-first: ``(relative path, bytes)`` for files and
    ``(relative path, None)`` for directories (parents before children).
    Raises BadRequest (code EINVAL) for anything that is not a valid tree."""
    if not isinstance(tree, dict):
        raise _bad(prefix, "a tree must be a JSON object")
    for name, node in tree.items():
        check_name(name, prefix)
        path = f"{prefix}/{name}" if prefix else name
        if not isinstance(node, dict) or len(node) != 1 or not ({"file", "directory"} >= set(node)):
            raise _bad(path, 'each entry must be {"file": {...}} or {"directory": {...}}')
        if "directory" in node:
            yield path, None
            yield from iter_entries(node["directory"], path)
            continue
        yield path, file_bytes(node["file"], path)


def file_bytes(file_node: object, path: str = "") -> bytes:
    """The bytes of a ``{"contents", "encoding"?}`` file node."""
    if not isinstance(file_node, dict) or "contents" not in file_node:
        raise _bad(path, 'a file needs "contents"')
    contents = file_node["contents"]
    encoding = file_node.get("encoding", "utf-8")
    if isinstance(contents, list) and all(isinstance(b, int) and 0 <= b < 256 for b in contents):
        return bytes(contents)  # Uint8Array serialised by JSON.stringify(Array.from(...))
    if not isinstance(contents, str):
        raise _bad(path, "contents must be a string")
    if encoding in ("utf-8", "utf8", None):
        return contents.encode("utf-8", errors="surrogatepass")
    if encoding == "base64":
        try:
            return base64.b64decode(contents, validate=True)
        except (binascii.Error, ValueError) as err:
            raise _bad(path, f"contents are not valid base64 ({err})") from err
    raise _bad(path, f"unknown encoding {encoding!r} (use 'utf-8' or 'base64')")


def tree_to_tar(tree: Tree, prefix: str = "") -> bytes:
    """A tar archive (bytes) of a tree, every entry under ``prefix`` (relative, no
    leading slash). The prefix's own directories are included so the archive can be
    extracted at an existing parent."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = [p for p in prefix.strip("/").split("/") if p]
        for depth in range(1, len(parts) + 1):
            tar.addfile(_dir_info("/".join(parts[:depth]), now))
        base = "/".join(parts)
        for path, data in iter_entries(tree):
            full = f"{base}/{path}" if base else path
            if data is None:
                tar.addfile(_dir_info(full, now))
            else:
                info = tarfile.TarInfo(full)
                info.size = len(data)
                info.mode = 0o644
                info.mtime = now
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _dir_info(path: str, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = mtime
    return info


def encode_contents(data: bytes) -> dict:
    """A file node for bytes: text when they are UTF-8, else base64."""
    try:
        return {"contents": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"contents": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def tar_to_tree(archive: io.BufferedIOBase | bytes, strip: int = 1) -> Tree:
    """The tree of a tar archive (as ``get_archive`` gives it: one top folder, stripped by
    ``strip`` leading components). Symlinks and special files are left out."""
    fileobj = io.BytesIO(archive) if isinstance(archive, bytes | bytearray) else archive
    tree: Tree = {}
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for member in tar:
            parts = [p for p in member.name.split("/") if p not in ("", ".")]
            parts = parts[strip:]
            if not parts:
                continue
            node = tree
            for part in parts[:-1]:
                node = node.setdefault(part, {"directory": {}})["directory"]
            if member.isdir():
                node.setdefault(parts[-1], {"directory": {}})
            elif member.isfile():
                extracted = tar.extractfile(member)
                data = extracted.read() if extracted else b""
                node[parts[-1]] = {"file": encode_contents(data)}
    return tree
