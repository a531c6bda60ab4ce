"""The kernel's connection details and their handover (core/kernel_launch.py), and the
run-code events (core/execution.py): pure, no Docker."""

from __future__ import annotations

import json
import random
import subprocess
import sys

from jupyter_container_manager.core import kernel_launch
from jupyter_container_manager.core.execution import Execution, event_of, plain


def test_ports_are_distinct_and_in_range():
    for seed in range(50):
        ports = kernel_launch.choose_ports(random.Random(seed))
        assert set(ports) == set(kernel_launch.PORT_NAMES)
        assert len(set(ports.values())) == 5
        assert all(kernel_launch.PORT_RANGE[0] <= p < kernel_launch.PORT_RANGE[1]
                   for p in ports.values())


def test_the_handover_carries_the_key_and_the_argv_not_the_command_line():
    ports = kernel_launch.choose_ports(random.Random(1))
    key = kernel_launch.new_key()
    line = kernel_launch.handover(["python3", "-m", "ipykernel_launcher", "-f",
                                   "{connection_file}"], ports, key, "k/../1")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    conf = json.loads(line)
    assert conf["key"] == key and conf["ip"] == "0.0.0.0" and conf["kernel_id"] == "k1"
    assert key not in " ".join(kernel_launch.bootstrap_argv())
    server = kernel_launch.server_side(ports, key, "172.17.0.5")
    assert server["ip"] == "172.17.0.5" and server["key"] == key.encode()
    # Reached through the container's agent (a swarm): on the container's loopback only.
    loopback = json.loads(kernel_launch.handover(["python3"], ports, key, "k", ip="127.0.0.1"))
    assert loopback["ip"] == "127.0.0.1"


def test_the_bootstrap_writes_a_private_file_runs_the_command_and_removes_the_file(tmp_path):
    """With a command that is not ipykernel: the file exists (0600) while it runs, the
    exit status is passed on, and the file is gone afterwards."""
    probe = ("import os, stat, sys; p = sys.argv[1]; "
             "print(oct(stat.S_IMODE(os.stat(p).st_mode)), open(p).read()); sys.exit(3)")
    ports = kernel_launch.choose_ports(random.Random(2))
    line = kernel_launch.handover([sys.executable, "-c", probe, "{connection_file}"], ports,
                                  "secret", "abc")
    done = subprocess.run([sys.executable, "-c", kernel_launch.BOOTSTRAP], input=line,
                          capture_output=True, env={"HOME": str(tmp_path)}, timeout=60)
    assert done.returncode == 3, done.stderr
    mode, contents = done.stdout.decode().split(" ", 1)
    assert mode == "0o600" and json.loads(contents)["key"] == "secret"
    assert list((tmp_path / ".jcm-kernels").iterdir()) == []


def test_events_of_iopub_messages_add_up():
    messages = [
        {"msg_type": "status", "content": {"execution_state": "busy"}},
        {"msg_type": "stream", "content": {"name": "stdout", "text": "a"}},
        {"msg_type": "stream", "content": {"name": "stderr", "text": "w"}},
        {"msg_type": "display_data", "content": {"data": {"image/png": "iVBOR"}, "metadata": {}}},
        {"msg_type": "execute_result", "content": {"data": {"text/plain": "2"},
                                                   "metadata": {}, "execution_count": 1}},
        {"msg_type": "error", "content": {"ename": "E", "evalue": "v",
                                          "traceback": ["\x1b[0;31mE\x1b[0m: v"]}},
    ]
    execution = Execution()
    events = [e for e in map(event_of, messages) if e]
    assert [e["type"] for e in events] == ["stdout", "stderr", "result", "result", "error"]
    for event in events:
        execution.add(event)
    answer = execution.to_json()
    assert answer["stdout"] == "a" and answer["stderr"] == "w"
    assert [r["isMainResult"] for r in answer["results"]] == [False, True]
    assert answer["error"] == {"name": "E", "value": "v", "traceback": "E: v"}
    assert plain("\x1b[1;32mok\x1b[0m") == "ok"
