"""A real ``sshd`` on a free loopback port, made for one test: its own host key, a client
key it authorizes, its own configuration, all in a temporary directory.

``SshServer(root)`` is a context manager: on enter it makes the keys (``ssh-keygen``),
writes ``sshd_config`` and starts ``sshd -D`` as the current user (root on the test
machines) on 127.0.0.1:<port>, waiting until it answers; on exit it stops it and what its
sessions still run. ``url`` is ``ssh://<user>@127.0.0.1:<port>``.

OpenSSH reads the client's configuration from the user's passwd home, not from ``$HOME``,
so a process is pointed at this server by ``bin_dir``: a directory with an ``ssh`` that runs
the system's client with ``-F`` this server's client configuration (its key, its host key as
the only known host, batch mode). Put it first on a process's ``PATH`` and ``ssh ...``
reaches this server the way the Docker CLI's and SDK's ``ssh`` would reach any other.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.servers import free_port

SSHD = "/usr/sbin/sshd"
# sshd refuses to start without its privilege separation directory (compiled in).
PRIVSEP_DIR = Path("/run/sshd")


def missing_tools() -> str:
    """Why an sshd cannot run here ("" when it can)."""
    if not os.path.exists(SSHD):
        return "no sshd (Debian's openssh-server; .ci/setup installs it)"
    for tool in ("ssh", "ssh-keygen", "docker"):
        if shutil.which(tool) is None:
            return f"no {tool} on PATH"
    return ""


class SshServer:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.bin_dir = self.root / "bin"
        self.client_config = self.root / "ssh_config"
        self.log_path = self.root / "sshd.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        """``env`` with this server's ``ssh`` first on PATH."""
        return {**env, "PATH": os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])}

    def _keygen(self, path: Path) -> str:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jcm-test",
                        "-f", str(path)], check=True, capture_output=True)
        return (path.with_suffix(".pub")).read_text().strip()

    def _write_files(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        host_key = self._keygen(self.root / "host_key")
        client_key = self._keygen(self.root / "client_key")
        (self.root / "authorized_keys").write_text(client_key + "\n")
        (self.root / "known_hosts").write_text(
            f"[127.0.0.1]:{self.port} {' '.join(host_key.split()[:2])}\n")
        (self.root / "sshd_config").write_text("\n".join([
            f"ListenAddress 127.0.0.1:{self.port}",
            f"HostKey {self.root / 'host_key'}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            "AuthenticationMethods publickey",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            # The temporary directory is under /tmp, which any user may write to.
            "StrictModes no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PrintMotd no",
            "LogLevel VERBOSE",
            "",
        ]))
        self.client_config.write_text("\n".join([
            "Host *",
            f"  IdentityFile {self.root / 'client_key'}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {self.root / 'known_hosts'}",
            "  GlobalKnownHostsFile /dev/null",
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            "  ConnectTimeout 10",
            "",
        ]))
        self.bin_dir.mkdir(exist_ok=True)
        wrapper = self.bin_dir / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {self.client_config} "$@"\n')
        wrapper.chmod(0o755)

    def start(self, timeout: float = 20.0) -> SshServer:
        self._write_files()
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited ({self.process.returncode}): "
                                   f"{self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError), \
                    socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sshd did not answer on 127.0.0.1:{self.port} within {timeout} s")

    def ssh(self, *command: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """``command`` run on this server through its client configuration."""
        return subprocess.run(
            [str(self.bin_dir / "ssh"), "-p", str(self.port), "-l", self.user, "127.0.0.1",
             *command], capture_output=True, timeout=timeout, check=False)

    def sessions(self) -> list[int]:
        """The pids of the commands run through this server that still run (sshd gives
        them ``SSH_CONNECTION=... 127.0.0.1 <port>``): a ``docker system dial-stdio``
        whose client went away without closing lingers while its engine stream is idle."""
        mark = f" 127.0.0.1 {self.port}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    for variable in (entry / "environ").read_bytes().split(b"\0"):
                        if variable.startswith(b"SSH_CONNECTION=") and variable.endswith(mark):
                            found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """Stop sshd, then what its sessions still run."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = self.sessions()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while left and time.monotonic() < deadline:
                time.sleep(0.1)
                left = self.sessions()
            if not left:
                return

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
