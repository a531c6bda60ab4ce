"""A private ``dockerd`` that a test may kill and start again (security case 25),
beside the engine the rest of the suite uses and never touching it.

The recipe is the one of ../shared/MACHINE.md for several daemons on one machine: its own
data root, exec root, pid file, socket and containerd namespace, and its own network
namespace (``nsenter --net``): a dockerd started with ``--bridge none`` deletes any
interface named docker0 in its network namespace, which in the host's would be the main
engine's bridge. It has no bridge and leaves iptables alone (``--iptables=false``); its
containers get no network, which spawns, terminals and uploads do not need (they are
docker execs and archive calls over the engine's socket, a file the host reaches).

``PrivateEngine(tag, listener=sock, extra_args=[...])`` also serves a TCP socket that the
test made and bound in the host's network namespace (for example 127.0.0.1:<port>): the
daemon gets it by socket activation (``-H fd://``, ``LISTEN_FDS``), so it answers there
while its own network stays in its namespace; ``extra_args`` are more dockerd flags
(``--tlsverify`` and its certificates). With ``memory_root="2g"`` the data root is a
tmpfs of that size: loading an image and deleting it all at the end take a few seconds,
not tens (the image's files are not written to disk and then removed one by one).

``PrivateEngine(tag)`` is a context manager: on enter it starts the daemon and waits until
it answers; ``kill()`` sends SIGKILL (or SIGTERM) and waits until the process is gone;
``start()`` starts it again on the same data root. On exit it removes its containers, stops
the daemon (and its containerd), unmounts what is left under its roots and deletes them,
also when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import docker
import requests


class PrivateEngine:
    def __init__(self, tag: str, *, listener: socket.socket | None = None,
                 extra_args: list[str] | None = None, memory_root: str = ""):
        self.tag = tag
        self.memory_root = memory_root
        self.listener = listener
        self.extra_args = list(extra_args or [])
        self.data_root = Path(f"/var/lib/jcm-test-dockerd-{tag}")
        self.exec_root = Path(f"/run/jcm-test-dockerd-{tag}")
        self.socket = Path(f"/run/jcm-test-dockerd-{tag}.sock")
        self.pidfile = Path(f"/run/jcm-test-dockerd-{tag}.pid")
        self.log_path = Path(f"/tmp/jcm-test-dockerd-{tag}.log")
        self.netns = f"jcmtest{tag}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, version="auto", timeout=timeout)

    # --- running ----------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> float:
        """Start the daemon; the seconds until it answered."""
        assert self.process is None or self.process.poll() is not None, "already running"
        started = time.monotonic()
        self.starts += 1
        if not Path(f"/var/run/netns/{self.netns}").exists():
            subprocess.run(["ip", "netns", "add", self.netns], check=True)
        if self.memory_root and not _mounts_under(self.data_root):
            self.data_root.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.memory_root},mode=0711",
                            f"jcm-test-{self.tag}", str(self.data_root)], check=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child has its own copy
        try:
            argv = ["nsenter", f"--net=/var/run/netns/{self.netns}",
                    "dockerd", "--data-root", str(self.data_root), "--exec-root",
                    str(self.exec_root), "--pidfile", str(self.pidfile),
                    "-H", self.url, "--containerd-namespace", f"jcmtest{self.tag}",
                    "--containerd-plugins-namespace", f"jcmtestp{self.tag}",
                    "--bridge", "none", "--iptables=false", "--ip6tables=false",
                    "--ip-forward=false", "--ip-masq=false", *self.extra_args]
            pass_fds: tuple[int, ...] = ()
            if self.listener is not None:
                # Socket activation: the socket as fd 3, LISTEN_PID the daemon's own pid
                # (the shell's, kept through both execs; bash: dash takes one-digit fds only).
                fd = self.listener.fileno()
                pass_fds = (fd,)
                moved = "" if fd == 3 else f"exec 3<&{fd} {fd}<&-; "
                argv = ["bash", "-c", f"{moved}export LISTEN_FDS=1 LISTEN_PID=$$; "
                        f"exec {shlex.join([*argv, '-H', 'fd://'])}"]
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, pass_fds=pass_fds,
            )
        finally:
            log.close()
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited ({self.process.returncode}):\n"
                                   f"{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"dockerd did not answer in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)
        return time.monotonic() - started

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with contextlib.closing(self.client(timeout=2)) as client:
                return client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return False

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Signal the daemon and wait until it is gone (with SIGTERM it stops its
        containers first; with SIGKILL they are ended when it starts again)."""
        process = self.process
        assert process is not None and process.poll() is None, "not running"
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        self._wait_containerd_gone(10)

    def _containerd_pid(self) -> int | None:
        try:
            return int((self.exec_root / "containerd" / "containerd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_containerd_gone(self, timeout: float) -> None:
        """The daemon's own containerd dies with it (it is started with a parent-death
        signal); wait for that, and end it if it lingers."""
        pid = self._containerd_pid()
        if pid is None or not _is_containerd(pid):
            return
        deadline = time.monotonic() + timeout
        while _is_containerd(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_containerd(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- images -----------------------------------------------------------------------

    def load_image(self, image: str, source: docker.DockerClient) -> None:
        """Copy ``image`` from the main engine (``docker save | docker load``)."""
        with contextlib.closing(self.client(timeout=300)) as client:
            try:
                client.images.get(image)
                return
            except docker.errors.ImageNotFound:
                pass
            saved = source.images.get(image).save(chunk_size=1024 * 1024, named=image)
            client.images.load(saved)

    # --- the end ----------------------------------------------------------------------

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(Exception), \
                    contextlib.closing(self.client(timeout=30)) as client:
                for container in client.containers.list(all=True):
                    with contextlib.suppress(docker.errors.APIError):
                        container.remove(force=True, v=True)
            self.kill(signal.SIGTERM, timeout=30)
        else:
            self._wait_containerd_gone(5)
        for root in (self.exec_root, self.data_root):
            for mount in _mounts_under(root):
                subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
            shutil.rmtree(root, ignore_errors=True)
        for path in (self.socket, self.pidfile, self.log_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        subprocess.run(["ip", "netns", "del", self.netns], check=False, capture_output=True)

    def __enter__(self) -> PrivateEngine:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_containerd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "containerd"
    except OSError:
        return False


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or under ``root``, deepest first."""
    prefix = str(root)
    found = []
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            point = line.split()[1].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)
