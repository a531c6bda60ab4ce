"""The constant POSIX sh scripts behind every file operation, and how to read their answers.

Each operation is ONE exec: ``sh -c <script> sh <workdir> <path> [...]``. Caller text only
ever arrives as ``"$2"``, ``"$3"``..., never inside the script. A script does its checks
and its work in the same process, as the container sees its files:

- the workdir and the parent of a path are resolved physically (``cd -P``, no fork), and a
  parent outside the workdir is refused (EACCES): an escape through a symlinked folder;
- where the operation follows the last name (read, write, readdir, stat, export), a
  symlink there is resolved with ``readlink -f`` and refused when it leads out;
- the answer starts with one status line on stdout: ``OK [values]`` or ``ERR <code>``,
  where ``<code>`` is Node's. A tool that fails after the checks leaves its reason on
  stderr; :func:`code_from_stderr` turns the ``strerror`` text back into Node's code.

Only POSIX sh, ``test``, ``printf`` and the usual tools (cat, mkdir, rm, mv, readlink,
stat, tar) are used, so any image with a shell works (Debian, Alpine/BusyBox).
"""

from __future__ import annotations

PRELUDE = r"""
fail() { printf 'ERR %s\n' "$1"; exit 0; }
L=$1
cd -P -- "$L" 2>/dev/null || fail ENOENT
W=$PWD
inside() { case $1 in "$W"|"$W"/*) return 0;; esac; return 1; }
locate() {
  if [ "$1" = "$L" ]; then T=$W; return 0; fi
  d=${1%/*}
  if ! cd -P -- "${d:-/}" 2>/dev/null; then
    [ -e "$d" ] && fail ENOTDIR
    fail ENOENT
  fi
  inside "$PWD" || fail EACCES
  T=$PWD/${1##*/}
}
follow() {
  [ -L "$T" ] || return 0
  T=$(readlink -f -- "$T") || fail ENOENT
  inside "$T" || fail EACCES
}
"""

# $2: path. Answers "OK <size>", then the bytes.
READ = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -e "$T" ] || fail ENOENT
[ -d "$T" ] && fail EISDIR
[ -f "$T" ] || fail EINVAL
[ -r "$T" ] || fail EACCES
s=$(stat -c %s -- "$T" 2>/dev/null) || s=$(wc -c < "$T")
printf 'OK %s\n' "$s"
exec cat -- "$T"
"""
)

# $2: path; the bytes come on stdin. Answers "OK <pid>" (the group to kill on abort), then
# "DONE" once every byte is written.
WRITE = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -d "$T" ] && fail EISDIR
if [ -e "$T" ] && [ ! -w "$T" ]; then fail EACCES; fi
printf 'OK %s\n' "$$"
cat > "$T" || exit 1
echo DONE
"""
)

# $2: path, $3: 1 for recursive.
MKDIR = (
    PRELUDE
    + r"""
if [ "$3" = 1 ]; then
  p=$2
  until cd -P -- "$p" 2>/dev/null; do
    if [ -e "$p" ]; then [ "$p" = "$2" ] && fail EEXIST; fail ENOTDIR; fi
    p=${p%/*}
    [ -n "$p" ] || fail ENOENT
  done
  inside "$PWD" || fail EACCES
  [ "$p" = "$2" ] || mkdir -p -- "$2" || exit 1
  echo OK
  exit 0
fi
locate "$2"
if [ -e "$T" ] || [ -L "$T" ]; then fail EEXIST; fi
mkdir -- "$T" || exit 1
echo OK
"""
)

# $2: path, $3: 1 for recursive, $4: 1 for force. The last name is not followed.
RM = (
    PRELUDE
    + r"""
[ "$2" = "$L" ] && fail EPERM
locate "$2"
if [ ! -e "$T" ] && [ ! -L "$T" ]; then
  [ "$4" = 1 ] && { echo OK; exit 0; }
  fail ENOENT
fi
if [ -d "$T" ] && [ ! -L "$T" ]; then
  [ "$3" = 1 ] || fail EISDIR
  rm -rf -- "$T" || exit 1
else
  rm -f -- "$T" || exit 1
fi
echo OK
"""
)

# $2: old path, $3: new path; rename(2) semantics, the last names are not followed.
RENAME = (
    PRELUDE
    + r"""
if [ "$2" = "$L" ] || [ "$3" = "$L" ]; then fail EPERM; fi
locate "$2"; O=$T
if [ ! -e "$O" ] && [ ! -L "$O" ]; then fail ENOENT; fi
locate "$3"; N=$T
[ "$O" = "$N" ] && { echo OK; exit 0; }
if [ -d "$O" ] && [ ! -L "$O" ]; then
  case $N in "$O"/*) fail EINVAL;; esac
  if [ -L "$N" ] || { [ -e "$N" ] && [ ! -d "$N" ]; }; then fail ENOTDIR; fi
  if [ -d "$N" ]; then rmdir -- "$N" 2>/dev/null || fail ENOTEMPTY; fi
else
  if [ -d "$N" ] && [ ! -L "$N" ]; then fail EISDIR; fi
  if [ -L "$N" ]; then rm -f -- "$N" || exit 1; fi
fi
mv -f -- "$O" "$N" || exit 1
echo OK
"""
)

# $2: path. Answers "OK", then "<t><name>\0" per entry, t: d(irectory), l(ink), f(ile).
READDIR = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -e "$T" ] || fail ENOENT
[ -d "$T" ] || fail ENOTDIR
cd -- "$T" 2>/dev/null || fail EACCES
echo OK
for f in .[!.]* ..?* *; do
  if [ -L "$f" ]; then t=l; elif [ -d "$f" ]; then t=d
  elif [ -e "$f" ]; then t=f; else continue; fi
  printf '%s%s\0' "$t" "$f"
done
"""
)

# $2: path. Answers "OK <kind> <size> <mtime seconds> <raw mode in hex>".
STAT = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -e "$T" ] || fail ENOENT
if [ -d "$T" ]; then k=directory; elif [ -f "$T" ]; then k=file; else k=other; fi
m=$(stat -c '%s %Y %f' -- "$T") || exit 1
printf 'OK %s %s\n' "$k" "$m"
"""
)

# $2: folder. Answers "OK", then a tar of the folder's contents (names start with ./).
EXPORT = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -e "$T" ] || fail ENOENT
[ -d "$T" ] || fail ENOTDIR
echo OK
exec tar -cf - -C "$T" .
"""
)

# $1: signal name, $2: the pid of a process we started (a session and group leader: Docker's
# exec calls setsid). Signals its group, then every process left in its session: the jobs
# of an interactive shell in a terminal run in groups of their own. /proc/<pid>/stat is
# read after the last ")" (a command name may hold spaces): state ppid pgrp session ...
KILL_GROUP = r"""
sig=$1 leader=$2
kill -s "$sig" -- "-$leader" 2>/dev/null
for f in /proc/[0-9]*/stat; do
  read -r l < "$f" 2>/dev/null || continue
  set -- ${l##*) }
  [ "$4" = "$leader" ] || continue
  p=${f#/proc/}
  kill -s "$sig" "${p%/stat}" 2>/dev/null
done
true
"""

# strerror texts (glibc and musl) -> Node's codes, for a tool that failed after the checks.
_STRERROR_CODES = (
    ("No such file or directory", "ENOENT"),
    ("Directory nonexistent", "ENOENT"),
    ("File exists", "EEXIST"),
    ("Not a directory", "ENOTDIR"),
    ("Is a directory", "EISDIR"),
    ("Directory not empty", "ENOTEMPTY"),
    ("Permission denied", "EACCES"),
    ("Operation not permitted", "EPERM"),
    ("Invalid argument", "EINVAL"),
    ("subdirectory of itself", "EINVAL"),
    ("No space left on device", "ENOSPC"),
    ("Disk quota exceeded", "ENOSPC"),
    ("File too large", "EFBIG"),
    ("Read-only file system", "EACCES"),
)


def code_from_stderr(text: bytes | bytearray | str) -> str:
    """Node's code for the error a tool printed (EIO when the text is not known)."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8", errors="replace")
    for fragment, code in _STRERROR_CODES:
        if fragment.lower() in text.lower():
            return code
    return "EIO"


def parse_status(line: str | None) -> tuple[bool, str]:
    """``("OK rest")`` -> ``(True, "rest")``; ``"ERR CODE"`` -> ``(False, "CODE")``;
    anything else (no line at all, a shell error) -> ``(False, "")``."""
    if line is None:
        return False, ""
    if line == "OK" or line.startswith("OK "):
        return True, line[3:]
    if line.startswith("ERR "):
        return False, line[4:].strip()
    return False, ""
