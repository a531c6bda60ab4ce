"""Previews on their own origin beside the path proxy and a direct connection, in one run.

One container runs tests/support/proxy_app.js twice: on 0.0.0.0:3000 (reached directly at the
container's address) and on 127.0.0.1:3001 (only the container reaches it: the preview
goes through the agent's tunnel). A small GET (/echo, ~1 KiB answer) is timed, whole
answer, on one keep-alive session each:

- direct to the container's address (the floor);
- the path proxy /containers/{id}/proxy/3000/ with the token;
- the preview origin 3000-<id>.localhost with its cookie (direct route inside);
- the preview origin 3001-<id>.localhost: the loopback-bound app, through the tunnel;
- a WebSocket echo round trip through the preview origin, direct and tunnelled.

    .venv/bin/python benchmarks/bench_preview.py [rounds]
"""

from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit

import docker
import requests
from bench_proxy import ws_echo
from common import ROOT, bench_server, summary, timed

APP = (ROOT / "tests" / "proxy_app.js").read_text()
COOKIE = "__Host-jcm-preview"


def wait_for(get, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get().status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError("the app did not answer")


def redeem(server, container_id: str, port: int) -> tuple[str, str]:
    """(preview host, cookie): a handed-out URL opened as a browser opens it."""
    url = server.request("GET", f"webcontainer/{container_id}/url",
                         params={"port": port}).json()["url"]
    parts = urlsplit(url)
    answer = requests.get(f"http://127.0.0.1:{server.port}{parts.path}",
                          headers={"Host": parts.netloc}, allow_redirects=False)
    assert answer.status_code == 307, answer.text
    return parts.netloc, answer.cookies[COOKIE]


def row(name: str, value: dict, base: dict) -> None:
    print(f"{name:<52}{value['p50'] * 1000:>9.2f}{value['p95'] * 1000:>9.2f}"
          f"{value['p50'] / base['p50']:>8.2f}")


def main(rounds: int = 300) -> None:
    client = docker.from_env()
    with bench_server() as server:
        created = server.request("POST", "containers", json={"ports": [3000, 3001]}).json()
        cid = created["id"]
        container = client.containers.get(f"jcm-{cid}")
        container.exec_run(["node", "-e", APP, "3000"], detach=True)
        container.exec_run(["node", "-e", APP, "3001"], detach=True,
                           environment={"BIND_HOST": "127.0.0.1"})
        address = container.attrs["NetworkSettings"]["IPAddress"]
        session = requests.Session()
        direct = f"http://{address}:3000/echo"
        path = f"{server.url}/containers/{cid}/proxy/3000/echo"
        local = f"http://127.0.0.1:{server.port}/echo"
        wait_for(lambda: session.get(direct))
        wait_for(lambda: session.get(path, headers=server.headers))
        host, cookie = redeem(server, cid, 3000)
        host_lo, cookie_lo = redeem(server, cid, 3001)
        origin = {"Host": host, "Cookie": f"{COOKIE}={cookie}"}
        origin_lo = {"Host": host_lo, "Cookie": f"{COOKIE}={cookie_lo}"}
        wait_for(lambda: session.get(local, headers=origin_lo))

        def sample(url, headers):
            session.get(url, headers=headers).raise_for_status()
            return summary([timed(lambda: session.get(url, headers=headers).raise_for_status())
                            for _ in range(rounds)])

        print(f"previews: {rounds} rounds of GET /echo (~1 KiB), app = tests/support/proxy_app.js")
        print(f"{'measure':<52}{'p50 ms':>9}{'p95 ms':>9}{'ratio':>8}")
        base = sample(direct, {})
        row("direct to the container (floor)", base, base)
        proxied = sample(path, server.headers)
        row("path proxy /containers/{id}/proxy/3000/", proxied, base)
        own = sample(local, origin)
        row("preview origin 3000-<id>.localhost", own, base)
        tunnelled = sample(local, origin_lo)
        row("preview origin, app on 127.0.0.1 (agent tunnel)", tunnelled, base)
        print(f"preview origin / path proxy: {own['p50'] / proxied['p50']:.2f} (target <= 1.5); "
              f"tunnel / path proxy: {tunnelled['p50'] / proxied['p50']:.2f}")
        ws_base = ws_echo(f"ws://{address}:3000/ws", {}, rounds)
        row("WebSocket echo, direct (floor)", ws_base, ws_base)
        row("WebSocket echo, preview origin", ws_echo(
            f"ws://127.0.0.1:{server.port}/ws", {}, rounds, host=host,
            cookie=origin["Cookie"]), ws_base)
        row("WebSocket echo, preview origin via tunnel", ws_echo(
            f"ws://127.0.0.1:{server.port}/ws", {}, rounds, host=host_lo,
            cookie=origin_lo["Cookie"]), ws_base)
        print("(ratio = p50 / p50 of the direct connection; lower is better)")
        server.request("DELETE", f"containers/{cid}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
