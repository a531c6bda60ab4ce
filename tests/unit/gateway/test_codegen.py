"""The clients' generated protocol modules are what the protocol table gives now."""

from __future__ import annotations

import ast

import pytest

from jupyter_container_manager.client import protocol_generated as generated
from jupyter_container_manager.gateway import codegen, protocol


@pytest.mark.parametrize("target", sorted(codegen.GENERATORS))
def test_the_committed_file_is_fresh(target):
    committed = (codegen.ROOT / target).read_text(encoding="utf-8")
    assert committed == codegen.GENERATORS[target](), (
        f"{target} is stale: run `{codegen.COMMAND}` and commit the result"
    )


def test_the_python_module_names_every_event_and_its_version():
    assert generated.CLIENT_EVENTS == tuple(protocol.CLIENT_EVENTS)
    assert generated.SERVER_EVENTS == tuple(protocol.SERVER_EVENTS)
    assert set(generated.PUSH_EVENTS) == {e.name for e in protocol.SERVER_EVENTS.values()
                                          if e.push}
    assert generated.SUBPROTOCOL == protocol.SUBPROTOCOL
    assert generated.SUBPROTOCOLS == protocol.SUBPROTOCOLS
    assert generated.BINARY_VERSION == protocol.BINARY_VERSION
    assert {generated.BINARY_PROCESS_OUTPUT: "process-output",
            generated.BINARY_PTY_OUTPUT: "pty-output"} == {
        kind: event for event, kind in protocol.BINARY_KINDS.items()}
    assert (generated.FLAG_STDERR, generated.FLAG_REPLAY, generated.FLAG_DROPPED) == (
        protocol.FLAG_STDERR, protocol.FLAG_REPLAY, protocol.FLAG_DROPPED)
    assert generated.REPLY_EVENTS["pty-input"] == "ok"
    assert generated.ErrorData.__required_keys__ == {"message"}
    assert generated.ErrorData.__optional_keys__ == {"code"}


def test_the_python_module_imports_nothing_of_the_package():
    tree = ast.parse(codegen.python())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"__future__", "typing"}


def test_the_typescript_module_imports_nothing():
    assert "import " not in codegen.typescript()


def test_check_reports_a_stale_file(tmp_path, capsys):
    for target, generate in codegen.GENERATORS.items():
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target).write_text(generate(), encoding="utf-8")
    assert codegen.stale(tmp_path) == []
    (tmp_path / codegen.TS_TARGET).write_text("// old", encoding="utf-8")
    assert codegen.stale(tmp_path) == [codegen.TS_TARGET]
    assert codegen.write(tmp_path) == [codegen.TS_TARGET]
    assert codegen.stale(tmp_path) == []
