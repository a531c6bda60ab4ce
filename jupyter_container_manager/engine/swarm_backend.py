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
  node id), and nodes labelled ``jupyter-container-manager.engine=<URL>``. A ``tcp://``
  engine is spoken to with the TLS material ``swarm_node_tls`` gives it (swarm_tls.py).
- Stop, start, restart, kill act on the task's container on its node's engine. The
  service's restart condition is "none", so Swarm records a stopped container's task as
  ended and never replaces it with a new, empty container; a start runs the same
  container again (files kept). The service is the placement and the removal handle:
  remove deletes the service, then the container on its node.
- A node whose engine does not answer (refused, or silent for ``node_timeout``
  seconds): its containers answer status "lost" (an inspect with ``State.Status``
  "lost" and, in ``State.Error``, which node and why), found through the manager's task
  list; operations on them answer 503 naming the node; delete removes their service.
  The node is then not asked again (its containers answer at once) until it answers a
  probe: while the container index follows the events, every node's engine is pinged
  every ``PROBE_EVERY`` seconds, and a node that goes down or comes back ends the
  merged event stream, so the index rebuilds from the nodes that answer and the task
  list. Nothing is recreated: the services' restart condition is "none".
- The warm pool: a pooled container is the task of a ``jcm-pool-<id>`` service; its
  hand-out is a label on that service, not a rename (swarm_pool.py).
- Previews: a node's container addresses are not routable from this server, so
  ``address_of`` answers "" and the preview proxy connects through the container's agent
  (engine/port_tunnel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import docker.errors
import requests.exceptions

from ..core.errors import ContainerManagerError, EngineUnavailable, Unprocessable
from ..core.models import LABEL_ID, POOL_NAME_PREFIX, STATE_LOST, ContainerInfo, pool_name
from .backend import (
    SUBSCRIBED,
    BackendConflict,
    BackendNotFound,
    BackendRefused,
    ContainerSpec,
)
from .docker_backend import DockerBackend, ExecResult, ExecStream
from .engine_address import EngineAddress
from .swarm_create import LABEL_ENGINE, LABEL_IMAGE, TASK_ENDED, SwarmCreation
from .swarm_pool import hand_out, handed_out, is_pool_service, name_of, pool_ref
from .swarm_tls import tls_for

if TYPE_CHECKING:
    from docker.tls import TLSConfig

_DOCKER_ID = re.compile(r"^[0-9a-f]{12,64}$")
LABEL_SERVICE_ID = "com.docker.swarm.service.id"  # Swarm's, on every task's container
_HINTS = 4096  # routing hints kept (containers, execs); a miss asks the nodes again
REDISCOVER_AFTER = 5.0  # seconds between two discoveries of the nodes' engines
TASK_POLL = 0.05  # seconds between two looks at a new service's task
PROBE_EVERY = 2.0  # seconds between two pings of every node's engine (while events follow)
DOWN_FOR = 5.0  # seconds a node that failed is not asked again when nothing probes it
NODE_TIMEOUT = 10.0  # default seconds a node's engine may be silent before it counts as down
# The scheduler's word for a task no node can take (constraints, resources): the create
# fails at once (422) instead of waiting swarm_start_timeout.
NO_NODE = "no suitable node"
_HEALTH = object()  # an item of the merged event stream: a node went down or came back

T = TypeVar("T")


class _Hints(OrderedDict):
    """A bounded map: the oldest entries go first."""

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _HINTS:
            self.popitem(last=False)


class SwarmBackend:
    """Containers as one-task services of a swarm (see the module's text)."""

    def __init__(self, manager_url: str | EngineAddress, node_urls: list[str], *,
                 workers: int = 8,
                 timeout: float = 60.0, creation: SwarmCreation | None = None,
                 start_timeout: float = 60.0, node_timeout: float = NODE_TIMEOUT,
                 tls: Mapping[str, TLSConfig] | None = None):
        self.timeout = timeout
        self.node_timeout = node_timeout
        self._workers = workers
        self._creation = creation
        self.start_timeout = start_timeout
        self._tls = dict(tls or {})  # engine URL (or "*") -> TLS material (swarm_tls.py)
        self._engines: dict[str, DockerBackend] = {}  # the nodes' engines, by URL
        # The swarm's API (services, tasks, nodes), with the engine's own timeout; its
        # node's containers go through ``_engines`` like every node's. ``manager_url``
        # may be an address that carries its own TLS (from the environment): its node's
        # engine gets the same.
        if isinstance(manager_url, str):
            manager_url = self._address(manager_url)
        elif getattr(manager_url, "tls", None) is not None:
            self._tls.setdefault(manager_url.url, manager_url.tls)
        self.manager = DockerBackend(manager_url, workers=workers, timeout=timeout)
        self._engine(self.manager.url)
        self.url = f"swarm (manager {self.manager.url})"
        for url in node_urls:
            self._engine(url)
        self._nodes: dict[str, str] = {}  # swarm node id -> engine URL
        self._hostnames: dict[str, str] = {}  # swarm node id -> its host's name
        self._down: dict[str, tuple[float, str]] = {}  # engine URL -> (when, why) it failed
        self._probing = 0  # event streams that probe the nodes now
        self._listeners: set[asyncio.Queue] = set()  # of the merged event streams
        self._discovered_at = 0.0
        self._discover_lock = asyncio.Lock()
        self._where: _Hints = _Hints()  # ref (name or container id) -> (URL, container id)
        self._services: _Hints = _Hints()  # container id -> service id
        self._gone_services: _Hints = _Hints()  # ids of services removed, or found gone
        # Pool services (swarm_pool.py): seen, and seen handed out (which never reverts).
        self._pool_services: _Hints = _Hints()
        self._handed_out: _Hints = _Hints()
        self._nudges: set[asyncio.Task] = set()  # hand-outs' container events (rename)
        self._execs: _Hints = _Hints()  # exec id -> URL

    def _engine(self, url: str) -> DockerBackend:
        if url not in self._engines:
            engine = DockerBackend(self._address(url), workers=self._workers,
                                   timeout=self.node_timeout)
            self._engines.setdefault(engine.url, engine)
        return self._engines[url]

    def _address(self, url: str) -> str | EngineAddress:
        """What DockerBackend takes for the engine at ``url``: the URL, or, for an engine
        with TLS material, its address with that material (engine_address.py, where the
        engine's TLS transport lives)."""
        tls = tls_for(self._tls, url)
        if tls is None:
            return url
        return EngineAddress(url, tls, "c.ContainerManager.swarm_node_tls")

    # --- nodes -----------------------------------------------------------------------

    async def discover(self, *, force: bool = False) -> dict[str, str]:
        """Swarm node id -> engine URL: each known engine's own node id, and the
        nodes labelled with their engine's URL."""
        async with self._discover_lock:
            recent = time.monotonic() - self._discovered_at < REDISCOVER_AFTER
            if not force and self._nodes and recent:
                return self._nodes
            try:
                for node in await self.manager.read(lambda c: c.api.nodes()):
                    hostname = ((node.get("Description") or {}).get("Hostname")) or ""
                    self._hostnames[node.get("ID", "")] = hostname
                    url = ((node.get("Spec") or {}).get("Labels") or {}).get(LABEL_ENGINE)
                    if url:
                        self._engine(url)
            except (ContainerManagerError, docker.errors.APIError):
                pass  # the manager is down: the engines still say who they are
            engines = [e for e in self._engines.values() if not self._is_down(e.url)]
            answers = await asyncio.gather(
                *(self._on(e, lambda e=e: e.read(lambda c: c.info()["Swarm"]["NodeID"]))
                  for e in engines),
                return_exceptions=True,
            )
            for engine, node_id in zip(engines, answers, strict=True):
                if isinstance(node_id, str) and node_id:
                    self._nodes[node_id] = engine.url
            self._discovered_at = time.monotonic()
            return self._nodes

    # --- nodes that do not answer -------------------------------------------------------

    def _is_down(self, url: str) -> bool:
        """Whether the node of engine ``url`` failed and is not to be asked now: until
        a probe finds it answering, or, when nothing probes, for DOWN_FOR seconds."""
        mark = self._down.get(url)
        return mark is not None and (self._probing > 0 or time.monotonic() - mark[0] < DOWN_FOR)

    def _failed(self, engine: DockerBackend, err: BaseException) -> EngineUnavailable:
        """Mark ``engine``'s node down (``err`` says why): the error to answer."""
        known = engine.url in self._down
        self._down[engine.url] = (time.monotonic(), self._why(err))
        if not known:
            self._health_changed()
        return self._node_unavailable(engine.url)

    def _answered(self, engine: DockerBackend) -> None:
        if self._down.pop(engine.url, None) is not None:
            self._health_changed()

    def _health_changed(self) -> None:
        for queue in self._listeners:
            queue.put_nowait(_HEALTH)

    def _why(self, err: BaseException) -> str:
        cause = err if not isinstance(err, EngineUnavailable) else (err.__cause__ or err)
        if isinstance(cause, (requests.exceptions.Timeout, asyncio.TimeoutError, TimeoutError)):
            return f"no answer within {self.node_timeout:g} s"
        text = str(cause)
        for words, said in (("refused", "connection refused"),
                            ("No such file", "its socket is gone"),
                            ("timed out", f"no answer within {self.node_timeout:g} s")):
            if words in text:
                return said
        return f"{type(cause).__name__}: {text[:160]}" if text else type(cause).__name__

    def node_of_engine(self, url: str) -> str:
        """How messages name the node of engine ``url``: its swarm node id, host name and
        engine."""
        ids = [node for node, known in self._nodes.items() if known == url]
        if not ids:
            return f"the swarm node of engine {url}"
        host = self._hostnames.get(ids[0], "")
        return f"swarm node {ids[0][:12]}{f' ({host})' if host else ''} at {url}"

    def _down_reason(self, url: str) -> str:
        why = self._down.get(url, (0.0, "it does not answer"))[1]
        return f"{self.node_of_engine(url)} does not answer ({why})"

    def _node_unavailable(self, url: str) -> EngineUnavailable:
        return EngineUnavailable(
            f"The Docker engine of {self._down_reason(url)}. Its containers answer status "
            "lost until it does; the other nodes' containers are not affected."
        )

    async def _on(self, engine: DockerBackend, call: Callable[[], Awaitable[T]]) -> T:
        """``await call()`` on ``engine``'s node: at once the node's EngineUnavailable
        when it is down; a call it does not answer marks it down."""
        if self._is_down(engine.url):
            raise self._node_unavailable(engine.url)
        try:
            answer = await call()
        except EngineUnavailable as err:
            raise self._failed(engine, err) from err
        self._answered(engine)
        return answer

    async def _probe(self, engine: DockerBackend) -> bool:
        """Ping ``engine``: whether it answers (its node is marked up or down)."""
        try:
            await engine.read(lambda c: c.ping())
        except Exception as err:  # noqa: BLE001 - any failure: the node is down
            self._failed(engine, err)
            return False
        self._answered(engine)
        return True

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
        the manager; None when the swarm has none. A removed service's tasks stay
        (desired state "remove", set a moment after the removal) until their node
        confirms, which a node that is down never does: they are gone for us."""
        if _DOCKER_ID.match(ref):
            for task in self._live(await self._tasks(**{"desired-state": ["running", "shutdown"]})):
                status = (task.get("Status") or {}).get("ContainerStatus") or {}
                if status.get("ContainerID", "").startswith(ref):
                    return task
            return None
        task = self._current(self._live(await self._tasks(service=ref)))
        if task is None and pool_ref(ref):  # a warm-pool container handed out as ``ref``?
            task = self._current(self._live(await self._tasks(service=pool_ref(ref))))
            if task is not None and not await self._is_handed_out(task.get("ServiceID", "")):
                return None
        return task

    async def _is_handed_out(self, service_id: str) -> bool:
        """Whether the pool service ``service_id`` was handed out (its label, asked of the
        manager unless known: a hand-out never reverts). False when the manager does not
        answer."""
        if not service_id or service_id in self._handed_out:
            return bool(service_id)

        def inspect(client):
            try:
                return client.api.inspect_service(service_id)
            except docker.errors.NotFound:
                return None

        try:
            service = await self.manager.read(inspect)
        except (ContainerManagerError, docker.errors.APIError):
            return False
        if service is not None and handed_out(service):
            self._handed_out.put(service_id, True)
            return True
        return False

    def _live(self, tasks: list[dict]) -> list[dict]:
        """The tasks of services not removed."""
        return [t for t in tasks if t.get("DesiredState") != "remove"
                and t.get("ServiceID") not in self._gone_services]

    async def _locate(self, ref: str) -> tuple[DockerBackend | None, str, dict | None]:
        """``(engine, container id, task)``: the engine of the node that runs ``ref``
        (None when that node has no known engine or its task has no container yet).
        BackendNotFound when the swarm has no such container."""
        if ref in self._where:
            url, cid = self._where[ref]
            return self._engines[url], cid, None
        if _DOCKER_ID.match(ref):
            engines = [e for e in self._engines.values() if not self._is_down(e.url)]
            found = await asyncio.gather(
                *(self._on(e, lambda e=e: e.inspect(ref)) for e in engines),
                return_exceptions=True)
            for engine, attrs in zip(engines, found, strict=True):
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
        """Forget where these are, and every other name of the same containers."""
        cids = {self._where[ref][1] for ref in refs if ref in self._where} | set(refs)
        for ref in [ref for ref, (_, cid) in self._where.items() if cid in cids]:
            del self._where[ref]
        for ref in refs:
            self._where.pop(ref, None)

    async def _route(self, ref: str) -> tuple[DockerBackend, str]:
        """The engine and container id for an operation on ``ref``: BackendNotFound when
        there is no such container, EngineUnavailable when its node does not answer."""
        engine, cid, task = await self._locate(ref)
        if engine is None or not cid:
            raise self._unreachable(task)
        if self._is_down(engine.url):
            raise self._node_unavailable(engine.url)
        return engine, cid

    def _unreachable(self, task: dict | None) -> ContainerManagerError:
        if task is not None and not task.get("NodeID"):
            return Unprocessable("The container is not placed on a node yet: "
                                 f"{self._task_error(task)}")
        return EngineUnavailable(f"{self._no_engine(task)}. Its containers answer status lost.")

    def _no_engine(self, task: dict | None) -> str:
        node = (task or {}).get("NodeID", "?")
        host = self._hostnames.get(node, "")
        return (f"no engine answers for swarm node {node[:12]}{f' ({host})' if host else ''}: "
                "it is down, or it is missing from c.ContainerManager.swarm_node_engines "
                f"(or its node label {LABEL_ENGINE})")

    @staticmethod
    def _task_error(task: dict) -> str:
        status = task.get("Status") or {}
        return status.get("Err") or status.get("Message") or status.get("State") or "unknown"

    # --- answers in Docker's shapes --------------------------------------------------

    @staticmethod
    def _answer(attrs: dict, handed_out_services=()) -> dict:
        """A node's inspect, with the image as the caller named it, and named as its
        service (Swarm names the task's container ``<service>.1.<task id>``): the name
        the index and the lifecycle find a container by (a pool service's container:
        ``jcm-<id>`` once its service is among ``handed_out_services``, swarm_pool.py)."""
        config = attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        if labels.get(LABEL_IMAGE):
            config["Image"] = labels[LABEL_IMAGE]
        if labels.get(LABEL_ID):
            attrs["Name"] = "/" + name_of(labels,
                                          labels.get(LABEL_SERVICE_ID) in handed_out_services)
        return attrs

    @staticmethod
    def _summary(summary: dict, handed_out_services=()) -> dict:
        """A node's list entry, as :meth:`_answer` does an inspect."""
        labels = summary.get("Labels") or {}
        if labels.get(LABEL_IMAGE):
            summary["Image"] = labels[LABEL_IMAGE]
        if labels.get(LABEL_ID):
            summary["Names"] = ["/" + name_of(
                labels, labels.get(LABEL_SERVICE_ID) in handed_out_services)]
        return summary

    def _lost(self, task: dict, reason: str) -> dict:
        """The inspect of a container whose node does not answer: status "lost", the
        reason in ``State.Error``. Named as its service (and so its container) is."""
        spec = (task.get("Spec") or {}).get("ContainerSpec") or {}
        labels = dict(spec.get("Labels") or {})
        status = task.get("Status") or {}
        cid = (status.get("ContainerStatus") or {}).get("ContainerID", "")
        service = task.get("ServiceID", "")
        if labels.get(LABEL_ID) and service in self._pool_services \
                and service not in self._handed_out:
            name = pool_name(labels[LABEL_ID])
        elif labels.get(LABEL_ID):
            name = name_of(labels, True)
        else:
            name = service
        return {
            "Id": cid,
            "Name": f"/{name}",
            "Created": task.get("CreatedAt", ""),
            "Config": {"Labels": labels, "Image": labels.get(LABEL_IMAGE, spec.get("Image", ""))},
            "State": {"Status": STATE_LOST, "Running": False, "Error": reason},
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
            await self._on(engine, lambda: engine.run(self._creation.prepare, cid, spec,
                                                      image_id, ids))
            attrs = await self._on(engine, lambda: engine.inspect(cid))
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
                raise Unprocessable("The swarm could not start the container: "
                                    f"{self._task_error(task)}")
            if state == "pending" and NO_NODE in (status.get("Err") or ""):
                raise Unprocessable(
                    f"No node of the swarm can take the container: {status['Err']} (see "
                    "c.ContainerManager.swarm_placement_constraints, swarm_memory_reservation "
                    "and swarm_cpu_reservation).")
            cid = (status.get("ContainerStatus") or {}).get("ContainerID", "")
            if state == "running" and cid:
                engine = await self._engine_of_node(task.get("NodeID", ""))
                if engine is None:
                    await self.discover(force=True)
                    engine = await self._engine_of_node(task.get("NodeID", ""))
                if engine is None:
                    raise self._unreachable(task)
                if self._is_down(engine.url):
                    raise self._node_unavailable(engine.url)
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
        answer come from the manager's task list, as "lost". A container whose service
        is gone (deleted while its node was away: the node's Swarm agent removes it a
        while after the node is back) is not listed, and is removed on its node now."""
        engines = list(self._engines.values())
        answers = await asyncio.gather(*(self._on(e, lambda e=e: e.list(labels)) for e in engines),
                                       return_exceptions=True)
        listed, down = [], []
        for engine, answer in zip(engines, answers, strict=True):
            if isinstance(answer, EngineUnavailable):
                down.append(engine.url)
                continue
            if isinstance(answer, BaseException):
                raise answer
            listed += [(engine, summary) for summary in answer]
        # Asked after the nodes: a listed container's service was made before it.
        services = await self._service_ids(labels) if listed else set()
        found, orphans = [], []
        for engine, summary in listed:
            service = (summary.get("Labels") or {}).get(LABEL_SERVICE_ID)
            if services is not None and service and service not in services:
                self._gone_services.put(service, True)
                orphans.append((engine, summary["Id"]))
                continue
            self._where.put(summary["Id"], (engine.url, summary["Id"]))
            found.append(self._summary(summary, self._handed_out))
        await asyncio.gather(*(self._on(e, lambda e=e, c=c: e.remove(c)) for e, c in orphans),
                             return_exceptions=True)
        if down:
            found += await self._lost_summaries(labels, down)
        return found

    async def _service_ids(self, labels: dict[str, str | None]) -> set[str] | None:
        """The ids of the services with these labels; None when the manager does not say
        (then no container counts as an orphan)."""
        filters = {"label": [k if v is None else f"{k}={v}" for k, v in labels.items()]}
        try:
            services = await self.manager.read(lambda c: c.api.services(filters=filters))
        except (ContainerManagerError, docker.errors.APIError):
            return None
        for service in services:  # the warm pool's state, read on the way (swarm_pool.py)
            if str((service.get("Spec") or {}).get("Name", "")).startswith(POOL_NAME_PREFIX):
                self._pool_services.put(service["ID"], True)
                if handed_out(service):
                    self._handed_out.put(service["ID"], True)
        return {s["ID"] for s in services}

    async def _lost_summaries(self, labels: dict[str, str | None], urls: list[str]) -> list[dict]:
        nodes = await self.discover()
        lost_nodes = {node for node, url in nodes.items() if url in urls}
        try:
            tasks = await self._tasks(**{"desired-state": ["running", "shutdown"]})
        except ContainerManagerError:
            return []  # the manager is down too: nothing more is known
        summaries = {}
        for task in self._live(tasks):
            spec_labels = ((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels") or {}
            node = task.get("NodeID", "")
            if not node or (node not in lost_nodes and node in nodes) or not all(
                key in spec_labels and (value is None or spec_labels[key] == value)
                for key, value in labels.items()
            ):
                continue
            attrs = self._lost(task, self._down_reason(nodes[node]) if node in nodes
                               else self._no_engine(task))
            service = task.get("ServiceID", "")
            if attrs["Id"] and (service not in summaries or
                                task["Version"]["Index"] > summaries[service][0]):
                self._services.put(attrs["Id"], service)
                summaries[service] = (task["Version"]["Index"], {
                    "Id": attrs["Id"], "Names": [attrs["Name"]], "Labels": spec_labels,
                    "Image": attrs["Config"]["Image"], "State": STATE_LOST,
                    "Status": attrs["State"]["Error"], "Created": 0,
                })
        return [summary for _, summary in summaries.values()]

    async def inspect(self, ref: str) -> dict | None:
        """The container's inspect from its node; a "lost" one when its node does not
        answer; None when the swarm has no such container."""
        for _attempt in range(2):
            try:
                engine, cid, task = await self._locate(ref)
            except BackendNotFound:
                return None
            if engine is None or not cid:
                if task is None or not cid:
                    return None  # not placed or started yet: not there
                return self._lost(task, self._no_engine(task))
            try:
                attrs = await self._on(engine, lambda e=engine, c=cid: e.inspect(c))
            except EngineUnavailable:
                task = task or await self._task_of(cid)
                if task is None:
                    return None
                return self._lost(task, self._down_reason(engine.url))
            if attrs is not None:
                labels = (attrs.get("Config") or {}).get("Labels") or {}
                if labels.get(LABEL_SERVICE_ID) in self._gone_services:
                    return None  # deleted while its node was away; removed by list
                if is_pool_service(labels):
                    self._pool_services.put(labels.get(LABEL_SERVICE_ID), True)
                    await self._is_handed_out(labels.get(LABEL_SERVICE_ID, ""))
                return self._answer(attrs, self._handed_out)
            self._forget(ref, cid)  # gone from its node: ask the swarm again once
        return None

    async def start(self, ref: str) -> None:
        engine, cid = await self._route(ref)
        await self._on(engine, lambda: engine.start(cid))

    async def stop(self, ref: str, timeout: float) -> None:
        engine, cid = await self._route(ref)
        await self._on(engine, lambda: engine.stop(cid, timeout))

    async def restart(self, ref: str, timeout: float) -> None:
        engine, cid = await self._route(ref)
        await self._on(engine, lambda: engine.restart(cid, timeout))

    async def kill(self, ref: str, signal: str) -> None:
        engine, cid = await self._route(ref)
        await self._on(engine, lambda: engine.kill(cid, signal))

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
        if service:
            self._gone_services.put(service, True)
        self._services.pop(cid, None)
        self._forget(ref, cid)
        if engine is not None and cid:
            try:
                await self._on(engine, lambda: engine.remove(cid))
                removed = True
            except (BackendNotFound, EngineUnavailable):
                pass  # the node's agent removed it already, or removes it when it is back
            except BackendConflict:
                removed = True  # the node's agent is removing it
        if not removed:
            raise BackendNotFound(f"No such container: {ref}")

    async def rename(self, ref: str, name: str) -> None:
        """The warm pool's hand-out of a pooled container as ``name``: a label on its
        service, set in place and only once (swarm_pool.py); any other rename is refused
        (a swarm service cannot be renamed). BackendConflict when it was taken."""
        engine, cid, task = await self._locate(ref)
        service = self._services.get(cid) or (task or {}).get("ServiceID")
        if not service and engine is not None and cid:
            attrs = await self._on(engine, lambda: engine.inspect(cid))
            service = (((attrs or {}).get("Config") or {}).get("Labels") or {}).get(
                LABEL_SERVICE_ID)
        if not service:
            raise BackendNotFound(f"No such container: {ref}")
        await self.manager.run(hand_out, service, name)
        self._handed_out.put(service, True)
        if engine is not None and cid:
            self._remember(name, engine, cid)
            # A label change is no container event: an update that changes nothing is,
            # so other servers following the node's events look at the container again
            # and find it handed out. Not waited for: the hand-out is done.
            nudge = asyncio.ensure_future(self._nudge(engine, cid))
            self._nudges.add(nudge)
            nudge.add_done_callback(self._nudges.discard)

    async def _nudge(self, engine: DockerBackend, cid: str) -> None:
        """An update of the container that changes nothing: a container event on its node."""
        with contextlib.suppress(ContainerManagerError, BackendNotFound, BackendConflict,
                                 BackendRefused):
            await self._on(engine, lambda: engine.run(DockerBackend._translated(
                lambda client: client.api.update_container(cid))))

    async def put_archive(self, ref: str, path: str, data: bytes) -> None:
        engine, cid = await self._route(ref)
        await self._on(engine, lambda: engine.put_archive(cid, path, data))

    async def get_archive(self, ref: str, path: str) -> bytes:
        engine, cid = await self._route(ref)
        return await self._on(engine, lambda: engine.get_archive(cid, path))

    async def events(self, labels: dict[str, str | None]) -> AsyncIterator[dict]:
        """The container events of every node that answers, merged as they come; one
        SUBSCRIBED once each has its subscription (a node that does not subscribe
        within ``node_timeout`` is marked down and left out). While it is read, every
        node's engine is pinged every PROBE_EVERY seconds; the stream ends when a node
        goes down or comes back (a broken stream, a failed call or ping, a ping that
        answers again), so its reader rebuilds what it knows from :meth:`list`."""
        await self.discover()
        queue: asyncio.Queue = asyncio.Queue()
        self._listeners.add(queue)
        self._probing += 1
        engines = [e for e in self._engines.values() if not self._is_down(e.url)]
        streams = await asyncio.gather(*(self._subscribe(e, labels) for e in engines))
        pumps = [asyncio.ensure_future(self._pump(e, stream, queue))
                 for e, stream in zip(engines, streams, strict=True) if stream is not None]
        probe = asyncio.ensure_future(self._probe_every(PROBE_EVERY))
        try:
            while not queue.empty():  # a node went down or up while subscribing: no matter
                queue.get_nowait()
            yield {"status": SUBSCRIBED}
            while True:
                item = await queue.get()
                if item is _HEALTH:
                    return
                if isinstance(item, tuple):  # (engine, None): its stream ended
                    await self._probe(item[0])
                    return
                yield item
        finally:
            self._probing -= 1
            self._listeners.discard(queue)
            for task in (*pumps, probe):
                task.cancel()
            for task in (*pumps, probe):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _subscribe(self, engine: DockerBackend, labels: dict[str, str | None]):
        """``engine``'s event stream, once subscribed; None (its node marked down) when it
        does not subscribe within ``node_timeout``."""
        stream = engine.events(labels)
        try:
            first = await asyncio.wait_for(stream.__anext__(), self.node_timeout)
        except (Exception, asyncio.TimeoutError) as err:  # noqa: BLE001 - refused, silent
            with contextlib.suppress(Exception):
                await stream.aclose()
            self._failed(engine, err)
            return None
        if first.get("status") != SUBSCRIBED:  # an engine stream always begins so
            await stream.aclose()
            return None
        self._answered(engine)
        return stream

    @staticmethod
    async def _pump(engine: DockerBackend, stream, queue: asyncio.Queue) -> None:
        try:
            async for event in stream:
                queue.put_nowait(event)
        except Exception:  # noqa: BLE001 - the node went away: its stream ended
            pass
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        queue.put_nowait((engine, None))

    async def _probe_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await asyncio.gather(*(self._probe(e) for e in list(self._engines.values())))

    def address_of(self, info: ContainerInfo) -> str:
        """None routable from here: previews go through the container's agent."""
        return ""

    # --- exec --------------------------------------------------------------------------

    async def exec_create(self, ref: str, argv: list[str], *, stdin: bool = False,
                          tty: bool = False, env: dict[str, str] | None = None,
                          workdir: str | None = None, user: str = "") -> str:
        engine, cid = await self._route(ref)
        exec_id = await self._on(engine, lambda: engine.exec_create(
            cid, argv, stdin=stdin, tty=tty, env=env, workdir=workdir, user=user))
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
        engines = [e for e in self._engines.values() if not self._is_down(e.url)]
        found = await asyncio.gather(*(self._on(e, lambda e=e: e.exec_inspect(exec_id))
                                       for e in engines), return_exceptions=True)
        for engine, answer in zip(engines, found, strict=True):
            if isinstance(answer, dict):
                self._execs.put(exec_id, engine.url)
                return engine
        raise docker.errors.NotFound(f"No such exec instance: {exec_id}")

    async def exec_start(self, exec_id: str, *, tty: bool = False) -> ExecStream:
        engine = await self._exec_engine(exec_id)
        return await self._on(engine, lambda: engine.exec_start(exec_id, tty=tty))

    async def exec_inspect(self, exec_id: str) -> dict:
        engine = await self._exec_engine(exec_id)
        return await self._on(engine, lambda: engine.exec_inspect(exec_id))

    async def exec_resize(self, exec_id: str, *, rows: int, cols: int) -> None:
        engine = await self._exec_engine(exec_id)
        await self._on(engine, lambda: engine.exec_resize(exec_id, rows=rows, cols=cols))

    async def exec_run(self, ref: str, argv: list[str], *, stdin: bytes | None = None,
                       env: dict[str, str] | None = None, workdir: str | None = None,
                       limit: int | None = None) -> ExecResult:
        engine, cid = await self._route(ref)
        return await self._on(engine, lambda: engine.exec_run(
            cid, argv, stdin=stdin, env=env, workdir=workdir, limit=limit))

    async def close(self) -> None:
        for nudge in list(self._nudges):
            nudge.cancel()
        await asyncio.gather(*(e.close() for e in (self.manager, *self._engines.values())),
                             return_exceptions=True)
