"""Snapshots and checkpoints through a real Jupyter server, each beside its floor in the
same run:

- a snapshot (POST /containers/{id}/snapshots) of a container whose workdir holds a
  100 MB node_modules, against a raw docker-py commit of the same container (target
  <= 1.5x p50);
- a start from that snapshot (POST /containers {snapshot}, until running) against a raw
  create+start of its image with the same settings (target <= 1.15x p50);
- a checkpoint (POST /containers/{id}/checkpoints) of 10 changed files in a tree of
  10,000 (target < 100 ms p50), beside a raw `docker exec true` (the cheapest look into
  a container there is without the agent).

    .venv/bin/python benchmarks/bench_snapshots.py [rounds]
"""

from __future__ import annotations

import sys

import docker
from common import BENCH_LABEL, IMAGE, bench_server, print_table, summary, timed

RAW_OPTIONS = dict(
    command=["sleep", "2147483647"], detach=True, init=True, mem_limit=512 * 2**20,
    memswap_limit=512 * 2**20, cpu_shares=512, pids_limit=512, cap_drop=["ALL"],
    security_opt=["no-new-privileges"], working_dir="/workspace",
)
# 100 MB in 2,000 files of 50 KiB (incompressible), as an npm install leaves them.
FILL_NODE_MODULES = """
const fs = require('fs'), crypto = require('crypto');
for (let p = 0; p < 100; p++) {
  const dir = `/workspace/node_modules/pkg-${p}/lib`;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`/workspace/node_modules/pkg-${p}/package.json`, `{"name":"pkg-${p}"}`);
  for (let f = 0; f < 20; f++) fs.writeFileSync(`${dir}/f${f}.js`, crypto.randomBytes(51200));
}
"""
TEN_THOUSAND_FILES = """
const fs = require('fs');
for (let d = 0; d < 100; d++) {
  const dir = `/workspace/src/d${d}`;
  fs.mkdirSync(dir, { recursive: true });
  for (let f = 0; f < 100; f++) fs.writeFileSync(`${dir}/f${f}.js`, `export const v = ${f};\\n`);
}
"""


def node(client, docker_id: str, script: str) -> None:
    done = client.api.exec_start(client.api.exec_create(docker_id, ["node", "-e", script]))
    assert done == b"" or b"Error" not in done, done


def docker_id_of(container_id: str) -> str:
    return f"jcm-{container_id}"


def snapshot_rounds(server, client, rounds: int) -> dict:
    samples = {key: [] for key in ("ours_snap", "raw_commit", "ours_start", "raw_start")}
    created = server.request("POST", "containers", json={"name": "bench-snap"})
    assert created.status_code == 201, created.text
    source = created.json()["id"]
    node(client, docker_id_of(source), FILL_NODE_MODULES)
    run = server.manager_config["extra_labels"][BENCH_LABEL]
    for _ in range(rounds):
        holder = {}

        def ours(holder=holder):
            answer = server.request("POST", f"containers/{source}/snapshots", json={})
            assert answer.status_code == 201, answer.text
            holder["snapshot"] = answer.json()

        def raw(holder=holder):
            holder["image"] = client.api.commit(docker_id_of(source), pause=True)["Id"]

        samples["ours_snap"].append(timed(ours))
        samples["raw_commit"].append(timed(raw))
        client.api.remove_image(holder["image"], force=True)

        snapshot_id = holder["snapshot"]["id"]
        for _ in range(2):  # two starts per snapshot
            def start(holder=holder, snapshot_id=snapshot_id):
                answer = server.request("POST", "containers", json={"snapshot": snapshot_id})
                assert answer.status_code == 201, answer.text
                holder["copy"] = answer.json()["id"]

            def raw_start(holder=holder, snapshot_id=snapshot_id):
                image = f"jupyter-container-manager-snapshot:{snapshot_id}"
                holder["raw"] = client.containers.run(image, labels={BENCH_LABEL: run},
                                                      **RAW_OPTIONS)

            samples["ours_start"].append(timed(start))
            samples["raw_start"].append(timed(raw_start))
            server.request("DELETE", f"containers/{holder['copy']}")
            holder["raw"].remove(force=True, v=True)
        server.request("DELETE", f"containers/snapshots/{snapshot_id}")
    server.request("DELETE", f"containers/{source}")
    return samples


def checkpoint_rounds(server, client, rounds: int) -> dict:
    samples = {"ours": [], "raw_exec": []}
    created = server.request("POST", "containers", json={"name": "bench-checkpoints"})
    assert created.status_code == 201, created.text
    container = created.json()["id"]
    docker_id = docker_id_of(container)
    node(client, docker_id, TEN_THOUSAND_FILES)
    first = server.request("POST", f"containers/{container}/checkpoints", json={})
    assert first.status_code == 201, first.text
    for n in range(rounds):
        touch = "; ".join(f"echo {n} >> /workspace/src/d{d * 10}/f{n}.js" for d in range(10))
        client.api.exec_start(client.api.exec_create(docker_id, ["sh", "-c", touch]))
        holder = {}

        def ours(holder=holder):
            answer = server.request("POST", f"containers/{container}/checkpoints", json={})
            assert answer.status_code == 201, answer.text
            holder["files"] = answer.json()["files"]

        samples["ours"].append(timed(ours))
        assert len(holder["files"]) == 10, holder["files"]
        samples["raw_exec"].append(timed(
            lambda: client.api.exec_start(client.api.exec_create(docker_id, ["true"]))))
    server.request("DELETE", f"containers/{container}")
    return samples


def main(rounds: int = 5) -> None:
    client = docker.from_env()
    with bench_server(warm_pool_size=0, max_snapshots_per_user=0) as server:
        snaps = snapshot_rounds(server, client, rounds)
        checkpoints = checkpoint_rounds(server, client, max(10, rounds * 2))
    for leftover in client.containers.list(all=True, filters={"label": BENCH_LABEL}):
        leftover.remove(force=True)
    for image in client.images.list(filters={"label": BENCH_LABEL}):
        client.images.remove(image.id, force=True)
    print(f"snapshots: {rounds} rounds, image {IMAGE}, 100 MB node_modules in the workdir")
    print_table([
        ("snapshot vs docker commit", summary(snaps["ours_snap"]), summary(snaps["raw_commit"])),
        ("start from snapshot", summary(snaps["ours_start"]), summary(snaps["raw_start"])),
        ("checkpoint 10 of 10,000", summary(checkpoints["ours"]),
         summary(checkpoints["raw_exec"])),
    ])
    print("(checkpoint's raw: one `docker exec true`; its target is < 100 ms p50 on its own)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
