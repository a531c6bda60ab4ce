"""WebContainer API through a real Jupyter server, against raw docker-py in the same run:

- writeFile (raw PUT) and readFile at 1 KiB and 16 MiB, against put_archive / get_archive
  (the raw side builds and unpacks its tar, as any caller of the archive API must);
- ``spawn true`` (waiting), against ``exec_run(["true"])``.

Prints p50/p95 and the ratio ours/raw (target <= 1.3 for small operations), and MiB/s
for 16 MiB with the throughput ratio (target >= 0.8).

    .venv/bin/python benchmarks/bench_webcontainer.py [rounds]
"""

from __future__ import annotations

import io
import os
import sys
import tarfile

import docker
import requests
from common import bench_server, print_table, summary, timed

KIB, MIB = 1024, 1024 * 1024


def raw_put(client, docker_id: str, name: str, data: bytes) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    client.api.put_archive(docker_id, "/workspace", buffer.getvalue())


def raw_get(client, docker_id: str, name: str) -> bytes:
    stream, _ = client.api.get_archive(docker_id, f"/workspace/{name}")
    archive = io.BytesIO(b"".join(stream))
    with tarfile.open(fileobj=archive) as tar:
        return tar.extractfile(tar.getmembers()[0]).read()


class Ours:
    """writeFile, readFile and spawn ``true`` on one WebContainer, over one HTTP session."""

    def __init__(self, server, cid: str):
        self.session = requests.Session()
        self.session.headers.update(server.headers)
        self.base = f"{server.url}/webcontainer"
        self.cid = cid

    @classmethod
    def boot(cls, server) -> Ours:
        answer = server.request("POST", "webcontainer/boot", json={})
        assert answer.status_code == 201, answer.text
        return cls(server, answer.json()["containerId"])

    def write(self, name: str, data: bytes) -> None:
        answer = self.session.put(
            f"{self.base}/{self.cid}/fs/writeFile", params={"path": name}, data=data, timeout=120
        )
        assert answer.status_code == 204, answer.text

    def read(self, name: str, size: int) -> None:
        with self.session.get(
            f"{self.base}/{self.cid}/fs/readFile/{name}", timeout=120, stream=True
        ) as answer:
            assert answer.status_code == 200, answer.status_code
            received = sum(len(chunk) for chunk in answer.iter_content(MIB))
        assert received == size

    def spawn_true(self) -> None:
        answer = self.session.post(
            f"{self.base}/{self.cid}/spawn", json={"command": "true"}, timeout=60
        )
        assert answer.status_code == 200 and answer.json()["exitCode"] == 0, answer.text

    def delete(self) -> None:
        self.session.delete(f"{self.base}/{self.cid}", timeout=60)


def file_rounds(ours: Ours, client, docker_id: str, size: int, n: int) -> dict:
    """``n`` interleaved rounds of writeFile/readFile of ``size`` random bytes, ours and raw:
    lists of seconds under ours_w, raw_w, ours_r, raw_r."""
    data = os.urandom(size)
    samples = {key: [] for key in ("ours_w", "raw_w", "ours_r", "raw_r")}
    ours.write("warm.bin", data)  # warm up connections and caches
    raw_put(client, docker_id, "warm-raw.bin", data)
    for _ in range(n):  # interleaved: both see the same engine conditions
        samples["ours_w"].append(timed(ours.write, "ours.bin", data))
        samples["raw_w"].append(timed(raw_put, client, docker_id, "raw.bin", data))
        samples["ours_r"].append(timed(ours.read, "ours.bin", size))
        samples["raw_r"].append(timed(raw_get, client, docker_id, "raw.bin"))
    return samples


def spawn_true_rounds(ours: Ours, client, docker_id: str, rounds: int) -> tuple[list, list]:
    """``rounds`` of spawn ``true`` (waiting) against ``exec_run(["true"])``, interleaved."""
    container = client.containers.get(docker_id)

    def raw_spawn() -> None:
        assert container.exec_run(["true"]).exit_code == 0

    ours.spawn_true()
    spawn_ours, spawn_raw = [], []
    for _ in range(rounds):
        spawn_ours.append(timed(ours.spawn_true))
        spawn_raw.append(timed(raw_spawn))
    return spawn_ours, spawn_raw


def main(rounds: int = 30) -> None:
    client = docker.from_env()
    large_rounds = max(5, rounds // 4)
    rows, throughput = [], []
    with bench_server() as server:
        ours = Ours.boot(server)
        docker_id = client.containers.get(f"jcm-{ours.cid}").id
        for label, size, n in (("1 KiB", KIB, rounds), ("16 MiB", 16 * MIB, large_rounds)):
            samples = file_rounds(ours, client, docker_id, size, n)
            write = (f"writeFile {label}", summary(samples["ours_w"]), summary(samples["raw_w"]))
            read = (f"readFile {label}", summary(samples["ours_r"]), summary(samples["raw_r"]))
            rows += [write, read]
            if size >= MIB:
                throughput += [
                    (name, size / ours_["p50"] / MIB, size / raw["p50"] / MIB)
                    for name, ours_, raw in (write, read)
                ]
        spawn_ours, spawn_raw = spawn_true_rounds(ours, client, docker_id, rounds)
        rows.append(("spawn true", summary(spawn_ours), summary(spawn_raw)))
        ours.delete()

    print(
        f"webcontainer: {rounds} rounds (16 MiB: {large_rounds}), raw = docker-py "
        "put_archive / get_archive / exec_run"
    )
    print_table(rows)
    print()
    print(f"{'throughput (p50)':<28}{'ours MiB/s':>12}{'raw MiB/s':>12}{'ratio':>8}")
    for name, ours_, raw in throughput:
        print(f"{name:<28}{ours_:>12.1f}{raw:>12.1f}{ours_ / raw:>8.2f}")
    print("(ratio = ours / raw throughput, higher is better)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
