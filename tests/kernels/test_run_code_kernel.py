"""The run-code kernel's own settings and message reading, on a real server and engine:
its history lives in memory (``_``, ``In``, ``Out`` work) and is written to no database in
the container; ``input()`` fails at once (no stdin channel) instead of waiting for the
timeout; and a message on its iopub socket that is not signed with the kernel's key is
not taken for output."""

from __future__ import annotations

import json
import time

import pytest

from jupyter_container_manager.kernels.wire import Reader

pytestmark = pytest.mark.slow


async def run_code(api, container_id: str, **body) -> dict:
    answer = await api.post("containers", container_id, "run-code", body=body)
    assert answer.status == 200, answer
    return answer.json()


async def test_history_in_memory_and_no_stdin(api):
    info = await api.create()
    await run_code(api, info["id"], code="40 + 2")
    again = await run_code(api, info["id"], code="_ + 1, In[-2], len(Out)")
    assert again["results"][0]["data"]["text/plain"] == "(43, '40 + 2', 1)"
    found = await run_code(api, info["id"], code=(
        "import glob, os\n"
        "glob.glob(os.path.expanduser('~/.ipython/profile_default/history.sqlite*'))"))
    assert found["results"][0]["data"]["text/plain"] == "[]"

    start = time.monotonic()
    asked = await run_code(api, info["id"], code="input('name? ')", timeout=20)
    assert time.monotonic() - start < 10
    assert asked["error"]["name"] == "StdinNotImplementedError"


async def test_a_result_past_64_bit_integers(api):
    info = await api.create()
    code = "from IPython.display import JSON\nJSON({'n': 2**70})"
    whole = await run_code(api, info["id"], code=code)
    assert whole["results"][0]["data"]["application/json"] == {"n": 2**70}
    answer = await api.post("containers", info["id"], "run-code",
                            body={"code": code, "stream": True})
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert events[0]["data"]["application/json"] == {"n": 2**70}
    assert events[-1]["type"] == "end" and events[-1]["error"] is False


class FakeSession:
    """What a Reader needs of a jupyter_client Session: its key's signing."""

    auth = True

    @staticmethod
    def sign(parts) -> bytes:
        return b"good-" + str(len(b"".join(parts))).encode()


def test_reader_takes_only_signed_messages_once():
    reader = Reader(FakeSession(), socket=None)
    parts = [b'{"msg_type": "stream", "msg_id": "m1"}', b'{"msg_id": "p1"}', b"{}",
             b'{"name": "stdout", "text": "hi"}']
    good = FakeSession.sign(parts)
    assert reader.message([b"topic", b"<IDS|MSG>", good, *parts]) == {
        "msg_type": "stream", "parent_id": "p1", "content": {"name": "stdout", "text": "hi"}}
    assert reader.message([b"topic", b"<IDS|MSG>", good, *parts]) is None  # replayed
    assert reader.message([b"topic", b"<IDS|MSG>", b"forged", *parts]) is None
    assert reader.message([b"topic", b"<IDS|MSG>", b"", *parts]) is None
    assert reader.message([b"no delimiter", good, *parts]) is None
    nan = [b'{"msg_type": "display_data"}', b'{"msg_id": "p2"}', b"{}",
           b'{"data": {"application/json": NaN}}']
    assert reader.message([b"<IDS|MSG>", FakeSession.sign(nan), *nan])["parent_id"] == "p2"
