"""The /container protocol tables and frame validation (pure, no Docker)."""

from __future__ import annotations

import json

import pytest

from jupyter_container_manager.gateway import protocol
from jupyter_container_manager.gateway.protocol import FrameError, parse_frame


def frame(event, data=None, **extra):
    return json.dumps({"event": event, "data": data if data is not None else {}, **extra})


GOOD = [
    frame("join-container", {"containerId": "x"}, id=1),
    frame("fs-operation", {"type": "readFile", "path": "/a", "encoding": "base64"}, id="a"),
    frame("fs-operation", {"type": "writeFile", "path": "/a", "contents": ""}),
    frame("fs-operation", {"type": "rename", "oldPath": "/a", "newPath": "/b"}),
    frame("fs-operation", {"type": "rm", "path": "/a", "recursive": True, "force": False}),
    frame("process-operation", {"type": "spawn", "command": "ls", "args": ["-l"],
                                "env": {"A": "b"}, "terminal": {"cols": 80, "rows": 24}}),
    frame("process-operation", {"type": "input", "pid": 3, "data": "x"}),
    frame("process-operation", {"type": "kill", "pid": 3, "signal": "TERM"}),
    frame("terminal-input", {"input": "ls"}),
    frame("pty-open", {"cols": 1, "rows": 1000}),
    frame("pty-open", {"cols": 80, "rows": 24, "terminalId": None}),
    frame("pty-input", {"terminalId": "t", "data": "\u0003"}),
    frame("pty-resize", {"terminalId": "t", "cols": 80, "rows": 24}),
    json.dumps({"event": "terminal-input", "data": {"input": "x"}, "id": None}),
    json.dumps({"event": "terminal-input", "data": {"input": "x"}, "id": -(2**53 - 1)}),
    json.dumps({"event": "pty-open", "data": {"cols": 80, "rows": 24, "extra": [1]}}),
]


@pytest.mark.parametrize("text", GOOD)
def test_good_frames_parse(text):
    request = parse_frame(text)
    assert request.event in protocol.CLIENT_EVENTS
    assert isinstance(request.data, dict)


BAD = [
    # text, code, id carried
    ("{", protocol.BAD_FRAME, None),
    ("1", protocol.BAD_FRAME, None),
    ("[]", protocol.BAD_FRAME, None),
    (b"\xff", protocol.BAD_FRAME, None),
    ("[" * 5000 + "]" * 5000, protocol.BAD_FRAME, None),
    ('{"data": {}, "id": 4}', protocol.BAD_FRAME, 4),
    ('{"event": ["x"], "id": 4}', protocol.BAD_FRAME, 4),
    ('{"event": "x", "id": 4.5}', protocol.BAD_FRAME, None),
    ('{"event": "x", "id": false}', protocol.BAD_FRAME, None),
    (json.dumps({"event": "x", "id": "i" * 129}), protocol.BAD_FRAME, None),
    (json.dumps({"event": "x", "id": 2**53}), protocol.BAD_FRAME, None),
    ('{"event": "nope", "id": "i"}', protocol.UNKNOWN_EVENT, "i"),
    ('{"event": "ok", "id": "i"}', protocol.UNKNOWN_EVENT, "i"),  # a server event
    (frame("join-container", [], id="i"), protocol.BAD_DATA, "i"),
    (frame("join-container", id="i"), protocol.BAD_DATA, "i"),
    (frame("join-container", {"containerId": None}, id="i"), protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"path": "/"}, id="i"), protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"type": "chmod", "path": "/"}, id="i"), protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"type": "readFile", "path": "/", "encoding": "latin1"}, id="i"),
     protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"type": "writeFile", "path": "/"}, id="i"), protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"type": "rename", "path": "/"}, id="i"), protocol.BAD_DATA, "i"),
    (frame("fs-operation", {"type": "mkdir", "path": "/", "recursive": "yes"}, id="i"),
     protocol.BAD_DATA, "i"),
    (frame("process-operation", {"type": "spawn"}, id="i"), protocol.BAD_DATA, "i"),
    (frame("process-operation", {"type": "spawn", "command": "a", "env": {"A": 1}}, id="i"),
     protocol.BAD_DATA, "i"),
    (frame("process-operation", {"type": "spawn", "command": "a",
                                 "terminal": {"cols": 80}}, id="i"), protocol.BAD_DATA, "i"),
    (frame("process-operation", {"type": "input", "pid": True, "data": ""}, id="i"),
     protocol.BAD_DATA, "i"),
    (frame("process-operation", {"type": "input", "pid": 0, "data": ""}, id="i"),
     protocol.BAD_DATA, "i"),
    (frame("pty-open", {"cols": 80, "rows": 1001}, id="i"), protocol.BAD_DATA, "i"),
    (frame("pty-open", {"cols": 80.0, "rows": 24}, id="i"), protocol.BAD_DATA, "i"),
    (frame("pty-input", {"terminalId": 5, "data": "x"}, id="i"), protocol.BAD_DATA, "i"),
]


@pytest.mark.parametrize("text, code, request_id", BAD)
def test_bad_frames_raise_with_code_and_id(text, code, request_id):
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    assert caught.value.code == code
    assert caught.value.request_id == request_id
    assert caught.value.message and len(caught.value.message) < 500


def test_messages_name_the_field():
    with pytest.raises(FrameError, match=r"'terminal\.rows' is required"):
        parse_frame(frame("process-operation", {"type": "spawn", "command": "a",
                                                "terminal": {"cols": 80}}))
    with pytest.raises(FrameError, match=r"'args\[1\]' must be a string, not an integer"):
        parse_frame(frame("process-operation", {"type": "spawn", "command": "a",
                                                "args": ["x", 2]}))


def test_every_event_has_a_known_reply_and_documented_pushes():
    for event in protocol.CLIENT_EVENTS.values():
        assert protocol.reply_event(event.name) in protocol.SERVER_EVENTS
        for push in event.pushes:
            assert protocol.SERVER_EVENTS[push].push, push
        if event.variant_key:
            choices = next(f.choices for f in event.fields if f.name == event.variant_key)
            assert set(choices) == set(event.variants)


def test_api_md_events_are_all_there():
    assert {"join-container", "fs-operation", "process-operation", "terminal-input",
            "pty-open", "pty-input", "pty-resize"} <= set(protocol.CLIENT_EVENTS)
    assert {"joined-container", "fs-result", "fs-change", "process-result", "process-output",
            "process-exit", "terminal-output", "pty-opened", "pty-output", "pty-exit", "port",
            "server-ready", "container-status", "ok", "error"} <= set(protocol.SERVER_EVENTS)
    assert set(protocol.FS_OPERATIONS) == {"readFile", "writeFile", "readdir", "mkdir", "rm",
                                           "rename", "stat", "watch", "unwatch"}
    assert set(protocol.PROCESS_OPERATIONS) == {"spawn", "input", "kill", "resize"}


def test_describe_is_plain_json_for_docs():
    described = json.loads(json.dumps(protocol.describe()))
    assert described["client"]["fs-operation"]["reply"] == "fs-result"
    assert described["client"]["pty-input"]["reply"] == "ok"
    assert "readFile" in described["client"]["fs-operation"]["variants"]
    assert described["server"]["fs-change"]["push"] is True


def test_encode_puts_the_id_only_on_replies():
    assert json.loads(protocol.encode("ok", {}, 7)) == {"event": "ok", "data": {}, "id": 7}
    assert json.loads(protocol.encode("port", {"port": 1})) == {"event": "port",
                                                                "data": {"port": 1}}


# --- frames out ------------------------------------------------------------------------

GOOD_OUT = [
    ("joined-container", {"containerId": "c", "status": "running", "cwd": "/w", "workdir": "/w",
                          "terminals": ["t1"]}, 1),
    ("fs-result", {"type": "mkdir", "result": None}, 2),
    ("fs-result", {"type": "readdir", "result": ["a"]}, None),
    ("error", {"message": "nope", "code": None}, "i"),
    ("error", {"message": "nope"}, None),
    ("ok", {}, 3),
    ("fs-change", {"path": "/a", "kind": "addDir"}, None),
    ("pty-output", {"terminalId": "t", "data": "x", "dropped": 3}, None),
    ("port", {"port": 3000, "type": "open", "url": "/proxy/3000/"}, None),
    ("container-status", {"containerId": "c", "status": "unknown",
                          "code": "ENGINE_UNAVAILABLE", "message": "start Docker"}, None),
]

BAD_OUT = [
    ("no-such-event", {}, None, "not a server event"),
    ("fs-change", {"path": "/a", "kind": "add"}, 4, "a push carries no id"),
    ("fs-change", {"path": "/a", "kind": "moved"}, None, "'kind' must be one of"),
    ("fs-change", {"path": "/a"}, None, "'kind' is required"),
    ("process-output", {"pid": "1", "data": "x"}, None, "'pid' must be an integer"),
    ("port", {"port": 1, "type": "open", "url": "u", "host": "h"}, None, "'host' is not one"),
    ("pty-output", {"terminalId": "t", "data": "x", "dropped": None}, None, "'dropped' is null"),
    ("fs-result", {"type": "mkdir"}, 1, "'result' is required"),
    ("joined-container", [], 1, "data must be an object"),
]


@pytest.mark.parametrize("event, data, request_id", GOOD_OUT)
def test_frames_the_server_sends_pass_the_table(event, data, request_id):
    protocol.check_server_frame(event, data, request_id)


@pytest.mark.parametrize("event, data, request_id, message", BAD_OUT)
def test_frames_that_break_the_table_are_caught(event, data, request_id, message):
    with pytest.raises(protocol.ProtocolViolation, match=message):
        protocol.check_server_frame(event, data, request_id)


def test_a_bad_frame_out_raises_when_strict_and_is_logged_and_sent_otherwise(
    monkeypatch, caplog
):
    monkeypatch.setenv(protocol.STRICT_ENV, "1")
    with pytest.raises(protocol.ProtocolViolation):
        protocol.server_frame("fs-change", {"path": 5, "kind": "add"})
    monkeypatch.setenv(protocol.STRICT_ENV, "0")
    sent = protocol.server_frame("fs-change", {"path": 6, "kind": "add"})
    assert json.loads(sent) == {"event": "fs-change", "data": {"path": 6, "kind": "add"}}
    assert any("breaks the protocol table" in r.message for r in caplog.records)
    protocol.VIOLATIONS.clear()  # seen on purpose


def test_good_frames_out_encode_like_encode():
    assert protocol.server_frame("ok", {}, 7) == protocol.encode("ok", {}, 7)


def test_container_statuses_are_the_models():
    from jupyter_container_manager.core.models import STATUSES

    assert protocol.CONTAINER_STATUSES == STATUSES


# --- subprotocol -----------------------------------------------------------------------

TOKEN = "base64url.bearer.authorization.jupyter-container-manager.YWJj"


@pytest.mark.parametrize("offered, selected", [
    ([], None),
    (["jupyter-container-manager.v1"], "jupyter-container-manager.v1"),
    (["jupyter-container-manager.v1", TOKEN], "jupyter-container-manager.v1"),
    ([TOKEN, "jupyter-container-manager.v1"], "jupyter-container-manager.v1"),
    (["jupyter-container-manager.v99", "jupyter-container-manager.v1"],
     "jupyter-container-manager.v1"),
    (["jupyter-container-manager.v99"], None),
    ([TOKEN], None),
    (["v1.kernel.websocket.jupyter.org", "jupyter-container-manager.v01"], None),
    (["jupyter-container-manager"], None),
    (["jupyter-container-manager.v2", "jupyter-container-manager.v1"],
     "jupyter-container-manager.v2"),
    (["jupyter-container-manager.v1", "jupyter-container-manager.v2", TOKEN],
     "jupyter-container-manager.v2"),
    (["jupyter-container-manager.v3", "jupyter-container-manager.v2"],
     "jupyter-container-manager.v2"),
])
def test_the_highest_offered_version_we_speak_is_selected(offered, selected):
    assert protocol.select_subprotocol(offered) == selected


def test_the_highest_version_wins(monkeypatch):
    monkeypatch.setattr(protocol, "PROTOCOL_VERSIONS", (1, 2))
    offered = ["jupyter-container-manager.v1", "jupyter-container-manager.v2"]
    assert protocol.select_subprotocol(offered) == "jupyter-container-manager.v2"
    assert protocol.select_subprotocol(offered[:1]) == "jupyter-container-manager.v1"


def test_clients_offer_every_version_highest_first():
    assert protocol.SUBPROTOCOLS == ("jupyter-container-manager.v2",
                                     "jupyter-container-manager.v1")
    assert protocol.select_subprotocol(list(protocol.SUBPROTOCOLS)) == protocol.SUBPROTOCOL


@pytest.mark.parametrize("selected, version", [
    (None, 1), ("", 1), ("jupyter-container-manager.v1", 1),
    ("jupyter-container-manager.v2", 2),
])
def test_the_version_a_socket_speaks(selected, version):
    assert protocol.version_of(selected) == version


# --- binary output frames (version 2) -------------------------------------------------------


@pytest.mark.parametrize("event, fields, payload", [
    ("process-output", {"pid": 7}, b"plain"),
    ("process-output", {"pid": 2**31 - 1}, b"\xe2\x82"),  # ends inside a character
    ("pty-output", {"terminalId": "ab" * 16}, "prompt é $ ".encode()),
    ("pty-output", {"terminalId": "t", "replay": True}, b"replayed"),
    ("pty-output", {"terminalId": "t", "dropped": 2**40 + 3}, b""),
    ("pty-output", {"terminalId": "t", "replay": True, "dropped": 1}, b"\x00\xff"),
])
def test_binary_frames_carry_the_fields_of_their_text_form(event, fields, payload):
    frame = protocol.binary_frame(event, fields, payload)
    assert frame[0] == protocol.BINARY_KINDS[event]
    assert protocol.parse_binary_frame(frame) == (event, fields, payload)
    assert protocol.binary_frame(event, fields, [payload[:1], payload[1:]]) == frame
    # The Python client reads them alike (it speaks the protocol from the generated file).
    from jupyter_container_manager.client.gateway import parse_output_frame

    assert parse_output_frame(frame) == (event, fields, payload)


def test_a_binary_frame_layout_byte_by_byte():
    frame = protocol.binary_frame("pty-output", {"terminalId": "abc", "dropped": 258}, b"hi")
    assert frame == b"\x02\x04\x03abc" + (258).to_bytes(8, "big") + b"hi"
    assert protocol.binary_frame("process-output", {"pid": 42}, b"x") == b"\x01\x00\x0242x"


def test_every_field_of_a_binary_push_has_a_place_in_the_frame():
    placed = {"data", "replay", "dropped"}
    for event, target in protocol.BINARY_TARGETS.items():
        names = {f.name for f in protocol.SERVER_EVENTS[event].fields}
        assert names <= placed | {target}, event
        assert protocol.SERVER_EVENTS[event].push


@pytest.mark.parametrize("event, fields", [
    ("process-output", {"pid": 1.5}),
    ("process-output", {"pid": "7"}),
    ("pty-output", {"terminalId": "t", "replay": "yes"}),
    ("pty-output", {"terminalId": "t", "extra": 1}),
    ("pty-output", {}),
])
def test_binary_frames_are_checked_against_the_table(event, fields, monkeypatch):
    monkeypatch.setenv(protocol.STRICT_ENV, "1")
    with pytest.raises(protocol.ProtocolViolation):
        protocol.binary_frame(event, fields, b"x")
    protocol.VIOLATIONS.clear()


def test_only_output_goes_binary(monkeypatch):
    monkeypatch.setenv(protocol.STRICT_ENV, "1")
    with pytest.raises(protocol.ProtocolViolation):
        protocol.binary_frame("process-exit", {"pid": 1}, b"")
    protocol.VIOLATIONS.clear()


@pytest.mark.parametrize("frame", [b"", b"\x01\x00", b"\x09\x00\x011x", b"\x01\x00\x00x",
                                   b"\x02\x00\x05ab", b"\x02\x04\x01t\x00"])
def test_malformed_binary_frames_are_refused(frame):
    with pytest.raises(ValueError):
        protocol.parse_binary_frame(frame)


def test_the_docs_describe_the_binary_layout():
    from jupyter_container_manager.gateway.docs_page import render_html

    described = protocol.describe()
    assert described["binary"]["since"] == 2
    assert described["binary"]["events"] == {"process-output": 1, "pty-output": 2}
    page = render_html(described, "/container")
    assert "binary-frames" in page and "idLength" in page
    assert "<code>/container/socket.io/</code>" in page  # the Socket.IO client's path
