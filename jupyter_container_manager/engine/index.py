"""An in-memory index of the owner's containers, fed by the engine's event stream, so
that listings and the per-request "is it ours, does it run" check never wait on the engine.

Labels stay the only state: the index holds nothing the engine does not, and is thrown
away and rebuilt from a full list by labels (plus one inspect per container) whenever it
may have missed something: at start, and after any gap in the event stream (the stream
ended or broke, the engine restarted, an inspect it asked for failed). The order is
subscribe first, then list: every change after the list's moment is in the stream, so
nothing falls between the two.

Each entry is the container's inspect (``attrs``, as ``core.models`` reads it), refreshed
by a new inspect after each event that changes what a ContainerInfo says: create, start,
restart, die, stop, pause, unpause, rename, oom, update (resources), destroy (dropped
without asking). Exec, attach, archive and health events change nothing of it and are
ignored. Refreshes of one container run one at a time, the last one started after its
last event. Every store carries a stamp taken before its inspect began, and an entry is
only replaced by a store of a later stamp, so an inspect that started earlier and
answered later never undoes a newer one (or brings back a removed container).

The lifecycle writes through: after it creates, starts, stops, restarts, renames or
removes a container it stores what it learned, so its own answers and the next read
agree without waiting for the event. While the index is not :attr:`fresh` (before the
first rebuild, during a gap) readers ask the engine, as they did before there was one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections import OrderedDict

from ..core.models import LABEL_ID, LABEL_OWNER, attrs_from_summary
from .backend import SUBSCRIBED, BackendConflict, EngineBackend

# Event actions after which a container's inspect may say something else.
REFRESH_ON = frozenset({"create", "start", "restart", "die", "stop", "pause", "unpause",
                        "rename", "oom", "update"})
TASK_NAME = "container index"  # in the name of each of its tasks
RETRY_FIRST = 0.1  # seconds before following the engine again after a gap, doubling
RETRY_MOST = 1.0
RECHECK_AFTER = 1.0  # seconds before looking again at a container that was being removed
GONE_KEPT = 4096  # removed containers remembered (so a late inspect cannot revive one)
_DOCKER_ID = re.compile(r"[0-9a-f]{12,64}")
WEAK = -1  # the stamp of an entry made from an event alone (any inspect replaces it)


def action_of(event: dict) -> str:
    """The event's action without its detail (``exec_start: sh -c ...`` -> ``exec_start``)."""
    return str(event.get("Action") or event.get("status") or "").split(":", 1)[0].strip()


def attrs_from_event(event: dict) -> dict:
    """The part of an inspect a ``create`` event tells (its attributes are the labels, the
    name and the image): enough to list a container being created, as its list summary
    would, without an inspect that would wait for its start."""
    actor = event.get("Actor") or {}
    attributes = dict(actor.get("Attributes") or {})
    return attrs_from_summary({
        "Id": actor.get("ID") or event.get("id", ""),
        "Names": ["/" + attributes.get("name", "")],
        "Image": attributes.get("image", ""),
        "Labels": attributes,
        "State": "created",
    })


class ContainerIndex:
    """The owner's containers (warm-pool ones included) by Docker id, name and count."""

    def __init__(self, backend: EngineBackend, owner: str,
                 log: logging.Logger | None = None):
        self.backend = backend
        self.owner = owner
        self.labels: dict[str, str | None] = {LABEL_OWNER: owner, LABEL_ID: None}
        self.log = log or logging.getLogger(__name__)
        self.rebuilds = 0  # how many times the index was (re)built from a full list
        self._entries: dict[str, tuple[int, dict]] = {}  # docker id -> (stamp, inspect)
        self._names: dict[str, str] = {}  # Docker name -> docker id
        self._gone: OrderedDict[str, int] = OrderedDict()  # docker id -> stamp of removal
        self._stamps = itertools.count(1)
        self._fresh = False
        self._became_fresh = asyncio.Event()
        self._gap = asyncio.Event()
        self._dirty: set[str] = set()
        self._refreshing: dict[str, asyncio.Task] = {}
        self._task: asyncio.Task | None = None

    # --- reading ---------------------------------------------------------------------

    @property
    def fresh(self) -> bool:
        """Whether the index follows the engine now (else ask the engine)."""
        return self._fresh

    @property
    def started(self) -> bool:
        return self._task is not None

    def all(self) -> list[dict]:
        """The inspects of every container of the owner (pooled ones included)."""
        return [attrs for _, attrs in self._entries.values()]

    def by_name(self, name: str) -> dict | None:
        """The inspect of the owner's container of that Docker name, or None."""
        docker_id = self._names.get(name.lstrip("/"))
        entry = self._entries.get(docker_id) if docker_id else None
        return entry[1] if entry else None

    def by_id(self, docker_id: str) -> dict | None:
        entry = self._entries.get(docker_id)
        return entry[1] if entry else None

    async def wait_fresh(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until the index follows the engine."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._became_fresh.wait(), timeout)
        return self._fresh

    # --- writing (the lifecycle's write-through, and the event task) -----------------

    def stamp(self) -> int:
        """A stamp to take before asking the engine, for :meth:`store`."""
        return next(self._stamps)

    def store(self, docker_id: str, attrs: dict | None, stamp: int) -> None:
        """What the engine said of ``docker_id`` (None: it is gone) when asked at
        ``stamp``; kept unless something newer is known already."""
        if not docker_id:
            return
        known = self._entries.get(docker_id)
        if known is not None and known[0] > stamp:
            return
        gone = self._gone.get(docker_id)
        if attrs is not None and gone is not None and gone > stamp:
            return
        if attrs is None or not self._ours(attrs):
            self._forget(docker_id)
            self._gone[docker_id] = stamp
            self._gone.move_to_end(docker_id)
            while len(self._gone) > GONE_KEPT:
                self._gone.popitem(last=False)
            return
        if known is not None:
            self._names.pop(_name(known[1]), None)
        self._gone.pop(docker_id, None)
        self._entries[docker_id] = (stamp, attrs)
        self._names[_name(attrs)] = docker_id

    async def refresh(self, ref: str) -> dict | None:
        """Inspect ``ref`` (a Docker id, or a name) and store the answer: its inspect, or
        None when it is gone. BackendConflict (being removed) and engine errors pass."""
        stamp = self.stamp()
        try:
            attrs = await self.backend.inspect(ref)
        except BackendConflict:
            docker_id = self._docker_id(ref)
            self.store(docker_id, None, stamp)  # being removed: not listed meanwhile
            self._later(docker_id)  # in case the removal fails
            raise
        self.store(attrs.get("Id", "") if attrs else self._docker_id(ref), attrs, stamp)
        return attrs

    def _docker_id(self, ref: str) -> str:
        """The Docker id of a ref: of a name the index knows, or the ref itself when it is
        an id ("" for an unknown name: nothing to forget)."""
        if ref.lstrip("/") in self._names:
            return self._names[ref.lstrip("/")]
        return ref if _DOCKER_ID.fullmatch(ref) else ""

    def _ours(self, attrs: dict) -> bool:
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return bool(labels.get(LABEL_ID)) and labels.get(LABEL_OWNER) == self.owner

    def _forget(self, docker_id: str) -> None:
        known = self._entries.pop(docker_id, None)
        if known is not None and self._names.get(_name(known[1])) == docker_id:
            del self._names[_name(known[1])]

    # --- following the engine --------------------------------------------------------

    def start(self, tasks) -> None:
        """Follow the engine's events as a task of ``tasks`` (a TaskOwner), for good."""
        if self._task is None:
            self._task = tasks.spawn(self._run(), TASK_NAME)

    async def close(self) -> None:
        self._set_stale()
        tasks = [t for t in (self._task, *self._refreshing.values()) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def gap(self, reason: str) -> None:
        """Something may have been missed: answer from the engine until rebuilt."""
        if self._fresh:
            self.log.info("container index: %s; rebuilding from the engine", reason)
        self._set_stale()
        self._gap.set()

    def _set_stale(self) -> None:
        self._fresh = False
        self._became_fresh.clear()

    async def _run(self) -> None:
        delay = RETRY_FIRST
        while True:
            self._gap.clear()
            rebuilds = self.rebuilds
            follow = asyncio.ensure_future(self._follow())
            follow.set_name(f"{TASK_NAME}: follow")
            gap = asyncio.ensure_future(self._gap.wait())
            try:
                await asyncio.wait({follow, gap}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (follow, gap):
                    task.cancel()
                # Wait for both to end without taking their outcome as ours: a cancel of
                # this task while they end must still end it (never swallowed here).
                await asyncio.wait({follow, gap})
                if not follow.cancelled() and follow.exception() is not None:
                    self.log.debug("container index: event stream ended: %r",
                                   follow.exception())
            self.gap("the engine's event stream ended")
            delay = RETRY_FIRST if self.rebuilds > rebuilds else min(delay * 2, RETRY_MOST)
            await asyncio.sleep(delay)

    async def _follow(self) -> None:
        """Subscribe, rebuild from a full list, then apply events until the stream ends."""
        events = self.backend.events(self.labels)
        try:
            async for event in events:
                if event.get("status") == SUBSCRIBED:
                    await self._rebuild()
                    self._fresh = True
                    self._became_fresh.set()
                    continue
                self._apply(event)
        finally:
            await events.aclose()

    async def _rebuild(self) -> None:
        stamp = self.stamp()
        summaries = await self.backend.list(self.labels)
        listed = {summary["Id"] for summary in summaries}

        async def one(summary: dict) -> None:
            if summary.get("State") == "created":
                # Being started: an inspect would wait for the start; the start event
                # brings the full one.
                self.store(summary["Id"], attrs_from_summary(summary), stamp)
                return
            with contextlib.suppress(BackendConflict):  # being removed
                await self.refresh(summary["Id"])

        await asyncio.gather(*(one(summary) for summary in summaries))
        for docker_id in [d for d, (s, _) in self._entries.items() if d not in listed]:
            self.store(docker_id, None, stamp)  # gone during the gap
        self.rebuilds += 1

    def _apply(self, event: dict) -> None:
        action = action_of(event)
        docker_id = (event.get("Actor") or {}).get("ID") or event.get("id") or ""
        if not docker_id:
            return
        if action == "destroy":
            self.store(docker_id, None, self.stamp())
        elif action == "create":
            if docker_id not in self._entries and docker_id not in self._gone:
                attrs = attrs_from_event(event)
                if self._ours(attrs):
                    self.store(docker_id, attrs, WEAK)
        elif action in REFRESH_ON:
            self._changed(docker_id)

    def _changed(self, docker_id: str) -> None:
        """Inspect ``docker_id`` again; one refresh of a container at a time, and one more
        after it when it changed meanwhile."""
        self._dirty.add(docker_id)
        if docker_id not in self._refreshing:
            task = asyncio.ensure_future(self._refresh_loop(docker_id))
            task.set_name(f"{TASK_NAME}: refresh {docker_id[:12]}")
            self._refreshing[docker_id] = task

    def _later(self, docker_id: str) -> None:
        if not docker_id:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(RECHECK_AFTER, lambda: self._fresh and self._changed(docker_id))

    async def _refresh_loop(self, docker_id: str) -> None:
        try:
            while docker_id in self._dirty:
                self._dirty.discard(docker_id)
                try:
                    await self.refresh(docker_id)
                except BackendConflict:
                    pass  # being removed (looked at again later)
                except Exception as err:  # noqa: BLE001 - the engine does not answer
                    self._dirty.discard(docker_id)
                    self.gap(f"an inspect failed ({err!r})")
                    return
        finally:
            self._refreshing.pop(docker_id, None)


def _name(attrs: dict) -> str:
    return str(attrs.get("Name") or "").lstrip("/")

