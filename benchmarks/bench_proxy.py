"""The preview proxy against a direct connection to the app, and against
jupyter-server-proxy 4.x (installed in .venv) on the same server, in the same run.

The app is tests/support/proxy_app.js (node's own http): once in a container, reached by our
proxy (/containers/{id}/proxy/3000/) and directly at the container's address; once on
the host, reached by jupyter-server-proxy (/proxy/{port}/) and directly. Prints:

- latency of a small GET (p50/p95), ours/direct and theirs/direct;
- time to the first byte of an answer that sends one line, then works for 2 s;
- throughput of a 200 MiB download and the Jupyter server's peak memory growth;
- WebSocket echo round trip (p50/p95).

    .venv/bin/python benchmarks/bench_proxy.py [rounds]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import docker
import requests
import websocket
from common import ROOT, bench_server, summary, timed
from tests.support.servers import free_port  # noqa: E402

APP = (ROOT / "tests" / "proxy_app.js").read_text()
MIB = 1024 * 1024


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for(url: str, headers: dict | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def latency(session: requests.Session, url: str, headers: dict, rounds: int) -> dict:
    session.get(url, headers=headers).raise_for_status()
    return summary([timed(lambda: session.get(url, headers=headers).raise_for_status())
                    for _ in range(rounds)])


def first_byte(url: str, headers: dict, rounds: int = 3) -> dict:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        with requests.get(url, headers=headers, stream=True, timeout=30) as answer:
            next(answer.iter_content(1))
            samples.append(time.perf_counter() - start)
            answer.content  # noqa: B018 - read the rest
    return summary(samples)


def download(url: str, headers: dict) -> float:
    """MiB/s of one download."""
    start, size = time.perf_counter(), 0
    with requests.get(url, headers=headers, stream=True, timeout=300) as answer:
        for chunk in answer.iter_content(256 * 1024):
            size += len(chunk)
    return size / MIB / (time.perf_counter() - start)


def ws_echo(url: str, headers: dict, rounds: int, **options) -> dict:
    """Round trips of an echo through a WebSocket to tests/support/proxy_app.js; ``options`` go to
    websocket-client (``host=``, ``cookie=``)."""
    ws = websocket.create_connection(
        url, header=[f"{k}: {v}" for k, v in headers.items()], **options)
    ws.recv()  # the app's hello
    samples = []
    for n in range(rounds):
        start = time.perf_counter()
        ws.send(f"message {n}")
        assert ws.recv() == f"message {n}"
        samples.append(time.perf_counter() - start)
    ws.close()
    return summary(samples)


def row(name: str, value: dict, base: dict) -> None:
    print(f"{name:<44}{value['p50'] * 1000:>9.2f}{value['p95'] * 1000:>9.2f}"
          f"{value['p50'] / base['p50']:>8.2f}")


def main(rounds: int = 200) -> None:
    client = docker.from_env()
    host_port = free_port()
    host_app = subprocess.Popen(["node", "-e", APP, str(host_port)])
    try:
        with bench_server() as server:
            auth = server.headers
            created = server.request("POST", "containers", json={"ports": [3000]}).json()
            container = client.containers.get(f"jcm-{created['id']}")
            container.exec_run(["node", "-e", APP, "3000"], detach=True)
            address = container.attrs["NetworkSettings"]["IPAddress"]
            direct = f"http://{address}:3000"
            ours = f"{server.url}/containers/{created['id']}/proxy/3000"
            host = f"http://127.0.0.1:{host_port}"
            theirs = f"{server.url}/proxy/{host_port}"
            wait_for(f"{direct}/echo")
            wait_for(f"{ours}/echo", auth)
            wait_for(f"{host}/echo")
            has_theirs = requests.get(f"{theirs}/echo", headers=auth).status_code == 200
            session = requests.Session()

            print(f"preview proxy: {rounds} rounds; app = tests/support/proxy_app.js (node)")
            print(f"{'measure':<44}{'p50 ms':>9}{'p95 ms':>9}{'ratio':>8}")
            base = latency(session, f"{direct}/echo", {}, rounds)
            row("small GET, direct to the container", base, base)
            row("small GET, our proxy", latency(session, f"{ours}/echo", auth, rounds), base)
            host_base = latency(session, f"{host}/echo", {}, rounds)
            row("small GET, direct to the host app", host_base, host_base)
            if has_theirs:
                theirs_get = latency(session, f"{theirs}/echo", auth, rounds)
                row("small GET, jupyter-server-proxy", theirs_get, host_base)

            slow = first_byte(f"{direct}/slow?ms=2000", {})
            row("first byte of a 2 s answer, direct", slow, slow)
            ours_slow = first_byte(f"{ours}/slow?ms=2000", auth)
            row("first byte of a 2 s answer, our proxy", ours_slow, slow)
            if has_theirs:
                row("first byte of a 2 s answer, j-s-proxy",
                    first_byte(f"{theirs}/slow?ms=2000", auth), slow)

            ws_base = ws_echo(f"ws://{address}:3000/ws", {}, rounds)
            row("WebSocket echo, direct", ws_base, ws_base)
            ws_url = f"ws://127.0.0.1:{server.port}/containers/{created['id']}/proxy/3000/ws"
            row("WebSocket echo, our proxy", ws_echo(ws_url, auth, rounds), ws_base)
            if has_theirs:
                ws_host = ws_echo(f"ws://127.0.0.1:{host_port}/ws", {}, rounds)
                ws_theirs = f"ws://127.0.0.1:{server.port}/proxy/{host_port}/ws"
                theirs_ws = ws_echo(ws_theirs, auth, rounds)
                row("WebSocket echo, j-s-proxy (vs host app)", theirs_ws, ws_host)

            size = 200
            pid = server.process.pid
            title = f"download of {size} MiB"
            print(f"\n{title:<44}{'MiB/s':>9}{'server peak RSS growth MiB':>30}")
            speed = download(f"{direct}/download?mb={size}", {})
            print(f"{'direct to the container':<44}{speed:>9.0f}")
            before = peak_rss_mib(pid)
            speed = download(f"{ours}/download?mb={size}", auth)
            print(f"{'our proxy':<44}{speed:>9.0f}{peak_rss_mib(pid) - before:>30.0f}")
            if has_theirs:
                before = peak_rss_mib(pid)
                speed = download(f"{theirs}/download?mb={size}", auth)
                growth = peak_rss_mib(pid) - before
                print(f"{'jupyter-server-proxy':<44}{speed:>9.0f}{growth:>30.0f}")
            print("(ratio = p50 / p50 of the direct connection to the same app; lower is better)")
            server.request("DELETE", f"containers/{created['id']}")
    finally:
        host_app.terminate()
        host_app.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
