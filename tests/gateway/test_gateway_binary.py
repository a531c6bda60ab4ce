"""Version 2 of the /container protocol: process and terminal output as binary frames, on
the real engine, beside version 1 (and a client that offers no subprotocol), which keep
JSON text frames."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client import protocol_generated as events
from jupyter_container_manager.gateway import protocol
from tests.support.gateway_client import GatewayClient

V1 = ["jupyter-container-manager.v1"]
V2 = list(events.SUBPROTOCOLS)  # what the clients offer: v2, then v1
# "€" (e2 82 ac) split between two writes, which reach the server as two reads.
SPLIT_EURO = "printf 'a\\342\\202'; sleep 0.4; printf '\\254b\\n'; printf 'h\\303\\251\\n'"


async def socket(jp_ws_fetch, container_id: str, offered) -> GatewayClient:
    kwargs = {} if offered is None else {"subprotocols": offered}
    client = await GatewayClient.connect(jp_ws_fetch, **kwargs)
    await client.join(container_id)
    return client


async def spawn_and_wait(client: GatewayClient, script: str) -> tuple[int, str]:
    pid = (await client.ok("process-operation", {"type": "spawn", "command": "sh",
                                                 "args": ["-c", script]}))["pid"]
    exit_ = await client.push("process-exit", lambda d: d["pid"] == pid)
    assert exit_["exitCode"] == 0, exit_
    output = "".join(d["data"] for d in client.pushes("process-output") if d["pid"] == pid)
    return pid, output


def check_binary_frames(client: GatewayClient) -> None:
    """Each binary frame stands for a text frame that passes the protocol table."""
    decoded = [f for f in client.frames if f["event"] in protocol.BINARY_KINDS]
    for frame in decoded:
        protocol.check_server_frame(frame["event"], frame["data"])
    for event, fields, _ in client.binary:
        protocol.check_server_frame(event, {**fields, "data": ""})


async def test_v2_process_output_comes_as_binary_frames_and_decodes_as_v1(
    jp_ws_fetch, api
):
    container = await api.create(name="binary")
    v1 = await socket(jp_ws_fetch, container["id"], V1)
    v2 = await socket(jp_ws_fetch, container["id"], V2)
    assert v1.connection.selected_subprotocol == "jupyter-container-manager.v1"
    assert v2.connection.selected_subprotocol == "jupyter-container-manager.v2"
    try:
        text_pid, text = await spawn_and_wait(v1, SPLIT_EURO)
        pid, decoded = await spawn_and_wait(v2, SPLIT_EURO)
        assert text == decoded == "a€b\nhé\n"

        # v2: the output came as binary frames, the bytes as the process wrote them: the
        # character split between two frames, decoded whole by the client.
        payloads = [payload for event, fields, payload in v2.binary
                    if event == "process-output" and fields == {"pid": pid}]
        assert len(payloads) >= 2, payloads
        assert payloads[0] == b"a\xe2\x82"
        assert b"".join(payloads) == "a€b\nhé\n".encode()
        assert not any(isinstance(m, str) and '"process-output"' in m for m in v2.raw)
        # Replies and other pushes stay JSON text.
        assert any(isinstance(m, str) and '"process-exit"' in m for m in v2.raw)
        check_binary_frames(v2)

        # v1: text frames only, the split character whole in one of them.
        assert all(isinstance(m, str) for m in v1.raw)
        assert "a€b\n" in "".join(d["data"] for d in v1.pushes("process-output")
                                  if d["pid"] == text_pid)
    finally:
        v1.close()
        v2.close()


async def test_invalid_utf8_decodes_as_v1_does(jp_ws_fetch, api):
    """The server replaces invalid bytes for v1; a v2 client's decoder does the same,
    also for an incomplete character at the very end (flushed before process-exit)."""
    container = await api.create(name="binary")
    v1 = await socket(jp_ws_fetch, container["id"], V1)
    v2 = await socket(jp_ws_fetch, container["id"], V2)
    script = "printf 'x\\377y\\300\\257z\\n'; sleep 0.2; printf 'end\\342\\202'"
    try:
        _, text = await spawn_and_wait(v1, script)
        _, decoded = await spawn_and_wait(v2, script)
        assert decoded == text
        assert text.startswith("x\ufffdy") and text.endswith("end\ufffd")
        check_binary_frames(v2)
    finally:
        v1.close()
        v2.close()


@pytest.mark.parametrize("offered", [None, V1, ["jupyter-container-manager.v9"]])
async def test_v1_and_clients_offering_nothing_get_text_frames(jp_ws_fetch, api, offered):
    container = await api.create(name="binary")
    client = await socket(jp_ws_fetch, container["id"], offered)
    try:
        _, output = await spawn_and_wait(client, SPLIT_EURO)
        assert output == "a€b\nhé\n"
        terminal = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await client.send("pty-input", {"terminalId": terminal, "data": "echo té$((6*7))\r"})
        await client.pty_text(terminal, "té42")
        assert all(isinstance(message, str) for message in client.raw)
        assert client.binary == []
        await client.ok("pty-close", {"terminalId": terminal, "kill": True})
    finally:
        client.close()


async def test_v2_terminal_output_comes_as_binary_frames(jp_ws_fetch, api):
    container = await api.create(name="binary")
    v2 = await socket(jp_ws_fetch, container["id"], V2)
    v1 = None
    try:
        terminal = (await v2.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        await v2.send("pty-input", {"terminalId": terminal,
                                    "data": "printf '\\342\\202'; sleep 0.3; printf '\\254%s\\n' "
                                            "$((6*7))\r"})
        await v2.pty_text(terminal, "€42")
        frames = [(e, f) for e, f, _ in v2.binary if e == "pty-output"]
        assert frames and all(f["terminalId"] == terminal for _, f in frames)
        assert not any(isinstance(m, str) and '"pty-output"' in m for m in v2.raw)

        # A v1 socket on the same terminal: text frames, the same text, as replay first.
        v1 = await socket(jp_ws_fetch, container["id"], V1)
        await v1.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": terminal})
        replay = await v1.push("pty-output", lambda d: d.get("replay"))
        assert "€42" in replay["data"]
        # A second v2 socket re-attaches: its replay is a binary frame with the flag.
        again = await socket(jp_ws_fetch, container["id"], V2)
        try:
            await again.ok("pty-open", {"cols": 80, "rows": 24, "terminalId": terminal})
            replayed = await again.push("pty-output", lambda d: d.get("replay"))
            assert replayed["data"] == replay["data"]
            assert any(f.get("replay") for e, f, _ in again.binary)
            check_binary_frames(again)
        finally:
            again.close()

        await v2.send("pty-input", {"terminalId": terminal, "data": "echo hé$((2*3))\r"})
        seen_v2 = await v2.pty_text(terminal, "hé6\r\n")
        seen_v1 = await v1.pty_text(terminal, "hé6\r\n")
        assert seen_v2.endswith(seen_v1[-20:])
        assert all(isinstance(m, str) for m in v1.raw)
        check_binary_frames(v2)

        await v2.ok("pty-close", {"terminalId": terminal, "kill": True})  # v2 detached
        await v1.push("pty-exit", lambda d: d["terminalId"] == terminal)
    finally:
        v2.close()
        if v1 is not None:
            v1.close()


async def test_v2_output_under_load_arrives_whole(jp_ws_fetch, api):
    """Many binary frames, large ones among them, add up to exactly what was written."""
    container = await api.create(name="binary")
    client = await socket(jp_ws_fetch, container["id"], V2)
    try:
        size = 8 * 2**20
        pid = (await client.ok("process-operation", {
            "type": "spawn", "command": "sh",
            "args": ["-c", f"yes 'ünïcödé 0123456789' | head -c {size}"]}))["pid"]
        await client.push("process-exit", lambda d: d["pid"] == pid, timeout=60)
        payload = b"".join(p for e, f, p in client.binary
                           if e == "process-output" and f["pid"] == pid)
        assert len(payload) == size
        text = "".join(d["data"] for d in client.pushes("process-output") if d["pid"] == pid)
        assert text == payload.decode("utf-8", "replace")
    finally:
        client.close()
