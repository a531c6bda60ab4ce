"""Listening ports read from the host: a network namespace whose sockstat counts no TCP
socket in use has none listening, and its (costly) tables are not read."""

from __future__ import annotations

from jupyter_container_manager.core.models import ContainerInfo
from jupyter_container_manager.engine.ports import host_listeners, tcp_in_use

SOCKSTAT = "sockets: used 3\nTCP: inuse {v4} orphan 0 tw 0 alloc 22 mem 1\nUDP: inuse 0 mem 0\n"
SOCKSTAT6 = "TCP6: inuse {v6}\nUDP6: inuse 0\n"
LISTEN_3000 = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
    "       0 4242 1 0000000000000000 100 0 0 10 0\n")


def container(tmp_path, v4: int | None, v6: int | None, pid: int = 42):
    root = tmp_path / str(pid)
    (root / "net").mkdir(parents=True)
    (root / "cmdline").write_bytes(b"/sbin/docker-init\0--\0sleep\x002147483647\0")
    (root / "net" / "tcp").write_text(LISTEN_3000)
    if v4 is not None:
        (root / "net" / "sockstat").write_text(SOCKSTAT.format(v4=v4))
    if v6 is not None:
        (root / "net" / "sockstat6").write_text(SOCKSTAT6.format(v6=v6))
    return ContainerInfo(id="x", name="n", image="i", status="running", created="",
                         owner="o", workdir="/w", pid=pid)


def test_no_tcp_socket_in_use_means_no_listener(tmp_path):
    info = container(tmp_path, 0, 0)
    assert tcp_in_use(f"{tmp_path}/42/net") == 0
    # The tables (which here would say 3000) are not read.
    assert host_listeners(info, proc=str(tmp_path)) == {}


def test_sockets_in_use_mean_the_tables_are_read(tmp_path):
    assert set(host_listeners(container(tmp_path, 0, 1), proc=str(tmp_path))) == {3000}
    assert set(host_listeners(container(tmp_path, 2, None, 43), proc=str(tmp_path))) == {3000}
    # No sockstat at all: the tables decide.
    assert set(host_listeners(container(tmp_path, None, None, 44), proc=str(tmp_path))) == {3000}
    assert tcp_in_use(f"{tmp_path}/44/net") is None
