"""Recursive watch of a directory inside a container: add, change, unlink, addDir, unlinkDir.

Whoever makes the change (the API, a terminal, a process), it is seen two ways:

- by the kernel: in a container with an agent (agent.py), one watcher process per
  container (watch.js, ``jcm-watch``, started by the agent) serves all its watched paths
  with inotify, one watch per folder, none in excluded folders (``node_modules`` and
  ``.git`` by default: the ``watch_ignore`` setting, or a watch's own ``exclude``). It
  reports batched changes a few milliseconds after they happen, and costs nothing while
  nothing changes;
- by polling, where the kernel cannot (no node in the image, no agent, inotify refused,
  e.g. no watches left): one long-lived exec per watched path runs a constant script:
  every ``interval`` seconds it lists the tree (type, mtime, size and path of each entry,
  NUL-ended, so any file name survives, newlines included) and prints the listing only
  when it differs from the previous one; the server compares listings.

Both check the watched path as the file operations do (no way out of the workdir through
a symlink), never follow a symlink below it, leave the temporaries of uploads out, and
apply the same include and exclude globs (core/globs.py mirrors watch.js).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources

from ..core.globs import WatchFilter
from ..core.paths import is_temporary
from ..tasks import TaskOwner
from .agent import Agent, AgentChannel, Agents
from .backend import EngineBackend
from .docker_backend import STDERR
from .fs_scripts import PRELUDE
from .pollers import PollingExec

log = logging.getLogger(__name__)
_HERE = resources.files("jupyter_container_manager.engine")
WATCHER_SOURCE = _HERE.joinpath("agent_fs.js").read_text() + "\n" + _HERE.joinpath(
    "watch.js").read_text()
WATCHER_ARGV = ["node", "-e", "/* jcm-watch */ eval(process.env.JCM_WATCH_SOURCE)"]
MAX_LINE = 64 * 1024**2

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


class KernelWatchers:
    """The watcher processes (watch.js) of the containers, one per container that has
    watched paths, started through its agent on the first watch and ended with the last."""

    def __init__(self, agents: Agents | None):
        self.agents = agents
        self._processes: dict[str, _WatcherProcess] = {}

    async def process(self, docker_id: str) -> _WatcherProcess | None:
        """The container's watcher process; None where the kernel cannot watch (no agent)."""
        if self.agents is None:
            return None
        current = self._processes.get(docker_id)
        if current is not None and current.alive:
            return current
        agent = await self.agents.get(docker_id)
        if agent is None or not agent.does_files:
            return None
        current = self._processes.get(docker_id)  # started meanwhile
        if current is not None and current.alive:
            return current
        process = _WatcherProcess(agent, lambda: self._ended(docker_id, process))
        self._processes[docker_id] = process
        return process

    def _ended(self, docker_id: str, process: _WatcherProcess) -> None:
        if self._processes.get(docker_id) is process:
            del self._processes[docker_id]

    def close(self) -> None:
        for process in list(self._processes.values()):
            process.close()
        self._processes.clear()


class _WatcherProcess:
    """One watch.js process in a container: JSON lines in, JSON lines out."""

    def __init__(self, agent: Agent, on_end: Callable[[], None]):
        self.channel: AgentChannel = agent.open(
            WATCHER_ARGV, {"JCM_WATCH_SOURCE": WATCHER_SOURCE})
        self.channel._replay = None  # never run again through a docker exec
        self.alive = True
        self._on_end = on_end
        self._watchers: dict[int, TreeWatcher] = {}
        self._next = 1
        self._reader = asyncio.ensure_future(self._read())

    async def watch(self, watcher: TreeWatcher, request: dict) -> int:
        number, self._next = self._next, self._next + 1
        self._watchers[number] = watcher
        watcher._number = number  # known at once: a stop() meanwhile unwatches it
        await self._send({"id": number, "op": "watch", **request})
        return number

    async def unwatch(self, number: int) -> None:
        if self._watchers.pop(number, None) is None:
            return
        if not self._watchers:  # the last one: the process ends
            self.close()
            return
        with contextlib.suppress(Exception):
            await self._send({"id": number, "op": "unwatch"})

    async def _send(self, message: dict) -> None:
        await self.channel.write((json.dumps(message) + "\n").encode())

    async def _read(self) -> None:
        pending = bytearray()
        try:
            while (got := await self.channel.read()) is not None:
                kind, data = got
                if kind == STDERR:
                    log.debug("jcm-watch: %s", data[:500])
                    continue
                pending += data
                if len(pending) > MAX_LINE:
                    log.warning("jcm-watch printed an overlong line; stopping it")
                    break
                *lines, rest = bytes(pending).split(b"\n")
                pending = bytearray(rest)
                for line in lines:
                    if line:
                        await self._dispatch(json.loads(line))
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the process is gone or garbled: it ends
            log.debug("jcm-watch ended: %r", err)
        finally:
            self._finish()

    async def _dispatch(self, message: dict) -> None:
        watcher = self._watchers.get(message.get("id"))
        if watcher is None:
            return
        if "changes" in message:
            await watcher._kernel_changes([(path, kind) for path, kind in message["changes"]])
        elif message.get("ok"):
            watcher._kernel_ready()
        elif "error" in message:
            self._watchers.pop(message["id"], None)
            watcher._kernel_refused(str(message["error"]))
        elif "failed" in message:
            self._watchers.pop(message["id"], None)
            await watcher._kernel_failed(str(message["failed"]))

    def _finish(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self.channel.close()
        self._on_end()
        watchers, self._watchers = list(self._watchers.values()), {}
        for watcher in watchers:
            watcher._kernel_ended()

    def close(self) -> None:
        """End the process (it exits when its input ends) without telling the watchers."""
        self._watchers.clear()
        if self.alive:
            self.channel.close_stdin()
            self._finish()
        self._reader.cancel()


class TreeWatcher:
    """Watches one absolute path in a container and calls ``on_changes([(path, kind)])``
    with absolute container paths. The first look is the baseline: no events. The kernel
    watches where it can (``kernel``: the container's watcher processes), else a script
    polls every ``interval`` seconds. ``exclude`` (default: none) and ``include`` globs
    choose what is watched and reported (core/globs.py)."""

    _filter: WatchFilter | None = None  # None: everything is watched and reported

    def __init__(self, engine: EngineBackend, docker_id: str, workdir: str, path: str,
                 interval: float, on_changes: ChangeHandler, on_end: EndHandler, *,
                 kernel: KernelWatchers | None = None, exclude: Iterable[str] = (),
                 include: Iterable[str] = (), tasks: TaskOwner):
        self.path = path
        self.error: str | None = None  # a Node code when the path cannot be watched
        self.polling = kernel is None  # True once it polls (also after a kernel failure)
        self._engine, self._docker_id, self._workdir = engine, docker_id, workdir
        self._interval = interval
        self._kernel = kernel
        self._tasks = tasks  # what a stop or an end leaves running
        self._exclude, self._include = list(exclude), list(include)
        if self._exclude or self._include:
            self._filter = WatchFilter(workdir, path, self._exclude, self._include)
        self._checked = False
        self._on_changes = on_changes
        self._snapshot: Snapshot | None = None
        self._listing: Snapshot = {}
        self._on_end = on_end
        self.ready = asyncio.Event()  # set once the baseline is read (or the watch ended)
        self._exec: PollingExec | None = None
        self._process: _WatcherProcess | None = None
        self._number: int | None = None
        self._task: asyncio.Task | None = None
        self._stopped = False
        self._ended_once = False

    def start(self) -> None:
        if self._kernel is None:
            self._poll()
        else:
            self._task = asyncio.ensure_future(self._start_kernel())

    def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
        if self._exec is not None:
            self._exec.stop()
        if self._process is not None and self._number is not None:
            process, number, self._process = self._process, self._number, None
            self._tasks.spawn(process.unwatch(number), f"unwatch {self.path}")

    # --- by the kernel -------------------------------------------------------------

    async def _start_kernel(self) -> None:
        try:
            process = await self._kernel.process(self._docker_id)
            if process is None:
                self._poll()
                return
            self._process = process
            await process.watch(self, {
                "workdir": self._workdir, "path": self.path,
                "exclude": self._exclude, "include": self._include,
            })
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - its agent went meanwhile: poll instead
            log.debug("kernel watch of %s: %r; polling", self.path, err)
            self._process = None
            if not self._stopped:
                self._poll()

    def _kernel_ready(self) -> None:
        self.ready.set()

    def _kernel_refused(self, code: str) -> None:
        self.error = code or "EIO"
        self._process = None
        self.ready.set()
        self._tasks.spawn(self._ended(), f"end the watch of {self.path}")

    async def _kernel_failed(self, code: str) -> None:
        log.info("inotify cannot watch %s in %s (%s): polling it", self.path,
                 self._docker_id[:12], code)
        self._process = None
        if not self._stopped:
            self._poll()  # its baseline is taken now: what changed meanwhile is not told

    def _kernel_ended(self) -> None:
        self._process = None
        if not self._stopped:
            self._tasks.spawn(self._ended(), f"end the watch of {self.path}")

    async def _kernel_changes(self, changes: list[tuple[str, str]]) -> None:
        if self._stopped or not changes:
            return
        result = self._on_changes(changes)
        if inspect.isawaitable(result):
            await result

    # --- by polling ----------------------------------------------------------------

    def _poll(self) -> None:
        self.polling = True
        self._exec = PollingExec(self._engine, self._docker_id, WATCH_SCRIPT,
                                 [self._workdir, self.path, str(self._interval)],
                                 name="jcm-watch", on_record=self._record, on_end=self._ended,
                                 tasks=self._tasks)
        self._exec.start()

    async def _ended(self) -> None:
        if self._ended_once:
            return
        self._ended_once = True
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
            if parsed is not None and not is_temporary(parsed[0].rsplit("/", 1)[-1]) \
                    and (self._filter is None or not self._filter.excluded(parsed[0])):
                self._listing[parsed[0]] = parsed[1]
            return
        listing, self._listing = self._listing, {}  # an empty record ends a listing
        previous, self._snapshot = self._snapshot, listing
        if previous is None:
            self.ready.set()
            return
        changes = [change for change in diff_snapshots(previous, listing)
                   if self._filter is None or self._filter.reported(change[0])]
        if changes:
            result = self._on_changes(changes)
            if inspect.isawaitable(result):
                await result
