"""Kernels in containers, beside the same kernel started locally, in one run:

- kernel ready (start to the first ``execute_reply``) in a new container (from the warm
  pool with its standby kernel, as the "Python 3 (new container)" spec gets it in a
  server; target <= 1.5 s p50)
  and in an existing container (target <= 1 s p50), beside ipykernel started locally;
- a restart of a kernel in an existing container (it takes the standby), beside a local
  kernel's restart;
- ``POST /containers/{id}/run-code`` of ``1+1`` in a warm kernel through a real Jupyter
  server (target <= 2x the HTTP floor, ``GET /api/status`` on the same server).

With ``--swarm`` (the test swarm up: ``bash .ci/swarm.sh up``), then the same on one
engine and on a worker node's container with backend "swarm" (the kernel's connections
carried by the container's agent), taken in turn round by round so that both see the
same load: kernel ready in a new container (from each one's warm pool) and in an
existing one, the ZMQ round trip, and run-code ``1+1`` beside its HTTP floor.

    .venv/bin/python benchmarks/bench_kernels.py [rounds] [--swarm]
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import time
import uuid

import docker
import requests
from common import BENCH_LABEL, IMAGE, bench_server, summary
from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance
from traitlets.config import LoggingConfigurable

from jupyter_container_manager.kernels.provisioner import ContainerProvisioner
from jupyter_container_manager.kernels.spec import kernel_spec
from jupyter_container_manager.kernels.standby import standbys_of
from jupyter_container_manager.manager import ContainerManager

RUNS: list[str] = []  # the BENCH_LABEL values of this benchmark's containers
# A pooled container waits seconds to minutes for its kernel; its standby has imported
# ipykernel by then (0.3 s quiet, 1-2 s at this machine's load), spawned or not.
POOLED_WAIT = 2.0


class Holder(LoggingConfigurable):
    """What a server is to its kernels: the owner of the shared ContainerManager."""

    container_manager = Instance(ContainerManager)


async def round_trips(client, n: int) -> list[float]:
    """``n`` executions of ``1+1``, each timed to the kernel's idle on iopub (as run-code
    waits for it)."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        msg_id = client.execute("1+1")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                msg = await client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                samples.append(time.perf_counter() - start)
                break
    return samples


async def first_reply(km: AsyncKernelManager, trips: list[float] | None = None) -> float:
    """Start the kernel and time it to the first execute_reply of ``1+1``; then, into
    ``trips``, round trips of ``1+1`` in the warm kernel."""
    start = time.perf_counter()
    await km.start_kernel()
    client = km.client()
    client.start_channels()
    try:
        msg_id = client.execute("1+1")
        while True:
            reply = await client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "ok", reply["content"]
        took = time.perf_counter() - start
        if trips is not None:
            trips.extend(await round_trips(client, 10))
        return took
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


async def restart_rounds(km: AsyncKernelManager, rounds: int) -> list[float]:
    """Start the kernel, then ``rounds`` restarts, each timed to its first execute_reply
    (a kernel in a container takes its standby: spawned STANDBY_DELAY after a start)."""
    from jupyter_container_manager.kernels import standby

    await km.start_kernel()
    client = km.client()
    client.start_channels()
    samples = []
    try:
        await client.wait_for_ready(timeout=60)
        for _ in range(rounds):
            await asyncio.sleep(standby.STANDBY_DELAY + 2)
            start = time.perf_counter()
            await km.restart_kernel(now=True)
            msg_id = client.execute("1+1")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    reply = await client.get_shell_msg(timeout=1)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
            samples.append(time.perf_counter() - start)
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)
    return samples


def container_kernel(holder: Holder, container_id: str = "") -> AsyncKernelManager:
    km = AsyncKernelManager(parent=holder, kernel_id=str(uuid.uuid4()))
    spec = kernel_spec()
    km._kernel_spec = spec
    km.provisioner = ContainerProvisioner(kernel_id=km.kernel_id, kernel_spec=spec, parent=km,
                                          container_id=container_id)
    return km


async def kernel_rounds(rounds: int) -> dict[str, list[float]]:
    run = uuid.uuid4().hex[:8]
    RUNS.append(run)
    manager = ContainerManager(owner=f"bench-{run}", image=IMAGE, pull_missing_images=False,
                               max_containers_per_user=0, warm_pool_size=1,
                               extra_labels={BENCH_LABEL: run})
    holder = Holder(container_manager=manager)
    samples: dict[str, list[float]] = {"new": [], "existing": [], "local": [],
                                       "trip_container": [], "trip_local": []}
    standbys = standbys_of(manager)
    standbys.follow_pool()  # as a server does (c.ContainerManager.kernel_standby_in_pool)
    manager.start()
    existing = None
    try:
        existing = await manager.create_container()
        await first_reply(container_kernel(holder, existing.id))  # warm-up (page cache)
        await first_reply(AsyncKernelManager(kernel_name="python3"))
        for _ in range(rounds):
            for _ in range(300):  # the pool refilled, its standby spawned: as a server has it
                if manager.pool_ready and standbys.waiting - {existing.id}:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(POOLED_WAIT)
            samples["new"].append(await first_reply(container_kernel(holder)))
            samples["existing"].append(await first_reply(container_kernel(holder, existing.id),
                                                         samples["trip_container"]))
            samples["local"].append(await first_reply(AsyncKernelManager(kernel_name="python3"),
                                                      samples["trip_local"]))
        restarts = max(3, rounds // 2)
        samples["restart"] = await restart_rounds(container_kernel(holder, existing.id), restarts)
        samples["restart_local"] = await restart_rounds(AsyncKernelManager(kernel_name="python3"),
                                                        restarts)
    finally:
        if existing is not None:
            with contextlib.suppress(Exception):
                await manager.delete_container(existing.id)
        await manager.close()
    return samples


async def pool_filled(manager: ContainerManager, timeout: float = 30) -> None:
    for _ in range(int(timeout * 10)):
        if manager.pool_ready:
            return
        await asyncio.sleep(0.1)


async def paired_kernel_rounds(rounds: int, swarm: dict) -> dict[str, dict[str, list]]:
    """Kernel ready on one engine and on a worker node of the test swarm, in turn round
    by round (the load of a shared machine moves: taken in turn, both see the same): in a
    new container (from each one's warm pool) and in an existing one, with the ZMQ round
    trips of the latter."""
    samples: dict[str, dict[str, list]] = {}
    managers, holders, existing = {}, {}, {}
    for where, settings in (("one", {}), ("swarm", swarm)):
        run = uuid.uuid4().hex[:8]
        RUNS.append(run)
        managers[where] = ContainerManager(
            owner=f"bench-{run}", image=IMAGE, pull_missing_images=False,
            max_containers_per_user=0, warm_pool_size=1, extra_labels={BENCH_LABEL: run},
            **settings)
        holders[where] = Holder(container_manager=managers[where])
        samples[where] = {"new": [], "existing": [], "trip": []}
    try:
        for where, manager in managers.items():
            manager.start()
            existing[where] = await manager.create_container()
            await first_reply(container_kernel(holders[where], existing[where].id))  # warm-up
        for _ in range(rounds):
            for where, manager in managers.items():
                got = samples[where]
                # Each once the pool has refilled: the spec's new container is warm, and
                # no refill (a create: dearer on a swarm) runs beside the timed start.
                await pool_filled(manager)
                got["new"].append(await first_reply(container_kernel(holders[where])))
                await pool_filled(manager)
                got["existing"].append(await first_reply(
                    container_kernel(holders[where], existing[where].id), got["trip"]))
    finally:
        for where, manager in managers.items():
            if where in existing:
                with contextlib.suppress(Exception):
                    await manager.delete_container(existing[where].id)
            await manager.close()
    return samples


def paired_run_code(rounds: int, swarm: dict) -> dict[str, dict[str, list]]:
    """run-code ``1+1`` and the HTTP floor on a one-engine server and a swarm server, in
    turn request by request."""
    servers = {"one": bench_server(), "swarm": bench_server(**swarm)}
    samples: dict[str, dict[str, list]] = {w: {"run_code": [], "floor": []} for w in servers}
    urls, sessions, made = {}, {}, {}
    try:
        for where, server in servers.items():
            RUNS.append(server.manager_config["extra_labels"][BENCH_LABEL])
            server.start()
            sessions[where] = session = requests.Session()
            session.headers.update(server.headers)
            info = session.post(f"{server.url}/containers", json={}).json()
            made[where] = f"{server.url}/containers/{info['id']}"
            urls[where] = f"{made[where]}/run-code"
            answer = session.post(urls[where], json={"code": "1+1"}).json()  # warm kernel
            assert answer["results"][0]["data"]["text/plain"] == "2", answer
        for _ in range(rounds * 5):
            for where, server in servers.items():
                session = sessions[where]
                start = time.perf_counter()
                answer = session.post(urls[where], json={"code": "1+1"})
                samples[where]["run_code"].append(time.perf_counter() - start)
                assert answer.json()["results"][0]["data"]["text/plain"] == "2"
                start = time.perf_counter()
                session.get(f"{server.url}/api/status").raise_for_status()
                samples[where]["floor"].append(time.perf_counter() - start)
    finally:
        for where, url in made.items():
            with contextlib.suppress(Exception):
                sessions[where].delete(url)
        for server in servers.values():
            server.stop()
    return samples


def swarm_settings() -> dict:
    """c.ContainerManager for the test swarm, containers on its worker nodes only."""
    from bench_swarm import swarm_engines

    manager, engines = swarm_engines()
    return {"backend": "swarm", "swarm_manager_url": manager, "swarm_node_engines": engines,
            "swarm_placement_constraints": ["node.role==worker"]}


def remove_swarm_services(swarm: dict) -> None:
    client = docker.DockerClient(base_url=swarm["swarm_manager_url"])
    try:
        for run in RUNS:
            for service in client.services.list(filters={"label": f"{BENCH_LABEL}={run}"}):
                with contextlib.suppress(docker.errors.NotFound):
                    service.remove()
    finally:
        client.close()


def run_code_rounds(rounds: int) -> dict[str, list[float]]:
    server = bench_server()
    RUNS.append(server.manager_config["extra_labels"][BENCH_LABEL])
    server.start()
    session = requests.Session()
    session.headers.update(server.headers)
    samples: dict[str, list[float]] = {"run_code": [], "floor": []}
    try:
        info = session.post(f"{server.url}/containers", json={}).json()
        url = f"{server.url}/containers/{info['id']}/run-code"
        answer = session.post(url, json={"code": "1+1"}).json()  # starts the warm kernel
        assert answer["results"][0]["data"]["text/plain"] == "2", answer
        for _ in range(rounds * 5):
            start = time.perf_counter()
            answer = session.post(url, json={"code": "1+1"})
            samples["run_code"].append(time.perf_counter() - start)
            assert answer.json()["results"][0]["data"]["text/plain"] == "2"
            start = time.perf_counter()
            session.get(f"{server.url}/api/status").raise_for_status()
            samples["floor"].append(time.perf_counter() - start)
        session.delete(f"{server.url}/containers/{info['id']}")
    finally:
        server.stop()
    return samples


def print_swarm_rows(kernels: dict, code: dict) -> None:
    print("\none engine and the test swarm (a worker node's container), taken in turn:")
    print(f"{'operation':<30}{'swarm p50':>10}{'p95':>8}{'one engine p50':>16}{'p95':>8}")
    rows = [("kernel ready, new container", "new", kernels),
            ("kernel ready, existing", "existing", kernels),
            ("execute 1+1, ZMQ round trip", "trip", kernels),
            ("run-code 1+1 (warm kernel)", "run_code", code),
            ("HTTP floor (GET /api/status)", "floor", code)]
    for name, key, source in rows:
        ours, base = summary(source["swarm"][key]), summary(source["one"][key])
        print(f"{name:<30}{ours['p50'] * 1000:>10.1f}{ours['p95'] * 1000:>8.1f}"
              f"{base['p50'] * 1000:>16.1f}{base['p95'] * 1000:>8.1f}")
    print("(ms; new containers come from the warm pool on both)")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    rounds = int(args[0]) if args else 10
    swarm = swarm_settings() if "--swarm" in sys.argv else None
    kernels = asyncio.run(kernel_rounds(rounds))
    code = run_code_rounds(rounds)
    if swarm is not None:
        try:
            paired_kernels = asyncio.run(paired_kernel_rounds(rounds, swarm))
            paired_code = paired_run_code(rounds, swarm)
        finally:
            remove_swarm_services(swarm)
    local = summary(kernels["local"])
    rows = [
        ("kernel ready, new container", summary(kernels["new"]), local, 1.5),
        ("kernel ready, existing", summary(kernels["existing"]), local, 1.0),
    ]
    print(f"{'operation':<30}{'p50 ms':>9}{'p95 ms':>9}{'local p50':>11}{'target':>9}")
    for name, ours, base, target in rows:
        print(f"{name:<30}{ours['p50'] * 1000:>9.0f}{ours['p95'] * 1000:>9.0f}"
              f"{base['p50'] * 1000:>11.0f}{target * 1000:>9.0f}  "
              f"{'met' if ours['p50'] <= target else 'MISSED'}")
    restart, restart_local = summary(kernels["restart"]), summary(kernels["restart_local"])
    print(f"{'restart (standby), existing':<30}{restart['p50'] * 1000:>9.0f}"
          f"{restart['p95'] * 1000:>9.0f}{restart_local['p50'] * 1000:>11.0f}")
    trip, trip_local = summary(kernels["trip_container"]), summary(kernels["trip_local"])
    print(f"{'execute 1+1, ZMQ round trip':<30}{trip['p50'] * 1000:>9.1f}{trip['p95'] * 1000:>9.1f}"
          f"{trip_local['p50'] * 1000:>11.1f}   (kernel in the container / local)")
    run, floor = summary(code["run_code"]), summary(code["floor"])
    ratio = run["p50"] / floor["p50"]
    print(f"{'run-code 1+1 (warm kernel)':<30}{run['p50'] * 1000:>9.1f}{run['p95'] * 1000:>9.1f}"
          f"{'floor':>6}{floor['p50'] * 1000:>5.1f}  ratio {ratio:.2f} (target <= 2.00) "
          f"{'met' if ratio <= 2 else 'MISSED'}")
    if swarm is not None:
        print_swarm_rows(paired_kernels, paired_code)
    client = docker.from_env()
    for run in RUNS:  # this benchmark's runs only: others may be benchmarking too
        for container in client.containers.list(all=True,
                                                filters={"label": f"{BENCH_LABEL}={run}"}):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)


if __name__ == "__main__":
    main()
