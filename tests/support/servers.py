"""A real ``jupyter server`` subprocess with the extension.

For tests that restart a server or run two, for blocking clients (a sync call made on the
loop thread that serves it would wait forever) and for notebook kernels. The server writes
its runtime record (``jpserver-<pid>.json``) into its own runtime dir, as any server does,
so clients and kernels find it the way they find a real one.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m jupyter_server`` on 127.0.0.1 with a token, only this extension, and
    ``c.ContainerManager`` given as a dict, in its own temporary dirs. A context manager;
    ``restart()`` stops it and starts it again on the same port. ``url`` has no trailing
    slash."""

    def __init__(self, manager_config: dict, *, base: Path | None = None,
                 root_dir: Path | None = None, server_config: dict | None = None):
        self.manager_config = manager_config
        self.server_config = server_config or {}  # more c.ServerApp settings
        self._tmp = None if base else tempfile.TemporaryDirectory(prefix="jcm-server-")
        self.base = Path(base) if base else Path(self._tmp.name)
        self.root_dir = Path(root_dir) if root_dir else self.base / "root"
        self.runtime_dir = self.base / "runtime"
        self.config_dir = self.base / "config"
        self.log_path = self.base / "server.log"
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}/{path.lstrip('/')}",
                                headers=self.headers, timeout=60, **kwargs)

    def environ(self) -> dict[str, str]:
        """The environment of the server, which its kernels inherit."""
        env = dict(os.environ)
        env["JUPYTER_RUNTIME_DIR"] = str(self.runtime_dir)
        env["JUPYTER_CONFIG_DIR"] = str(self.config_dir)
        for name in ("JUPYTER_CONTAINER_MANAGER_URL", "JUPYTER_CONTAINER_MANAGER_TOKEN",
                     "JUPYTER_TOKEN"):
            env.pop(name, None)
        return env

    def start(self, timeout: float = 90.0) -> ServerProcess:
        for path in (self.root_dir, self.runtime_dir, self.config_dir):
            path.mkdir(parents=True, exist_ok=True)
        config = {
            "ServerApp": {
                # only this extension: the others slow the start and are not under test
                "jpserver_extensions": {
                    "jupyter_container_manager": True,
                    "jupyterlab": False,
                    "jupyter_lsp": False,
                    "jupyter_server_proxy": False,
                    "notebook_shim": False,
                    "notebook": False,
                },
                "allow_unauthenticated_access": False,
                "allow_root": True,
                "open_browser": False,
                "port_retries": 0,
                **self.server_config,
            },
            "IdentityProvider": {"token": self.token},
            # No warm pool unless a test asks for one (its containers would show in
            # the tests' counts of the owner's Docker containers).
            "ContainerManager": {"warm_pool_size": 0, **self.manager_config},
        }
        config_file = self.base / "jupyter_server_config.json"
        config_file.write_text(json.dumps(config))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config_file}", "--ip=127.0.0.1",
             f"--port={self.port}", f"--ServerApp.root_dir={self.root_dir}"],
            env=self.environ(), stdout=self._log, stderr=subprocess.STDOUT, cwd=self.root_dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{self.log_tail()}")
            try:
                answer = requests.get(f"{self.url}/api/status", headers=self.headers, timeout=2)
                if answer.status_code == 200 and self.record_written():
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter server did not answer in {timeout} s:\n{self.log_tail()}")

    def record_written(self) -> bool:
        return (self.runtime_dir / f"jpserver-{self.pid}.json").exists()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        self._log.close()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
