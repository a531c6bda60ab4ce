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

from ..core.paths import TEMP_PREFIX  # noqa: F401 - the scripts below spell it out

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

# Temporaries: a file being replaced is written beside it under this reserved prefix, then
# renamed over it (rename(2) in one folder is atomic), so a reader sees the old bytes or the
# new ones, never a part. readdir, export and watch never show these names; API paths may
# not name them (paths.py); a sweep removes those an earlier crash left (SWEEP).
END_MARKER = "JCM-END-"  # + the upload's token: the bytes that say an upload is complete

# $2: path, $3: the upload's token (random hex from the server). The bytes come on stdin,
# then END_MARKER + token: only an input that ends with it is complete. The bytes go to
# <folder>/.jcm-tmp-<token> (mode and owner of the old file), which is renamed over the
# file once all arrived; an input cut short (client gone, 413, server killed) removes it
# and the old file stays as it was. A folder the user cannot write (the file itself is
# writable) is written in place, as before. Answers "OK <pid>" (the group to kill), then
# "DONE" once the file holds every byte, or "CUT".
WRITE = (
    PRELUDE
    + r"""
locate "$2"; follow
[ -d "$T" ] && fail EISDIR
if [ -e "$T" ] && [ ! -w "$T" ]; then fail EACCES; fi
D=${T%/*}; M=JCM-END-$3; F=$T
tmp=$D/.jcm-tmp-$3
if [ -w "${D:-/}" ] && (set -C; : > "$tmp") 2>/dev/null; then
  F=$tmp
  trap 'rm -f -- "$tmp"' EXIT
  trap 'exit 1' HUP INT TERM PIPE
  if [ -e "$T" ]; then
    m=$(stat -c %a -- "$T" 2>/dev/null) && chmod "$m" "$tmp" 2>/dev/null
    o=$(stat -c %u:%g -- "$T" 2>/dev/null) && chown "$o" "$tmp" 2>/dev/null
  fi
fi
printf 'OK %s\n' "$$"
cat > "$F" || exit 1
s=$(stat -c %s -- "$F") || exit 1
n=${#M}
if [ "$s" -lt "$n" ] || [ "$(tail -c "$n" -- "$F")" != "$M" ]; then
  [ "$F" = "$T" ] || rm -f -- "$tmp"
  echo CUT
  exit 0
fi
truncate -s "$((s - n))" -- "$F" || exit 1
if [ "$F" != "$T" ]; then
  if [ -d "$T" ] && [ ! -L "$T" ]; then echo 'Is a directory' >&2; exit 1; fi
  mv -f -- "$tmp" "$T" || exit 1
  trap - EXIT
fi
echo DONE
"""
)

# $2, $3...: pairs of (temporary, final) paths, relative to the workdir: each temporary
# (a file of a mount, extracted beside its final name) is renamed over its final name; a
# folder or a symlink there is replaced (never written through), as Docker's extraction
# replaces them. With node in the image, one node process does them all (a mount of
# thousands of files), else one mv each. Answers "OK".
COMMIT = (
    PRELUDE
    + r"""
shift
if command -v node >/dev/null 2>&1; then  # one process for all the renames: no fork each
  exec node -e '
const fs = require("fs");
const a = process.argv.slice(1);
for (let i = 0; i + 1 < a.length; i += 2) {
  let s = null;
  try { s = fs.lstatSync(a[i + 1]); } catch (err) { if (err.code !== "ENOENT") throw err; }
  if (s && s.isDirectory()) (fs.rmSync || fs.rmdirSync)(a[i + 1], { recursive: true });
  else if (s && s.isSymbolicLink()) fs.unlinkSync(a[i + 1]);
  fs.renameSync(a[i], a[i + 1]);
}
process.stdout.write("OK\n");' -- "$@"
fi
while [ $# -ge 2 ]; do
  if [ -L "$2" ]; then rm -f -- "$2" || exit 1
  elif [ -d "$2" ]; then rm -rf -- "$2" || exit 1; fi
  mv -f -- "$1" "$2" || exit 1
  shift 2
done
echo OK
"""
)

# Tokens are <server instance: 8 hex><counter: 10 digits><random: 16 hex>, so a sweep can
# tell this server's temporaries from an earlier server's without trusting mtimes.
# $2: epoch seconds, $3: a folder relative to the workdir ("." for all of it), $4: one
# token or "", $5: this server's instance, $6: its next counter, $7...: tokens of uploads
# in progress. Removes temporaries under the folder (not crossing into other file
# systems): with $4, those of that token; else this server's that are neither in progress
# nor newer than the sweep (counter $6 or past), and the others' last changed before $2.
# Answers "OK".
SWEEP = (
    PRELUDE
    + r"""
JCM_BEFORE=$2; where=$3; JCM_ONLY=$4; JCM_SELF=$5; JCM_NEXT=$6; shift 6; JCM_KEEP=" $* "
export JCM_BEFORE JCM_ONLY JCM_SELF JCM_NEXT JCM_KEEP
echo OK
find "$where" -xdev -type f -name '.jcm-tmp-*' -exec sh -c '
for f; do
  t=${f##*/}; t=${t#.jcm-tmp-}; t=${t%%-*}
  if [ -n "$JCM_ONLY" ]; then
    [ "$t" = "$JCM_ONLY" ] && rm -f -- "$f"
    continue
  fi
  case $JCM_KEEP in *" $t "*) continue;; esac
  i=${t%"${t#????????}"}; r=${t#????????}; c=${r%"${r#??????????}"}
  if [ -n "$JCM_SELF" ] && [ "$i" = "$JCM_SELF" ]; then
    case $c in ""|*[!0-9]*) continue;; esac
    [ "$c" -lt "$JCM_NEXT" ] && rm -f -- "$f"
    continue
  fi
  m=$(stat -c %Y -- "$f" 2>/dev/null) || continue
  [ "$m" -lt "$JCM_BEFORE" ] && rm -f -- "$f"
done' sh {} + 2>/dev/null
true
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
  case $f in .jcm-tmp-*) continue;; esac
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
