"""Recursive watch of a directory inside a container: add, change, unlink, addDir, unlinkDir.

One long-lived exec per watched path runs a constant polling script: every ``interval``
seconds it lists the tree (type, mtime, size and path of each entry, NUL-ended, so any
file name survives, newlines included) and prints the listing only when it differs from
the previous one. The server compares listings and reports what changed, whoever made
the change (the API, a terminal, a process).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from ..core.paths import is_temporary
from ..tasks import TaskOwner
from .backend import EngineBackend
from .fs_scripts import PRELUDE
from .pollers import PollingExec

# "$1": the workdir, "$2": the watched path (absolute), "$3": the interval. The path is
# checked first as every file operation checks it (fs_scripts.PRELUDE: no way out of the
# workdir through a symlink): one record "OK" or "ERR <code>". Then GNU find prints all
# four fields itself; a find without -printf (busybox) gets them from stat, one entry at a
# time. A listing is printed as its entries, then one empty record.
WATCH_SCRIPT = PRELUDE + r"""
fail() { printf 'ERR %s\0' "$1"; exit 0; }
locate "$2"; follow
[ -e "$T" ] || fail ENOENT
root=$T; interval=$3
printf 'OK\0'
dir=/tmp/.jcm/watch.$$
mkdir -p "$dir" || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 0' TERM HUP INT
if find / -maxdepth 0 -printf '' >/dev/null 2>&1; then
  list() { find "$root" -printf '%y\t%T@\t%s\t%p\0' 2>/dev/null; }
else
  list() {
    find "$root" -exec sh -c 'for f; do
      if [ -L "$f" ]; then t=l; elif [ -d "$f" ]; then t=d; else t=f; fi
      printf "%s\t%s\t%s\t%s\0" "$t" "$(stat -c %Y "$f")" "$(stat -c %s "$f")" "$f"
    done' sh {} + 2>/dev/null
  }
fi
: > "$dir/old"
first=1
while :; do
  list > "$dir/new"
  if [ -n "$first" ] || ! cmp -s "$dir/new" "$dir/old"; then
    cat "$dir/new"; printf '\0'; mv -f "$dir/new" "$dir/old"; first=
  fi
  sleep "$interval" || exit 0
done
"""

# type, mtime, size
Entry = tuple[str, str, str]
Snapshot = dict[str, Entry]
ChangeHandler = Callable[[list[tuple[str, str]]], Awaitable[None] | None]
EndHandler = Callable[[], Awaitable[None] | None]


def parse_entry(record: bytes) -> tuple[str, Entry] | None:
    """``b"f\\t1700000000.1\\t12\\t/workspace/a.js"`` -> (path, (type, mtime, size))."""
    parts = record.split(b"\t", 3)
    if len(parts) != 4 or not parts[3]:
        return None
    kind, mtime, size, path = parts
    return path.decode("utf-8", "replace"), (
        "d" if kind == b"d" else kind.decode("ascii", "replace"),
        mtime.decode("ascii", "replace"),
        size.decode("ascii", "replace"),
    )


def diff_snapshots(old: Snapshot, new: Snapshot) -> list[tuple[str, str]]:
    """The changes from one listing to the next, as (path, kind), in an order a client can
    apply: removals deepest first, then additions shallowest first, then changes. (pure)"""
    removed, added, changed = [], [], []
    for path, (kind, *_rest) in old.items():
        now = new.get(path)
        if now is None or (now[0] == "d") != (kind == "d"):
            removed.append((path, "unlinkDir" if kind == "d" else "unlink"))
    for path, entry in new.items():
        before = old.get(path)
        if before is None or (before[0] == "d") != (entry[0] == "d"):
            added.append((path, "addDir" if entry[0] == "d" else "add"))
        elif entry[0] != "d" and before != entry:
            changed.append((path, "change"))
    removed.sort(key=lambda item: (-item[0].count("/"), item[0]))
    added.sort(key=lambda item: (item[0].count("/"), item[0]))
    changed.sort()
    return removed + added + changed


class TreeWatcher:
    """Watches one absolute path in a container and calls ``on_changes([(path, kind)])``
    with absolute container paths. The first listing is the baseline: no events."""

    def __init__(self, engine: EngineBackend, docker_id: str, workdir: str, path: str,
                 interval: float, on_changes: ChangeHandler, on_end: EndHandler, *,
                 tasks: TaskOwner):
        self.path = path
        self.error: str | None = None  # a Node code when the path cannot be watched
        self._checked = False
        self._on_changes = on_changes
        self._snapshot: Snapshot | None = None
        self._listing: Snapshot = {}
        self._on_end = on_end
        self.ready = asyncio.Event()  # set once the baseline is read (or the watch ended)
        self._exec = PollingExec(engine, docker_id, WATCH_SCRIPT,
                                 [workdir, path, str(interval)],
                                 name="jcm-watch", on_record=self._record, on_end=self._ended,
                                 tasks=tasks)

    def start(self) -> None:
        self._exec.start()

    def stop(self) -> None:
        self._exec.stop()

    async def _ended(self) -> None:
        self.ready.set()
        result = self._on_end()
        if inspect.isawaitable(result):
            await result

    async def _record(self, record: bytes) -> None:
        if not self._checked:  # "OK", or "ERR <code>" and the script ends
            self._checked = True
            if record != b"OK":
                self.error = record.decode("ascii", "replace").partition(" ")[2] or "EIO"
                self.ready.set()
            return
        if record:
            parsed = parse_entry(record)
            # A temporary (an upload in progress, see paths.TEMP_PREFIX) is no change:
            # its rename over the file is, when the upload completes.
            if parsed is not None and not is_temporary(parsed[0].rsplit("/", 1)[-1]):
                self._listing[parsed[0]] = parsed[1]
            return
        listing, self._listing = self._listing, {}  # an empty record ends a listing
        previous, self._snapshot = self._snapshot, listing
        if previous is None:
            self.ready.set()
            return
        changes = diff_snapshots(previous, listing)
        if changes:
            result = self._on_changes(changes)
            if inspect.isawaitable(result):
                await result
