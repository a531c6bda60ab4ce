"""The container index (engine/index.py) against a fake engine: it is fresh only once
subscribed and rebuilt, follows events with inspects (ignoring those that change
nothing), never lets an older answer undo a newer one, and after a gap in the stream (or
a failed inspect) answers "not fresh" until rebuilt from a full list."""

from __future__ import annotations

import asyncio

from jupyter_container_manager.core.errors import EngineUnavailable
from jupyter_container_manager.core.models import LABEL_ID, LABEL_OWNER
from jupyter_container_manager.engine.backend import SUBSCRIBED
from jupyter_container_manager.engine.index import ContainerIndex
from jupyter_container_manager.tasks import TaskOwner

OWNER = "ann"
BREAK = object()


def attrs(docker_id: str, status: str = "running", owner: str = OWNER, name: str = "") -> dict:
    return {"Id": docker_id, "Name": "/" + (name or f"jcm-{docker_id}"),
            "Config": {"Labels": {LABEL_ID: f"pub-{docker_id}", LABEL_OWNER: owner}},
            "State": {"Status": status, "Running": status == "running"}}


class FakeEngine:
    def __init__(self):
        self.containers: dict[str, dict] = {}
        self.inspects: list[str] = []
        self.subscriptions = 0
        self.queue: asyncio.Queue | None = None
        self.down = False
        self.inspect_gate: asyncio.Event | None = None

    async def events(self, labels):
        if self.down:
            raise EngineUnavailable("down")
        self.subscriptions += 1
        self.queue = queue = asyncio.Queue()
        yield {"status": SUBSCRIBED}
        while True:
            event = await queue.get()
            if event is BREAK:
                raise ConnectionError("the stream broke")
            yield event

    async def list(self, labels):
        if self.down:
            raise EngineUnavailable("down")
        return [{"Id": a["Id"], "State": a["State"]["Status"], "Names": [a["Name"]],
                 "Labels": a["Config"]["Labels"]} for a in self.containers.values()]

    async def inspect(self, ref):
        self.inspects.append(ref)
        if self.down:
            raise EngineUnavailable("down")
        if self.inspect_gate is not None:
            await self.inspect_gate.wait()
        found = self.containers.get(ref) or next(
            (a for a in self.containers.values() if a["Name"] == "/" + ref), None)
        return dict(found) if found else None

    def emit(self, action: str, docker_id: str) -> None:
        self.queue.put_nowait({"status": action, "Action": action, "id": docker_id,
                               "Actor": {"ID": docker_id, "Attributes": {}}})


async def settle(index: ContainerIndex) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    while index._refreshing:
        await asyncio.sleep(0.01)


async def started(engine: FakeEngine) -> tuple[ContainerIndex, TaskOwner]:
    index = ContainerIndex(engine, OWNER)
    tasks = TaskOwner()
    assert not index.fresh
    index.start(tasks)
    assert await index.wait_fresh(2)
    return index, tasks


def statuses(index: ContainerIndex) -> dict[str, str]:
    return {a["Id"]: a["State"]["Status"] for a in index.all()}


async def test_built_from_the_list_then_follows_events():
    engine = FakeEngine()
    engine.containers = {"a" * 12: attrs("a" * 12), "b" * 12: attrs("b" * 12, "exited")}
    index, tasks = await started(engine)
    try:
        assert statuses(index) == {"a" * 12: "running", "b" * 12: "exited"}
        assert index.by_name("jcm-" + "a" * 12)["Id"] == "a" * 12
        engine.inspects.clear()
        # Events that change nothing of a ContainerInfo cost nothing.
        for action in ("exec_create: cat /proc/net/tcp", "exec_start: cat", "exec_die",
                       "attach", "archive-path", "resize", "top"):
            engine.emit(action, "a" * 12)
        await settle(index)
        assert engine.inspects == []
        # A stop by hand: die, then the new state from an inspect.
        engine.containers["a" * 12] = attrs("a" * 12, "exited")
        engine.emit("kill", "a" * 12)
        engine.emit("die", "a" * 12)
        engine.emit("stop", "a" * 12)
        await settle(index)
        assert statuses(index)["a" * 12] == "exited"
        assert len(engine.inspects) <= 2  # one, and one more for events meanwhile
        # A removal: dropped without asking.
        del engine.containers["b" * 12]
        engine.inspects.clear()
        engine.emit("destroy", "b" * 12)
        await settle(index)
        assert "b" * 12 not in statuses(index) and engine.inspects == []
        # A rename: found by its new name only.
        engine.containers["a" * 12] = attrs("a" * 12, "exited", name="jcm-renamed")
        engine.emit("rename", "a" * 12)
        await settle(index)
        assert index.by_name("jcm-renamed")["Id"] == "a" * 12
        assert index.by_name("jcm-" + "a" * 12) is None
        # Another owner's container is never in it.
        engine.containers["c" * 12] = attrs("c" * 12, owner="bob")
        engine.emit("start", "c" * 12)
        await settle(index)
        assert "c" * 12 not in statuses(index)
    finally:
        await index.close()
        await tasks.close()


def test_an_older_answer_never_undoes_a_newer_one():
    index = ContainerIndex(FakeEngine(), OWNER)
    early, late = index.stamp(), index.stamp()
    index.store("d" * 12, attrs("d" * 12, "exited"), late)
    index.store("d" * 12, attrs("d" * 12, "running"), early)  # asked first, answered last
    assert statuses(index) == {"d" * 12: "exited"}
    index.store("d" * 12, None, index.stamp())  # removed
    index.store("d" * 12, attrs("d" * 12), late)  # an inspect from before the removal
    assert statuses(index) == {}
    # A create event's entry gives way to any inspect, even one asked before it came.
    asked = index.stamp()
    index._apply({"Action": "create", "Actor": {"ID": "e" * 12, "Attributes": {
        "name": "jcm-x", "image": "img", LABEL_ID: "x", LABEL_OWNER: OWNER}}})
    assert statuses(index) == {"e" * 12: "created"}
    index.store("e" * 12, attrs("e" * 12, "running"), asked)
    assert statuses(index) == {"e" * 12: "running"}


async def test_a_gap_in_the_stream_makes_it_stale_until_rebuilt():
    engine = FakeEngine()
    engine.containers = {"a" * 12: attrs("a" * 12), "b" * 12: attrs("b" * 12)}
    index, tasks = await started(engine)
    try:
        # The stream breaks; meanwhile one container goes and another comes.
        gate = engine.inspect_gate = asyncio.Event()  # hold the rebuild
        engine.queue.put_nowait(BREAK)
        del engine.containers["a" * 12]
        engine.containers["f" * 12] = attrs("f" * 12)
        await asyncio.sleep(0.01)
        assert not index.fresh
        gate.set()
        engine.inspect_gate = None
        assert await index.wait_fresh(2)
        assert engine.subscriptions == 2 and index.rebuilds == 2
        assert set(statuses(index)) == {"b" * 12, "f" * 12}
        # An inspect that fails (the engine went) is a gap too; the engine's return ends it.
        engine.down = True
        engine.emit("start", "b" * 12)
        await settle(index)
        assert not index.fresh
        engine.down = False
        assert await index.wait_fresh(3)
        assert index.rebuilds == 3
    finally:
        await index.close()
        await tasks.close()
    assert not index.fresh
