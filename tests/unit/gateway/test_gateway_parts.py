"""Pure parts of the gateway: listing diffs, /proc/net/tcp, the replay buffer, the line
terminal's trailer, and the bounded outbox (no Docker)."""

from __future__ import annotations

import asyncio

from jupyter_container_manager.engine.ports import parse_listening
from jupyter_container_manager.engine.terminals import ReplayBuffer, _tail_after_nul
from jupyter_container_manager.engine.watch import diff_snapshots, parse_entry
from jupyter_container_manager.gateway.outbox import Outbox, OutboxClosed


def test_parse_entry_keeps_any_name():
    path, entry = parse_entry(b"f\t1700000000.5\t12\t/w/a\tb\nc.js")
    assert path == "/w/a\tb\nc.js" and entry == ("f", "1700000000.5", "12")
    assert parse_entry(b"garbage") is None


def test_diff_snapshots_orders_removals_then_additions_then_changes():
    old = {
        "/w": ("d", "1", "0"),
        "/w/gone": ("d", "1", "0"),
        "/w/gone/x.js": ("f", "1", "3"),
        "/w/same.js": ("f", "1", "3"),
        "/w/edited.js": ("f", "1", "3"),
        "/w/was-file": ("f", "1", "3"),
    }
    new = {
        "/w": ("d", "2", "0"),  # a folder's own mtime is not a change
        "/w/same.js": ("f", "1", "3"),
        "/w/edited.js": ("f", "2", "3"),
        "/w/was-file": ("d", "2", "0"),
        "/w/new": ("d", "2", "0"),
        "/w/new/deep.js": ("f", "2", "1"),
        "/w/link": ("l", "2", "5"),
    }
    assert diff_snapshots(old, new) == [
        ("/w/gone/x.js", "unlink"),
        ("/w/gone", "unlinkDir"),
        ("/w/was-file", "unlink"),
        ("/w/link", "add"),
        ("/w/new", "addDir"),
        ("/w/was-file", "addDir"),
        ("/w/new/deep.js", "add"),
        ("/w/edited.js", "change"),
    ]
    assert diff_snapshots(new, new) == []


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:0BB8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1
   0: 00000000000000000000000000000000:1389 00000000000000000000000000000000:0000 0A 0 0 0 0
"""


def test_parse_listening_takes_listen_state_only():
    assert parse_listening(PROC_NET_TCP) == {3000, 8080, 5001}
    assert parse_listening("") == set()
    assert parse_listening("junk line\n 1: zz:zz 0:0 0A") == set()


def test_replay_buffer_is_bounded_in_utf8_bytes():
    buffer = ReplayBuffer(10)
    buffer.append("abc")
    buffer.append("défgh")  # 6 bytes
    assert buffer.text() == "abcdéfgh" and buffer.size == 9
    buffer.append("xyz")
    assert buffer.size <= 10 and buffer.text().endswith("fghxyz")
    buffer.append("é" * 20)  # one chunk larger than the bound: its tail is kept
    assert buffer.text() == "é" * 5 and buffer.size == 10
    buffer.append("a")
    assert buffer.size <= 10 and buffer.text().endswith("a")
    assert len(buffer.text().encode()) == buffer.size


def test_line_trailer():
    assert _tail_after_nul(b"out\x00err\n\x00/workspace/a b") == (b"out\x00err\n",
                                                                "/workspace/a b")
    assert _tail_after_nul(b"killed before the trap") == (b"killed before the trap", None)


async def _outbox_scenario():
    sent: list[str] = []
    gate = asyncio.Event()

    async def send(text):
        await gate.wait()
        sent.append(text)

    outbox = Outbox(send, limit=10)
    assert outbox.offer(b"aaaa")
    assert outbox.offer(b"bbbb")
    assert not outbox.offer(b"cccccc")  # would pass the bound: dropped
    assert outbox.dropped == 1
    assert outbox.offer(b"status", droppable=False)  # control pushes always queue
    waiting = asyncio.ensure_future(outbox.put(b"dddd"))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # backpressure: waits for room
    gate.set()
    await asyncio.wait_for(waiting, 1)
    for _ in range(100):
        if len(sent) == 4:
            break
        await asyncio.sleep(0.01)
    assert sent == [b"aaaa", b"bbbb", b"status", b"dddd"]
    outbox.close()
    try:
        await outbox.put(b"late")
    except OutboxClosed:
        return True
    return False


def test_outbox_bounds_drops_and_waits():
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(_outbox_scenario())
    finally:
        loop.close()


def test_outbox_sends_binary_frames_as_binary():
    async def scenario():
        sent = []

        async def send(frame, binary=False):
            sent.append((frame, binary))

        outbox = Outbox(send, limit=100, stall_timeout=5)  # also through the watched send
        outbox.offer(b"text")
        outbox.offer(b"\x02bytes", binary=True)
        await outbox.put(b"\x01more", binary=True)
        await outbox.put(b"reply")
        for _ in range(100):
            if len(sent) == 4:
                break
            await asyncio.sleep(0.01)
        outbox.close()
        return sent

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(scenario()) == [
            (b"text", False), (b"\x02bytes", True), (b"\x01more", True), (b"reply", False)]
    finally:
        loop.close()


def test_outbox_closes_when_sending_fails():
    async def scenario():
        async def send(text):
            raise OSError("gone")

        outbox = Outbox(send, limit=100)
        outbox.offer(b"x")
        for _ in range(100):
            if outbox.closed:
                return True
            await asyncio.sleep(0.01)
        return False

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_host_listening_ports_reads_only_our_containers_init(tmp_path):
    from jupyter_container_manager.core.models import ContainerInfo
    from jupyter_container_manager.engine.ports import host_listening_ports

    def info(pid):
        return ContainerInfo(id="x", name="n", image="i", status="running", created="",
                             owner="o", workdir="/w", pid=pid)

    ours = tmp_path / "42"
    (ours / "net").mkdir(parents=True)
    (ours / "cmdline").write_bytes(b"/sbin/docker-init\0--\0sleep\x002147483647\0")
    (ours / "net" / "tcp").write_text(PROC_NET_TCP)
    assert host_listening_ports(info(42), proc=str(tmp_path)) == {3000, 8080, 5001}
    other = tmp_path / "43"
    (other / "net").mkdir(parents=True)
    (other / "cmdline").write_bytes(b"bash\0")
    (other / "net" / "tcp").write_text(PROC_NET_TCP)
    assert host_listening_ports(info(43), proc=str(tmp_path)) is None  # not our init
    assert host_listening_ports(info(44), proc=str(tmp_path)) is None  # no such process
    assert host_listening_ports(info(0), proc=str(tmp_path)) is None  # not running
