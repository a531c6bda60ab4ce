"""FileSystemTree (WebContainer's format) <-> tar archives and back, and tar -> zip as a
stream. Pure.

A tree is ``{"name": {"file": {"contents": "text"}} | {"directory": {...}}}``; binary
contents travel as ``{"file": {"contents": "<base64>", "encoding": "base64"}}``.
"""

from __future__ import annotations

import base64
import binascii
import io
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator

from .errors import BadRequest, FileSystemError, TooLarge
from .paths import is_temporary

Tree = dict


def _bad(path: str, why: str) -> BadRequest:
    return BadRequest(f"Invalid FileSystemTree at {path or '/'!r}: {why}", code="EINVAL")


def check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise _bad(where, f"{name!r} is not a file name")
    if is_temporary(name):
        raise _bad(where, f"{name!r} is a reserved name")
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


def tree_to_tar(tree: Tree, prefix: str = "", owner: tuple[int, int] | None = None) -> bytes:
    """A tar archive (bytes) of a tree, every entry under ``prefix`` (relative, no
    leading slash). The prefix's own directories are included so the archive can be
    extracted at an existing parent. Entries belong to ``owner`` (uid, gid), else root."""
    return entries_to_tar(((path, data, None) for path, data in iter_entries(tree)),
                          prefix, owner)


Entry = tuple[str, "bytes | None", "int | None"]  # (relative path, bytes or None: folder, mode)


def entries_to_tar(entries, prefix: str = "", owner: tuple[int, int] | None = None) -> bytes:
    """A tar archive of ``(relative path, bytes | None, mode | None)`` entries (None bytes:
    a folder), under ``prefix``. A folder that an entry needs and that no entry names is
    added before it, so every folder belongs to ``owner`` (uid, gid; else root), as the
    prefix's own folders do."""
    buffer = io.BytesIO()
    now = time.time()
    uid, gid = owner or (0, 0)
    made: set[str] = set()

    def folder(path: str) -> None:
        if path not in made:
            made.add(path)
            tar.addfile(_entry(path, now, uid, gid))

    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = [p for p in prefix.strip("/").split("/") if p]
        for depth in range(1, len(parts) + 1):
            folder("/".join(parts[:depth]))
        base = "/".join(parts)
        for path, data, mode in entries:
            full = f"{base}/{path}" if base else path
            names = full.split("/")
            for depth in range(max(1, len(parts) + 1), len(names)):
                folder("/".join(names[:depth]))
            if data is None:
                folder(full)
            else:
                info = _entry(full, now, uid, gid, size=len(data), mode=mode)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _entry(
    path: str, mtime: float, uid: int, gid: int, size: int | None = None, mode: int | None = None
) -> tarfile.TarInfo:
    """A folder entry, or a file entry of ``size`` bytes (``mode``: 0o644 by default)."""
    info = tarfile.TarInfo(path)
    if size is None:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.size = size
        info.mode = 0o644 if mode is None else mode
    info.mtime = mtime
    info.uid, info.gid = uid, gid
    return info


ZIP_ENTRY_COST = 512  # bytes an entry counts for beyond its contents (a tar header)


def zip_entries(data: bytes, limit: int) -> list[Entry]:
    """The entries of a zip archive (``export?format=zip`` gives one) as
    ``(relative path, bytes | None, mode)``: folders, and files with their bytes and an
    executable mode when the zip says so. Symlinks and special files are left out, as the
    export leaves them out. BadRequest (EINVAL) for anything that is not a zip or names a
    path outside its root; TooLarge when the contents, each entry counted with
    ZIP_ENTRY_COST more bytes, pass ``limit``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise BadRequest(f"The body is not a zip archive ({err})", code="EINVAL") from err
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size + ZIP_ENTRY_COST for info in infos)
        if total > limit:
            raise TooLarge(f"The archive unpacks to more than {limit} bytes "
                           "(c.ContainerManager.max_json_body)")
        entries: list[Entry] = []
        for info in infos:
            unix_mode = info.external_attr >> 16
            kind = stat.S_IFMT(unix_mode)
            is_dir = info.is_dir() or kind == stat.S_IFDIR
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                continue  # a symlink, a device...
            path = _zip_path(info.filename)
            if path is None:
                continue  # the root folder itself ("./")
            if is_dir:
                entries.append((path, None, None))
                continue
            try:
                contents = archive.read(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError,
                    EOFError, zlib.error) as err:
                raise BadRequest(f"{info.filename!r} cannot be read from the zip ({err})",
                                 code="EINVAL") from err
            mode = 0o755 if unix_mode & 0o111 else 0o644
            entries.append((path, contents, mode))
    return entries


def _zip_path(name: str) -> str | None:
    """A zip member name as a relative path; None for the root; EACCES when it leaves
    the root (``..``, an absolute name) or holds a NUL."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or "\0" in name:
        raise FileSystemError("EACCES", "mount", name)
    if any(is_temporary(part) for part in parts):
        raise FileSystemError("EACCES", "mount", name)  # a reserved name
    return "/".join(parts) or None


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
            if not parts or (member.isfile() and is_temporary(parts[-1])):
                continue  # an upload in progress is not part of the folder yet
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


# --- tar stream -> zip stream, piece by piece -------------------------------------------

_BLOCK = 512


class _ZipSink:
    """Where zipfile writes: bytes wait here until the caller takes them (no seek)."""

    def __init__(self):
        self.buffer = bytearray()

    def write(self, data) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _zip_name(name: str) -> str:
    """A tar member name as a zip name: relative, no ``./``, valid UTF-8."""
    raw = name.encode("utf-8", errors="surrogateescape")
    parts = [p for p in raw.decode("utf-8", errors="replace").split("/") if p not in ("", ".")]
    return "/".join(parts)


def _pax_path(data: bytes) -> str | None:
    """The ``path`` record of a pax extended header (``"<len> path=<value>\\n"`` records)."""
    found = None
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        if key == b"path":
            found = value.decode("utf-8", errors="surrogateescape")
        pos += length
    return found


class TarToZip:
    """Turn a tar stream into a zip stream as it comes: ``feed(bytes) -> zip bytes``, then
    ``close() -> the last zip bytes``. Memory stays at one tar block plus one chunk.

    Regular files and folders are kept (names relative, ``./`` dropped); symlinks, hard
    links and special files are left out, as in :func:`tar_to_tree`. GNU long names and
    pax ``path`` records are understood.
    """

    def __init__(self, compresslevel: int = 1):
        self._sink = _ZipSink()
        self._zip = zipfile.ZipFile(
            self._sink, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._pending = bytearray()
        self._remaining = 0  # data bytes left in the current member
        self._padding = 0  # zero bytes after them, up to the block boundary
        self._target = None  # "file" (zip writer open), "meta" (long name / pax) or None (skip)
        self._writer = None
        self._meta = bytearray()
        self._meta_kind = b""
        self._next_name: str | None = None
        self._finished = False

    def feed(self, data: bytes) -> bytes:
        self._pending += data
        while not self._finished:
            if self._remaining:
                if not self._pending:
                    break
                piece = bytes(self._pending[: self._remaining])
                del self._pending[: len(piece)]
                self._remaining -= len(piece)
                if self._target == "file":
                    self._writer.write(piece)
                elif self._target == "meta":
                    self._meta += piece
                if not self._remaining:
                    self._end_member()
                continue
            if self._padding:
                dropped = min(self._padding, len(self._pending))
                del self._pending[:dropped]
                self._padding -= dropped
                if self._padding:
                    break
                continue
            if len(self._pending) < _BLOCK:
                break
            block = bytes(self._pending[:_BLOCK])
            del self._pending[:_BLOCK]
            self._start_member(block)
        return self._sink.take()

    def close(self) -> bytes:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._zip.close()
        return self._sink.take()

    def _start_member(self, block: bytes) -> None:
        if block.count(0) == _BLOCK:
            self._finished = True  # end-of-archive marker
            return
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as err:
            raise ValueError(f"broken tar stream ({err})") from err
        size = (
            info.size if info.type not in (tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE) else 0
        )
        self._remaining = size
        self._padding = (-size) % _BLOCK
        name = self._next_name if self._next_name is not None else info.name
        if info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE):
            self._target, self._meta_kind = "meta", info.type
            self._meta.clear()
        elif info.type in tarfile.REGULAR_TYPES and is_temporary(name.rsplit("/", 1)[-1]):
            self._next_name = None
            self._target = None  # an upload in progress: not part of the folder yet
        elif info.type in tarfile.REGULAR_TYPES:
            self._next_name = None
            self._target = "file"
            self._writer = self._zip.open(
                self._zip_info(name, info), "w", force_zip64=size >= zipfile.ZIP64_LIMIT
            )
        elif info.type == tarfile.DIRTYPE:
            self._next_name = None
            self._target = None
            zip_name = _zip_name(name)
            if zip_name:
                self._zip.writestr(self._zip_info(zip_name + "/", info), b"")
        else:  # symlinks, hard links, devices, GNU long link names, pax globals: skipped
            if info.type != tarfile.GNUTYPE_LONGLINK:
                self._next_name = None
            self._target = None
        if not self._remaining:
            self._end_member()

    def _end_member(self) -> None:
        if self._target == "file" and self._writer is not None:
            self._writer.close()
            self._writer = None
        elif self._target == "meta":
            if self._meta_kind == tarfile.GNUTYPE_LONGNAME:
                self._next_name = (
                    bytes(self._meta).rstrip(b"\0").decode("utf-8", errors="surrogateescape")
                )
            else:
                path = _pax_path(bytes(self._meta))
                if path is not None:
                    self._next_name = path
        self._target = None

    @staticmethod
    def _zip_info(name: str, info: tarfile.TarInfo) -> zipfile.ZipInfo:
        stamp = time.gmtime(max(info.mtime, 315532800))  # zip dates start in 1980
        zinfo = zipfile.ZipInfo(_zip_name(name) + ("/" if name.endswith("/") else ""), stamp[:6])
        mode = info.mode | (0o040000 if info.type == tarfile.DIRTYPE else 0o100000)
        zinfo.external_attr = (mode & 0xFFFF) << 16
        if info.type == tarfile.DIRTYPE:
            zinfo.external_attr |= 0x10  # MS-DOS directory flag
        else:
            zinfo.compress_type = zipfile.ZIP_DEFLATED
        return zinfo
