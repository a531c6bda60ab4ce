"""The EngineBackend of a Docker Swarm: each managed container is a service of one task,
and every operation on a container goes to the engine of the node that runs it.

Composition, not a second engine client: the manager node's engine (services, tasks,
nodes) and each node's engine (the task's container: inspect, exec, archives, stop and
start) are :class:`DockerBackend` objects, so exec streams, archives and error
translation are DockerBackend's own.

- Where a container is: a service name (``jcm-<id>``, what the lifecycle looks up) is
  found through the manager's task list (the task's node and container id); a container
  id through its node. The answers are kept as hints (routing only, checked by every
  call: a container gone from its node is looked up again); the state stays in the
  labels, so a restarted server finds every container on every node.
- Which engine runs a node: ``swarm_node_engines`` (URLs; each engine is asked its swarm
  node id), and nodes labelled ``jupyter-container-manager.engine=<URL>``.
- Stop, start, restart, kill act on the task's container on its node's engine. The
  service's restart condition is "none", so Swarm records a stopped container's task as
  ended and never replaces it with a new, empty container; a start runs the same
  container again (files kept). The service is the placement and the removal handle:
  remove deletes the service, then the container on its node.
- A node whose engine does not answer: its containers answer status "error" (an
  inspect with ``State.Status`` "dead" and the reason in ``State.Error``), found
  through the manager's task list; delete removes their service.
- Previews: a node's container addresses are not routable from this server, so
  ``address_of`` answers "" and the preview proxy connects through the container's agent
  (engine/port_tunnel.py).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

import docker.errors

from ..core.errors import ContainerManagerError, EngineUnavailable, Unprocessable
from ..core.models import ContainerInfo
from .backend import BackendConflict, BackendNotFound, BackendRefused, ContainerSpec
from .docker_backend import DockerBackend, ExecResult, ExecStream
from .engine_address import EngineAddress
from .swarm_create import LABEL_ENGINE, LABEL_IMAGE, TASK_ENDED, SwarmCreation

_DOCKER_ID = re.compile(r"^[0-9a-f]{12,64}$")
_HINTS = 4096  # routing hints kept (containers, execs); a miss asks the nodes again
REDISCOVER_AFTER = 5.0  # seconds between two discoveries of the nodes' engines
TASK_POLL = 0.05  # seconds between two looks at a new service's task


class _Hints(OrderedDict):
    """A bounded map: the oldest entries go first."""

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _HINTS:
            self.popitem(last=False)


class SwarmBackend:
    """Containers as one-task services of a swarm (see the module's text)."""

    def __init__(self, manager_url: str | EngineAddress, node_urls: list[str], *, workers: int = 8,
                 timeout: float = 60.0, creation: SwarmCreation | None = None,
                 start_timeout: float = 60.0):
        self.timeout = timeout
        self._workers = workers
        self._creation = creation
        self.start_timeout = start_timeout
        self._engines: dict[str, DockerBackend] = {}
        self.manager = self._engine(manager_url)
        self.url = f"swarm (manager {self.manager.url})"
        for url in node_urls:
            self._engine(url)
        self._nodes: dict[str, str] = {}  # swarm node id -> engine URL
        self._discovered_at = 0.0
        self._discover_lock = asyncio.Lock()
        self._where: _Hints = _Hints()  # ref (name or container id) -> (URL, container id)
        self._services: _Hints = _Hints()  # container id -> service id
        self._execs: _Hints = _Hints()  # exec id -> URL

    def _engine(self, url: str | EngineAddress) -> DockerBackend:
        engine = DockerBackend(url, workers=self._workers, timeout=self.timeout)
        return self._engines.setdefault(engine.url, engine)

    # --- nodes -----------------------------------------------------------------------

    async def discover(self, *, force: bool = False) -> dict[str, str]:
        """Swarm node id -> engine URL: each known engine's own node id, and the
        nodes labelled with their engine's URL."""
        async with self._discover_lock:
            if not force and self._nodes and time.monotonic() - self._discovered_at < REDISCOVER_AFTER:
                return self._nodes
            try:
                for node in await self.manager.read(lambda c: c.api.nodes()):
                    url = ((node.get("Spec") or {}).get("Labels") or {}).get(LABEL_ENGINE)
                    if url:
                        self._engine(url)
            except (ContainerManagerError, docker.errors.APIError):
                pass  # the manager is down: the engines still say who they are
            engines = list(self._engines.values())
            answers = await asyncio.gather(
                *(e.read(lambda c: c.info()["Swarm"]["NodeID"]) for e in engines),
                return_exceptions=True,
            )
            for engine, node_id in zip(engines, answers):
                if isinstance(node_id, str) and node_id:
                    self._nodes[node_id] = engine.url
            self._discovered_at = time.monotonic()
            return self._nodes

    async def _engine_of_node(self, node_id: str) -> DockerBackend | None:
        if node_id not in self._nodes:
            await self.discover()
        url = self._nodes.get(node_id)
        return self._engines.get(url) if url else None

    # --- where a container is --------------------------------------------------------

    async def _tasks(self, **filters) -> list[dict]:
        def tasks(client):
            try:
                return client.api.tasks(filters=filters)
            except docker.errors.NotFound:
                return []
            except docker.errors.APIError as err:
                if "not found" in str(err.explanation or "").lower():
                    return []
                raise

        return await self.manager.read(tasks)

    @staticmethod
    def _current(tasks: list[dict]) -> dict | None:
        """The newest task of a one-task service."""
        return max(tasks, key=lambda t: (t.get("Version") or {}).get("Index", 0), default=None)

    async def _task_of(self, ref: str) -> dict | None:
        """The task of the container ``ref`` (a service name or a container id), from
        the manager; None when the swarm has none."""
        if _DOCKER_ID.match(ref):
            for task in await self._tasks(**{"desired-state": ["running", "shutdown"]}):
                cid = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID", "")
                if cid.startswith(ref):
                    return task
            return None
        # A removed service's tasks stay (desired state "remove") until their node
        # confirms; a node that is down never does: they are gone for us.
        tasks = [t for t in await self._tasks(service=ref) if t.get("DesiredState") != "remove"]
        return self._current(tasks)

    async def _locate(self, ref: str) -> tuple[DockerBackend | None, str, dict | None]:
        """``(engine, container id, task)``: the engine of the node that runs ``ref``
        (None when that node has no known engine or its task has no container yet).
        BackendNotFound when the swarm has no such container."""
        if ref in self._where:
            url, cid = self._where[ref]
            return self._engines[url], cid, None
        if _DOCKER_ID.match(ref):
            engines = list(self._engines.values())
            found = await asyncio.gather(*(e.inspect(ref) for e in engines), return_exceptions=True)
            for engine, attrs in zip(engines, found):
                if isinstance(attrs, dict):
                    self._remember(ref, engine, attrs["Id"])
                    return engine, attrs["Id"], None
        task = await self._task_of(ref)
        if task is None:
            raise BackendNotFound(f"No such container: {ref}")
        cid = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID", "")
        engine = await self._engine_of_node(task.get("NodeID", "")) if task.get("NodeID") else None
        if cid and task.get("ServiceID"):
            self._services.put(cid, task["ServiceID"])
        if engine is not None and cid:
            self._remember(ref, engine, cid)
        return engine, cid, task

    def _remember(self, ref: str, engine: DockerBackend, cid: str) -> None:
        self._where.put(ref, (engine.url, cid))
        self._where.put(cid, (engine.url, cid))

    def _forget(self, *refs: str) -> None:
        for ref in refs:
            self._where.pop(ref, None)

    async def _route(self, ref: str) -> tuple[DockerBackend, str]:
        """The engine and container id for an operation on ``ref``: BackendNotFound when
        there is no such container, EngineUnavailable when its node does not answer."""
        engine, cid, task = await self._locate(ref)
        if engine is None or not cid:
            raise self._unreachable(task)
        return engine, cid

    def _unreachable(self, task: dict | None) -> ContainerManagerError:
        if task is not None and not task.get("NodeID"):
            return Unprocessable(f"The container is not placed on a node yet: {self._task_error(task)}")
        node = (task or {}).get("NodeID", "?")
        return EngineUnavailable(
            f"No engine answers for swarm node {node}: it is down, or it is missing from "
            "c.ContainerManager.swarm_node_engines (or its node label "
            f"{LABEL_ENGINE})."
        )

    @staticmethod
    def _task_error(task: dict) -> str:
        status = task.get("Status") or {}
        return status.get("Err") or status.get("Message") or status.get("State") or "unknown"

    # --- answers in Docker's shapes --------------------------------------------------

    @staticmethod
    def _answer(attrs: dict) -> dict:
        """A node's inspect, with the image as the caller named it."""
        config = attrs.get("Config") or {}
        image = (config.get("Labels") or {}).get(LABEL_IMAGE)
        if image:
            config["Image"] = image
        return attrs

    @staticmethod
    def _summary(summary: dict) -> dict:
        image = (summary.get("Labels") or {}).get(LABEL_IMAGE)
        if image:
            summary["Image"] = image
        return summary

    def _lost(self, task: dict, reason: str) -> dict:
        """The inspect of a container whose node does not answer: status "error"."""
        spec = (task.get("Spec") or {}).get("ContainerSpec") or {}
        labels = dict(spec.get("Labels") or {})
        status = task.get("Status") or {}
        cid = (status.get("ContainerStatus") or {}).get("ContainerID", "")
        return {
            "Id": cid,
            "Name": f"/{task.get('ServiceID', '')}",
            "Created": task.get("CreatedAt", ""),
            "Config": {"Labels": labels, "Image": labels.get(LABEL_IMAGE, spec.get("Image", ""))},
            "State": {"Status": "dead", "Running": False, "Error": reason},
            "HostConfig": {},
            "NetworkSettings": {},
        }

    # --- containers ------------------------------------------------------------------

    async def create(self, spec: ContainerSpec) -> dict:
        """A service of one task for ``spec``; its container's inspect once it runs and
        is prepared (swarm_create.py). The service is removed again when it fails."""
        if self._creation is None:
            raise BackendRefused("this backend was built without a way to create containers")
        await self.discover()
        service_id, image_id, ids = await self.manager.run(self._creation.create_service, spec)
        try:
            engine, cid = await self._running_task(service_id, spec.name)
            await engine.run(self._creation.prepare, cid, spec, image_id, ids)
            attrs = await engine.inspect(cid)
            if attrs is None:
                raise Unprocessable("The container ended before it could be used.")
        except BaseException:
            await asyncio.shield(self._remove_service(service_id))
            raise
        self._services.put(attrs["Id"], service_id)
        self._remember(spec.name, engine, attrs["Id"])
        return self._answer(attrs)

    async def _running_task(self, service_id: str, name: str) -> tuple[DockerBackend, str]:
        """Wait until the service's task runs: its node's engine and container id."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        task = None
        while loop.time() < deadline:
            task = self._current(await self._tasks(service=service_id))
            status = (task or {}).get("Status") or {}
            state = status.get("State", "")
            if state in TASK_ENDED:
                raise Unprocessable(f"The swarm could not start the container: {self._task_error(task)}")
            cid = (status.get("ContainerStatus") or {}).get("ContainerID", "")
            if state == "running" and cid:
                engine = await self._engine_of_node(task.get("NodeID", ""))
                if engine is None:
                    await self.discover(force=True)
                    engine = await self._engine_of_node(task.get("NodeID", ""))
                if engine is None:
                    raise self._unreachable(task)
                return engine, cid
            await asyncio.sleep(TASK_POLL)
        reason = self._task_error(task) if task else "no task"
        raise Unprocessable(f"The swarm did not start the container within "
                            f"{self.start_timeout:g} s: {reason}")

    async def _remove_service(self, service_id: str) -> bool:
        """Remove a service; False when it was gone already."""
        def remove(client):
            try:
                client.api.remove_service(service_id)
                return True
            except docker.errors.NotFound:
                return False

        return await self.manager.run(DockerBackend._translated(remove))

    async def list(self, labels: dict[str, str | None]) -> list[dict]:
        """Every container with these labels on every node; those of nodes that do not
        answer come from the manager's task list, as "dead" (status "error")."""
        engines = list(self._engines.values())
        answers = await asyncio.gather(*(e.list(labels) for e in engines), return_exceptions=True)
        found, down = [], []
        for engine, answer in zip(engines, answers):
            if isinstance(answer, EngineUnavailable):
                down.append(engine.url)
                continue
            if isinstance(answer, BaseException):
                raise answer
            for summary in answer:
                self._where.put(summary["Id"], (engine.url, summary["Id"]))
                found.append(self._summary(summary))
        if down:
            found += await self._lost_summaries(labels, down)
        return found

    async def _lost_summaries(self, labels: dict[str, str | None], urls: list[str]) -> list[dict]:
        nodes = await self.discover()
        lost_nodes = {node for node, url in nodes.items() if url in urls}
        try:
            tasks = await self._tasks(**{"desired-state": ["running", "shutdown"]})
        except ContainerManagerError:
            return []  # the manager is down too: nothing more is known
        summaries = {}
        for task in tasks:
            spec_labels = ((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels") or {}
            if task.get("NodeID") not in lost_nodes or not all(
                key in spec_labels and (value is None or spec_labels[key] == value)
                for key, value in labels.items()
            ):
                continue
            attrs = self._lost(task, "its swarm node does not answer")
            service = task.get("ServiceID", "")
            if attrs["Id"] and (service not in summaries or
                                task["Version"]["Index"] > summaries[service][0]):
                self._services.put(attrs["Id"], service)
                summaries[service] = (task["Version"]["Index"], {
                    "Id": attrs["Id"], "Names": [attrs["Name"]], "Labels": spec_labels,
                    "Image": attrs["Config"]["Image"], "State": "dead",
                    "Status": "its swarm node does not answer", "Created": 0,
                })
        return [summary for _, summary in summaries.values()]

    async def inspect(self, ref: str) -> dict | None:
        """The container's inspect from its node; a "dead" one (status "error") when its
        node does not answer; None when the swarm has no such container."""
        for attempt in range(2):
            try:
                engine, cid, task = await self._locate(ref)
            except BackendNotFound:
                return None
            if engine is None or not cid:
                if task is None or not cid:
                    return None  # not placed or started yet: not there
                return self._lost(task, "no engine known for its swarm node")
            try:
                attrs = await engine.inspect(cid)
            except EngineUnavailable:
                task = task or await self._task_of(cid)
                if task is None:
                    return None
                return self._lost(task, "its swarm node does not answer")
            if attrs is not None:
                return self._answer(attrs)
            self._forget(ref, cid)  # gone from its node: ask the swarm again once
        return None

    async def start(self, ref: str) -> None:
        engine, cid = await self._route(ref)
        await engine.start(cid)

    async def stop(self, ref: str, timeout: float) -> None:
        engine, cid = await self._route(ref)
        await engine.stop(cid, timeout)

    async def restart(self, ref: str, timeout: float) -> None:
        engine, cid = await self._route(ref)
        await engine.restart(cid, timeout)

    async def kill(self, ref: str, signal: str) -> None:
        engine, cid = await self._route(ref)
        await engine.kill(cid, signal)

    async def remove(self, ref: str) -> None:
        """Remove the container's service, then the container on its node (at once,
        not when the node's swarm agent gets to it). BackendNotFound when both are gone."""
        try:
            engine, cid, task = await self._locate(ref)
        except BackendNotFound:
            engine, cid, task = None, ref if _DOCKER_ID.match(ref) else "", None
        service = self._services.get(cid) or (task or {}).get("ServiceID")
        if not service and cid:
            found = await self._task_of(cid)
            service = (found or {}).get("ServiceID")
        removed = bool(service) and await self._remove_service(service)
        self._services.pop(cid, None)
        self._forget(ref, cid)
        if engine is not None and cid:
            try:
                await engine.remove(cid)
                removed = True
            except (BackendNotFound, EngineUnavailable):
                pass  # the node's agent removed it already, or removes it when it is back
            except BackendConflict:
                removed = True  # the node's agent is removing it
        if not removed:
            raise BackendNotFound(f"No such container: {ref}")

    async def rename(self, ref: str, name: str) -> None:
        raise BackendRefused("a swarm service cannot be renamed (no warm pool on swarm)", 409)

    async def put_archive(self, ref: str, path: str, data: bytes) -> None:
        engine, cid = await self._route(ref)
        await engine.put_archive(cid, path, data)

    async def get_archive(self, ref: str, path: str) -> bytes:
        engine, cid = await self._route(ref)
        return await engine.get_archive(cid, path)

    async def events(self, labels: dict[str, str | None]) -> AsyncIterator[dict]:
        """The container events of every node, merged as they come."""
        queue: asyncio.Queue = asyncio.Queue()
        done = object()

        async def pump(engine: DockerBackend) -> None:
            try:
                async for event in engine.events(labels):
                    await queue.put(event)
            except Exception:  # noqa: BLE001 - a node that goes away ends its stream only
                pass
            finally:
                await queue.put(done)

        pumps = [asyncio.ensure_future(pump(e)) for e in list(self._engines.values())]
        running = len(pumps)
        try:
            while running:
                event = await queue.get()
                if event is done:
                    running -= 1
                    continue
                yield event
        finally:
            for p in pumps:
                p.cancel()

    def address_of(self, info: ContainerInfo) -> str:
        """None routable from here: previews go through the container's agent."""
        return ""

    # --- exec --------------------------------------------------------------------------

    async def exec_create(self, ref: str, argv: list[str], *, stdin: bool = False,
                          tty: bool = False, env: dict[str, str] | None = None,
                          workdir: str | None = None, user: str = "") -> str:
        engine, cid = await self._route(ref)
        exec_id = await engine.exec_create(cid, argv, stdin=stdin, tty=tty, env=env,
                                           workdir=workdir, user=user)
        self._execs.put(exec_id, engine.url)
        return exec_id

    async def stats(self, ref: str, *, stream: bool = True) -> AsyncIterator[dict]:
        """The stats of the container, from the engine of the node that runs it."""
        engine, cid = await self._route(ref)
        async for reading in engine.stats(cid, stream=stream):
            yield reading

    async def logs(self, ref: str, *, tail: int | None = None) -> bytes:
        engine, cid = await self._route(ref)
        return await engine.logs(cid, tail=tail)

    async def disk_size(self, ref: str) -> int | None:
        engine, cid = await self._route(ref)
        return await engine.disk_size(cid)

    async def _exec_engine(self, exec_id: str) -> DockerBackend:
        url = self._execs.get(exec_id)
        if url is not None:
            return self._engines[url]
        engines = list(self._engines.values())
        found = await asyncio.gather(*(e.exec_inspect(exec_id) for e in engines),
                                     return_exceptions=True)
        for engine, answer in zip(engines, found):
            if isinstance(answer, dict):
                self._execs.put(exec_id, engine.url)
                return engine
        raise docker.errors.NotFound(f"No such exec instance: {exec_id}")

    async def exec_start(self, exec_id: str, *, tty: bool = False) -> ExecStream:
        return await (await self._exec_engine(exec_id)).exec_start(exec_id, tty=tty)

    async def exec_inspect(self, exec_id: str) -> dict:
        return await (await self._exec_engine(exec_id)).exec_inspect(exec_id)

    async def exec_resize(self, exec_id: str, *, rows: int, cols: int) -> None:
        await (await self._exec_engine(exec_id)).exec_resize(exec_id, rows=rows, cols=cols)

    async def exec_run(self, ref: str, argv: list[str], *, stdin: bytes | None = None,
                       env: dict[str, str] | None = None, workdir: str | None = None,
                       limit: int | None = None) -> ExecResult:
        engine, cid = await self._route(ref)
        return await engine.exec_run(cid, argv, stdin=stdin, env=env, workdir=workdir,
                                     limit=limit)

    async def close(self) -> None:
        await asyncio.gather(*(e.close() for e in self._engines.values()),
                             return_exceptions=True)
