"""A real ``jupyter server`` in a subprocess, for tests that restart a server or run two."""

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
    """``jupyter server`` with the extension, token auth, and ``c.ContainerManager`` given
    as a dict. Use as a context manager; ``restart()`` stops it and starts it again."""

    def __init__(self, manager_config: dict, *, port: int | None = None, token: str | None = None,
                 app: str = "server", extra_args: list[str] | None = None):
        self.manager_config = manager_config
        self.port = port or free_port()
        self.token = token or secrets.token_hex(16)
        self.app = app
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="jcm-server-")
        self.root = Path(self._dir.name)
        self.log_path = self.root / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}/{path.lstrip('/')}",
                                headers=self.headers, timeout=60, **kwargs)

    def start(self, timeout: float = 60) -> ServerProcess:
        config = {"ContainerManager": self.manager_config,
                  "ServerApp": {"jpserver_extensions": {"jupyter_container_manager": True}}}
        config_path = self.root / "jupyter_server_config.json"
        config_path.write_text(json.dumps(config))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.root), JUPYTER_RUNTIME_DIR=str(self.root / "runtime"))
        command = [
            sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root",
            f"--port={self.port}", "--ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.port_retries=0", *self.extra_args,
        ]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/status", headers=self.headers, timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self._dir.cleanup()
