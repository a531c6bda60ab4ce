"""The swarm backend beside one engine, in one run: 30 containers on the 3-node test swarm
(`bash .ci/swarm.sh up`) against the same on the host's engine, each beside its floor.

- **Time to all running**: 30 `POST /containers` at once (each answers once its container
  runs and is prepared), and where they landed; the floors: 30 `docker run -d` on the
  host's engine (docker-py) and 30 `docker service create` (restart none, one replica)
  on the swarm's manager until every task runs.
- **Listing**: `GET /containers` with those 30 listed, p50/p99; the floors: the label-
  filtered container list of the one engine, and of the three node engines in parallel.
- **One operation through a node's engine**: `GET /containers/{id}` (an inspect) and
  `spawn true` (an exec) on a container of a worker node, against docker-py's inspect and
  `exec_run` on that node's engine; the same on the host's engine.
- **Previews**: a small GET through the path proxy, on the swarm through the container's
  agent (the node's container addresses are not routable here), on one engine straight
  to the container's address and, for an app bound to 127.0.0.1, through the agent too;
  the floor: a direct connection to the one-engine container's address.

All nodes of the test swarm share this machine's 2 cores: the swarm measures what going
through Swarm and a node's engine costs, not more capacity. The host's engine is shared
with whatever else runs here.

    .venv/bin/python benchmarks/bench_swarm.py [--containers 30] [--rounds 200] [--json FILE]

With ``--warm-boot N`` it measures only the warm pool instead: N rounds of one
``POST /containers`` with the defaults, each once the pool has a container waiting (a
hand-out: a rename on one engine, a service label on the swarm), beside a create
without a pool on the swarm.

Every container and service it makes carries the benchmark label of this run and is
removed by that label at the end, also when a measurement fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import docker
import requests
from common import BENCH_LABEL, IMAGE, ROOT, bench_server, percentile, summary, timed

APP = (ROOT / "tests" / "support" / "proxy_app.js").read_text()
APP_PORT = 3000
LABEL_ID = "jupyter-container-manager.id"


def swarm_engines() -> tuple[str, list[str]]:
    done = subprocess.run(["bash", str(ROOT / ".ci" / "swarm.sh"), "status"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"the test swarm is not up (bash .ci/swarm.sh up): {done.stderr}")
    lines = [line.split() for line in done.stdout.splitlines() if line.strip()]
    manager = next(words[1] for words in lines if words[0] == "manager")
    return manager, [words[1] for words in lines if words[0] == "engine"]


def stats(samples: list[float]) -> dict:
    return {**summary(samples), "p99": percentile(samples, 99)}


def create_all(server, count: int) -> tuple[float, list[float], list[str]]:
    """``count`` POST /containers at once: (wall time, each one's time, ids)."""
    def one(i: int) -> tuple[float, str]:
        start = time.perf_counter()
        answer = server.request("POST", "containers", json={"name": f"bench-{i}"})
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "running"
        return time.perf_counter() - start, answer.json()["id"]

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        done = list(pool.map(one, range(count)))
    return time.perf_counter() - start, [d[0] for d in done], [d[1] for d in done]


def raw_runs(client, count: int, run: str) -> float:
    """The floor of one engine: ``count`` docker run -d at once, until all run."""
    def one(i: int) -> None:
        client.containers.run(IMAGE, ["sleep", "2147483647"], detach=True, init=True,
                              labels={BENCH_LABEL: run}, name=f"jcm-bench-raw-{run}-{i}")

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - start


def raw_services(manager, count: int, run: str) -> float:
    """The floor of the swarm: ``count`` one-task services at once, until every task runs."""
    image = manager.images.get(IMAGE).id

    def one(i: int) -> None:
        manager.services.create(
            image, ["sleep", "2147483647"], name=f"jcm-bench-raw-{run}-{i}",
            labels={BENCH_LABEL: run}, container_labels={BENCH_LABEL: run},
            restart_policy=docker.types.RestartPolicy(condition="none"))

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    while True:
        tasks = manager.api.tasks(filters={"label": f"{BENCH_LABEL}={run}"})
        running = [t for t in tasks if t["Status"]["State"] == "running"]
        if len(running) >= count:
            return time.perf_counter() - start
        failed = [t for t in tasks if t["Status"]["State"] in ("failed", "rejected")]
        assert not failed, failed[0]["Status"]
        time.sleep(0.05)


def placement(nodes: list, ids: list[str]) -> list[int]:
    """How many of ``ids`` each node engine runs."""
    counts = []
    for node in nodes:
        found = node.containers.list(filters={"label": LABEL_ID})
        mine = {c.labels.get(LABEL_ID) for c in found} & set(ids)
        counts.append(len(mine))
    return counts


def listing(server, rounds: int, count: int) -> dict:
    def get():
        answer = server.request("GET", "containers")
        assert answer.status_code == 200 and len(answer.json()) == count, answer.text

    get()
    return stats([timed(get) for _ in range(rounds)])


def raw_listing(clients: list, owner: str, rounds: int) -> dict:
    filters = {"label": [f"jupyter-container-manager.owner={owner}", LABEL_ID]}
    if len(clients) == 1:
        return stats([timed(lambda: clients[0].api.containers(all=True, filters=filters))
                      for _ in range(rounds)])
    with ThreadPoolExecutor(len(clients)) as pool:
        def every():
            list(pool.map(lambda c: c.api.containers(all=True, filters=filters), clients))
        return stats([timed(every) for _ in range(rounds)])


def operation_rows(server, engine, cid: str, rounds: int) -> list[tuple[str, dict, dict]]:
    """GET /containers/{id} and spawn true, against inspect and exec_run on ``engine``."""
    box = engine.containers.list(filters={"label": f"{LABEL_ID}={cid}"})[0]
    session = requests.Session()
    session.headers.update(server.headers)

    def get():
        assert session.get(f"{server.url}/containers/{cid}").status_code == 200

    def spawn():
        answer = session.post(f"{server.url}/webcontainer/{cid}/spawn", json={"command": "true"})
        assert answer.json()["exitCode"] == 0, answer.text

    def inspect():
        engine.api.inspect_container(box.id)

    def exec_true():
        assert box.exec_run(["true"]).exit_code == 0

    rows = []
    for name, ours, raw in (("GET /containers/{id}", get, inspect),
                            ("spawn true", spawn, exec_true)):
        ours(), raw()
        ours_s, raw_s = [], []
        for _ in range(rounds):
            ours_s.append(timed(ours))
            raw_s.append(timed(raw))
        rows.append((name, stats(ours_s), stats(raw_s)))
    return rows


def start_app(engine, cid: str, port: int = APP_PORT, bind: str = "0.0.0.0") -> None:
    found = engine.containers.list(all=True, filters={"label": f"{LABEL_ID}={cid}"})
    assert found and found[0].status == "running", (
        f"container {cid} is {found[0].status if found else 'gone'}: something else "
        "stopped or removed it")
    found[0].exec_run(["node", "-e", APP, str(port)], detach=True,
                      environment={"BIND_HOST": bind})


def wait_ok(session, url: str, headers: dict | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if session.get(url, headers=headers or {}, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


def preview(url: str, headers: dict, rounds: int) -> dict:
    session = requests.Session()
    wait_ok(session, url, headers)

    def get():
        session.get(url, headers=headers).raise_for_status()
    return stats([timed(get) for _ in range(rounds)])


def line(name: str, ours: dict, floor: dict | None, floor_name: str = "") -> str:
    text = f"{name:<46}{ours['p50'] * 1000:>9.1f}{ours.get('p99', ours['p95']) * 1000:>9.1f}"
    if floor is not None:
        text += (f"{floor['p50'] * 1000:>9.1f}{floor['p50'] and ours['p50'] / floor['p50']:>8.2f}"
                 f"  {floor_name}")
    return text


def cleanup(host, manager, nodes, run_labels: list[str]) -> None:
    for label in run_labels:
        for service in manager.services.list(filters={"label": label}):
            service.remove()
        for client in (host, *nodes):
            for box in client.api.containers(all=True, filters={"label": label}):
                try:
                    client.api.remove_container(box["Id"], force=True)
                except docker.errors.APIError:
                    pass  # gone meanwhile (a removed service's task)


def pool_waiting(clients: list, owner: str) -> int:
    """How many of the owner's pooled containers run now, on these engines."""
    return sum(1 for client in clients for box in client.api.containers(
        filters={"label": f"jupyter-container-manager.owner={owner}"})
        if any(n.lstrip("/").startswith("jcm-pool-") for n in box["Names"]))


def boots(server, clients: list, rounds: int, pooled: bool) -> list[float]:
    """``rounds`` creates with the defaults, each (when ``pooled``) once the pool has a
    container waiting; every container deleted after its round."""
    samples = []
    for _ in range(rounds):
        deadline = time.monotonic() + 120
        while pooled and not pool_waiting(clients, server.manager_config["owner"]):
            assert time.monotonic() < deadline, "the pool did not refill"
            time.sleep(0.1)
        if pooled:  # it runs: give the server the moment it takes to prepare it
            time.sleep(1.0)
        start = time.perf_counter()
        answer = server.request("POST", "containers", json={})
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 201, answer.text
        server.request("DELETE", f"containers/{answer.json()['id']}")
    return samples


def warm_boot(rounds: int) -> None:
    manager_url, engine_urls = swarm_engines()
    host = docker.from_env()
    manager = docker.DockerClient(base_url=manager_url)
    nodes = [docker.DockerClient(base_url=url) for url in engine_urls]
    swarm = {"backend": "swarm", "swarm_manager_url": manager_url,
             "swarm_node_engines": engine_urls}
    servers = {"one engine, warm pool": (bench_server(warm_pool_size=1), [host], True),
               "swarm, warm pool": (bench_server(warm_pool_size=1, **swarm), nodes, True),
               "swarm, no pool": (bench_server(warm_pool_size=0, **swarm), nodes, False)}
    labels = [f"{BENCH_LABEL}={s.manager_config['extra_labels'][BENCH_LABEL]}"
              for s, _, _ in servers.values()]
    try:
        print(f"POST /containers with the defaults, {rounds} rounds")
        print(f"{'':<26}{'p50 ms':>9}{'p95 ms':>9}")
        for name, (server, clients, pooled) in servers.items():
            with server:
                got = summary(boots(server, clients, rounds, pooled))
            print(f"{name:<26}{got['p50'] * 1000:>9.1f}{got['p95'] * 1000:>9.1f}")
    finally:
        cleanup(host, manager, nodes, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--warm-boot", type=int, default=0,
                        help="measure only the warm pool's hand-out, this many rounds")
    args = parser.parse_args()
    if args.warm_boot:
        warm_boot(args.warm_boot)
        return
    count, rounds = args.containers, args.rounds
    manager_url, engine_urls = swarm_engines()
    pool = count + 4  # connections: one per parallel call of the floors
    host = docker.DockerClient.from_env(max_pool_size=pool)
    manager = docker.DockerClient(base_url=manager_url, max_pool_size=pool)
    nodes = [docker.DockerClient(base_url=url, max_pool_size=pool) for url in engine_urls]
    run = uuid.uuid4().hex[:8]
    labels = [f"{BENCH_LABEL}={run}"]
    figures: dict = {"containers": count, "rounds": rounds}
    one = bench_server(warm_pool_size=0)
    swarm = bench_server(warm_pool_size=0, backend="swarm", swarm_manager_url=manager_url,
                         swarm_node_engines=engine_urls)
    labels += [f"{BENCH_LABEL}={s.manager_config['extra_labels'][BENCH_LABEL]}"
               for s in (one, swarm)]
    try:
        with one, swarm:
            print(f"{count} containers at once; {rounds} rounds per timed operation")
            print(f"{'measure':<46}{'p50 ms':>9}{'p99 ms':>9}{'floor':>9}{'ratio':>8}")

            wall_one, each_one, ids_one = create_all(one, count)
            wall_swarm, each_swarm, ids_swarm = create_all(swarm, count)
            raw_one = raw_runs(host, count, run)
            raw_swarm = raw_services(manager, count, run)
            cleanup(host, manager, nodes, labels[:1])  # the floors' containers: not listed
            placed = placement(nodes, ids_swarm)
            figures["all_running_s"] = {"one_engine": wall_one, "swarm": wall_swarm,
                                        "raw_docker_run": raw_one, "raw_services": raw_swarm}
            figures["create_s"] = {"one_engine": stats(each_one), "swarm": stats(each_swarm)}
            figures["placement"] = placed
            print(f"time to all {count} running: one engine {wall_one:.2f} s "
                  f"(floor: {count} docker run -d {raw_one:.2f} s); swarm {wall_swarm:.2f} s "
                  f"(floor: {count} service create until running {raw_swarm:.2f} s)")
            print(f"one create, one engine: p50 {percentile(each_one, 50):.2f} s, "
                  f"p99 {percentile(each_one, 99):.2f} s; swarm: p50 "
                  f"{percentile(each_swarm, 50):.2f} s, p99 {percentile(each_swarm, 99):.2f} s")
            print(f"placement over the swarm's nodes: {placed} (node 1 is the manager)")

            rows = []
            list_one = listing(one, rounds, count)
            raw_list_one = raw_listing([host], one.manager_config["owner"], rounds)
            list_swarm = listing(swarm, rounds, count)
            raw_list_swarm = raw_listing(nodes, swarm.manager_config["owner"], rounds)
            print(line("GET /containers, one engine", list_one, raw_list_one,
                       "docker list by labels"))
            print(line("GET /containers, swarm", list_swarm, raw_list_swarm,
                       "3 node lists in parallel"))
            rows += [("list one engine", list_one, raw_list_one),
                     ("list swarm", list_swarm, raw_list_swarm)]

            worker = next(i for i, url in enumerate(engine_urls) if url != manager_url
                          and placed[i])
            on_worker = next(cid for cid in ids_swarm
                             if nodes[worker].containers.list(
                                 filters={"label": f"{LABEL_ID}={cid}"}))
            for name, ours, raw in operation_rows(one, host, ids_one[0], rounds):
                print(line(f"{name}, one engine", ours, raw, "docker-py on the engine"))
                rows.append((f"{name} one engine", ours, raw))
            for name, ours, raw in operation_rows(swarm, nodes[worker], on_worker, rounds):
                print(line(f"{name}, swarm worker node", ours, raw,
                           "docker-py on the node's engine"))
                rows.append((f"{name} swarm", ours, raw))

            start_app(host, ids_one[0])
            start_app(host, ids_one[0], APP_PORT + 1, "127.0.0.1")  # only via the agent
            start_app(nodes[worker], on_worker)
            address = host.containers.get(f"jcm-{ids_one[0]}").attrs[
                "NetworkSettings"]["IPAddress"]
            direct = preview(f"http://{address}:{APP_PORT}/echo", {}, rounds)
            path_one = preview(f"{one.url}/containers/{ids_one[0]}/proxy/{APP_PORT}/echo",
                               one.headers, rounds)
            tunnel_one = preview(
                f"{one.url}/containers/{ids_one[0]}/proxy/{APP_PORT + 1}/echo", one.headers,
                rounds)
            path_swarm = preview(f"{swarm.url}/containers/{on_worker}/proxy/{APP_PORT}/echo",
                                 swarm.headers, rounds)
            print(line("preview GET /echo, direct (floor)", direct, direct, "direct"))
            print(line("preview, path proxy, one engine (direct)", path_one, direct, "direct"))
            print(line("preview, path proxy, one engine (agent tunnel)", tunnel_one, direct,
                       "direct"))
            print(line("preview, path proxy, swarm (agent tunnel)", path_swarm, direct,
                       "direct"))
            rows += [("preview direct", direct, direct), ("preview one engine", path_one, direct),
                     ("preview one engine tunnel", tunnel_one, direct),
                     ("preview swarm tunnel", path_swarm, direct)]
            print("(ratio = p50 / the floor's p50 in this run; lower is better)")
            figures["rows"] = {name: {"ours": ours, "floor": raw} for name, ours, raw in rows}
            for server, ids in ((one, ids_one), (swarm, ids_swarm)):
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda cid, s=server: s.request("DELETE", f"containers/{cid}"),
                                  ids))
    finally:
        cleanup(host, manager, nodes, labels)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(figures, file, indent=1)


if __name__ == "__main__":
    main()
