"""POST /containers (until running) and DELETE /containers/{id}, through a real Jupyter
server, against raw docker-py create+start and remove with the same settings, in the
same run. Prints p50/p95 of each and the ratio (target <= 1.15). Then a warm boot:
POST /webcontainer/boot served by the warm pool (target <= 8 ms p50), against the
same raw create+start.

    .venv/bin/python benchmarks/bench_containers.py [rounds]
"""

from __future__ import annotations

import sys
import time
import uuid

import docker
from common import BENCH_LABEL, IMAGE, bench_server, print_table, summary, timed

RAW_OPTIONS = dict(
    command=["sleep", "2147483647"], detach=True, init=True, mem_limit=512 * 2**20,
    memswap_limit=512 * 2**20, cpu_shares=512, pids_limit=512, cap_drop=["ALL"],
    security_opt=["no-new-privileges"], working_dir="/workspace",
)


def create_delete_rounds(server, client, rounds: int, body: dict | None = None) -> dict:
    """``rounds`` of POST /containers (``body``) + DELETE, interleaved with raw docker-py
    create+start + remove (labelled like the server's containers). Lists of seconds under
    ours_create, ours_delete, raw_create, raw_delete."""
    run = server.manager_config.get("extra_labels", {}).get(BENCH_LABEL) or uuid.uuid4().hex[:8]
    samples = {key: [] for key in ("ours_create", "ours_delete", "raw_create", "raw_delete")}
    server.request("GET", "containers")  # warm up the engine client
    for n in range(rounds):
        # Interleave ours and raw so both see the same engine conditions.
        holder = {}

        def create(holder=holder, n=n):
            payload = dict(body or {})
            if "name" in payload:
                payload["name"] = f"{payload['name']}-{n}"
            answer = server.request("POST", "containers", json=payload)
            assert answer.status_code == 201, answer.text
            holder["id"] = answer.json()["id"]

        samples["ours_create"].append(timed(create))
        samples["ours_delete"].append(
            timed(lambda cid=holder["id"]: server.request("DELETE", f"containers/{cid}")))

        def raw_create_start(holder=holder):
            holder["raw"] = client.containers.run(IMAGE, labels={BENCH_LABEL: run}, **RAW_OPTIONS)

        samples["raw_create"].append(timed(raw_create_start))
        samples["raw_delete"].append(timed(holder["raw"].remove, force=True, v=True))
    return samples


def warm_boot_rounds(server, client, rounds: int) -> list[float]:
    """``rounds`` of POST /webcontainer/boot, each once the warm pool has refilled."""
    owner = server.manager_config["owner"]
    samples = []
    for _ in range(rounds):
        wait_for_pool(client, owner, 1)
        holder = {}

        def boot(holder=holder):
            answer = server.request("POST", "webcontainer/boot", json={})
            assert answer.status_code == 201, answer.text
            holder["id"] = answer.json()["containerId"]

        samples.append(timed(boot))
        server.request("DELETE", f"containers/{holder['id']}")
    return samples


def main(rounds: int = 20) -> None:
    client = docker.from_env()
    with bench_server() as server:
        cold = create_delete_rounds(server, client, rounds)
    with bench_server(warm_pool_size=1) as server:
        warm_boot = warm_boot_rounds(server, client, rounds)
    for leftover in client.containers.list(all=True, filters={"label": BENCH_LABEL}):
        leftover.remove(force=True)
    print(f"containers: {rounds} rounds, image {IMAGE}")
    print_table([
        ("create until running", summary(cold["ours_create"]), summary(cold["raw_create"])),
        ("delete", summary(cold["ours_delete"]), summary(cold["raw_delete"])),
        ("boot, warm pool", summary(warm_boot), summary(cold["raw_create"])),
    ])


def wait_for_pool(client, owner: str, size: int, timeout: float = 60) -> None:
    """Until the server's warm pool has ``size`` started containers waiting."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = client.containers.list(
            filters={"label": f"jupyter-container-manager.owner={owner}", "name": "jcm-pool-"})
        if len(waiting) >= size:
            time.sleep(0.2)  # the server learns it a moment after Docker
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the warm pool did not fill")
        time.sleep(0.1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
