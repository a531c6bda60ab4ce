"""How a Jupyter kernel starts inside a container: its connection details and the small
Python program that hands them over.

The connection file (ports and the HMAC key) never travels in argv, env or labels, where
``docker inspect`` and ``ps`` would show it: the server writes it, as one JSON line, to
the stdin of ``python3 -c BOOTSTRAP``. The bootstrap writes it to a file only the
container's user can read (mode 0600 in a 0700 directory), starts the kernel command
from the kernel spec with ``{connection_file}`` replaced by that path, and removes the
file when the kernel ends, whose exit status it passes on. It ignores SIGINT itself (an
interrupt goes to the whole process group, and only the kernel should see it).

It imports ipykernel while the server sends the connection line, and when the kernel
command is the usual ``python3 -m ipykernel_launcher ...`` it runs the kernel in its forked
child (the same as the launcher does) instead of starting a second interpreter.

Pure: no Docker, no Jupyter.
"""

from __future__ import annotations

import json
import random
import secrets
import shlex

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# Where kernel ports are drawn from in a container: above the ports dev servers commonly
# use, below Linux's ephemeral range (32768-60999), where outgoing connections take their
# local ports, so that no connection of the container holds a kernel's port.
PORT_RANGE = (20000, 32000)
SIGNATURE_SCHEME = "hmac-sha256"

BOOTSTRAP = r"""
import json, os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
if sys.path and sys.path[0] == "":
    del sys.path[0]
try:  # the slow part, while the server sends the connection line
    from ipykernel.kernelapp import IPKernelApp
except Exception:
    IPKernelApp = None
conf = json.loads(sys.stdin.readline())
argv = conf.pop("argv")
os.environ.update(conf.pop("env", None) or {})
home = os.path.expanduser("~")
base = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".jcm-kernels")
os.makedirs(base, mode=0o700, exist_ok=True)
path = os.path.join(base, "kernel-%s.json" % conf.pop("kernel_id"))
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(conf).encode())
os.close(fd)
argv = [a.replace("{connection_file}", path) for a in argv]
in_process = IPKernelApp is not None and len(argv) > 2 and \
    os.path.basename(argv[0]).startswith("python") and argv[1:3] == ["-m", "ipykernel_launcher"]
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    if in_process:  # the spec's own command, without a second interpreter start
        sys.argv = ["ipykernel_launcher"] + argv[3:]
        IPKernelApp.launch_instance(argv=argv[3:])
        os._exit(0)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        sys.stderr.write("the kernel could not start: %s: %s\n" % (argv[0], err.strerror))
        os._exit(127)
try:
    os.close(0)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
finally:
    try:
        os.unlink(path)
    except OSError:
        pass
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""


def choose_ports(rng: random.Random | None = None) -> dict[str, int]:
    """Five distinct ports for a kernel, drawn from PORT_RANGE."""
    rng = rng or random.SystemRandom()
    ports = rng.sample(range(*PORT_RANGE), len(PORT_NAMES))
    return dict(zip(PORT_NAMES, ports, strict=True))


def new_key() -> str:
    """A fresh HMAC key for a kernel's messages."""
    return secrets.token_hex(32)


def kernel_side(ports: dict[str, int], key: str, ip: str = "0.0.0.0") -> dict:
    """The connection file as the kernel reads it: listening on every address of the
    container (the server connects to the container's address), or on ``127.0.0.1``
    only (the server's connections come through the container's agent)."""
    return {**ports, "ip": ip, "transport": "tcp", "key": key,
            "signature_scheme": SIGNATURE_SCHEME, "kernel_name": ""}


def server_side(ports: dict[str, int], key: str, address: str) -> dict:
    """The connection info the server's KernelManager uses: the container's address and
    the kernel's ports, or ``127.0.0.1`` and the ports forwarded there."""
    return {**ports, "ip": address, "transport": "tcp", "key": key.encode(),
            "signature_scheme": SIGNATURE_SCHEME}


def handover(argv: list[str], ports: dict[str, int], key: str, kernel_id: str,
             env: dict[str, str] | None = None, ip: str = "0.0.0.0") -> bytes:
    """The one line written to the bootstrap's stdin (``env``: set for the kernel;
    ``ip``: where the kernel listens)."""
    if not argv:
        raise ValueError("the kernel spec has an empty argv")
    safe_id = "".join(c for c in kernel_id if c.isalnum() or c == "-") or "kernel"
    conf = {**kernel_side(ports, key, ip), "argv": list(argv), "kernel_id": safe_id,
            "env": dict(env or {})}
    return json.dumps(conf).encode() + b"\n"


def bootstrap_argv(python: str = "python3") -> list[str]:
    """The command that starts the bootstrap (argv, no shell)."""
    return [python, "-c", BOOTSTRAP]


def describe(argv: list[str]) -> str:
    """The kernel command for a log line (it holds no secret: the key is in the file)."""
    return shlex.join(argv)
