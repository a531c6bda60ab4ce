"""``WebContainer.run_code`` in the Python client, over a real server process: whole
answers and streamed ones with callbacks, E2B-style."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client import ContainerError

pytestmark = pytest.mark.slow


def test_run_code_from_the_client(containers):
    wc = containers.boot()
    try:
        first = wc.run_code("import os\nprint(os.getcwd())\nn = 6\nn * 7")
        assert first.stdout == "/workspace\n" and first.text == "42" and first.error is None

        seen: dict[str, list] = {"stdout": [], "results": [], "errors": []}
        streamed = wc.run_code(
            "print('a', flush=True)\nfrom IPython.display import display, HTML\n"
            "display(HTML('<i>x</i>'))\nn + 1",
            on_stdout=seen["stdout"].append, on_result=seen["results"].append,
            on_error=seen["errors"].append)
        assert seen["stdout"] == ["a\n"]
        assert [r.html for r in seen["results"] if r.html] == ["<i>x</i>"]
        assert streamed.text == "7" and streamed.execution_count == first.execution_count + 1

        failed = wc.run_code("raise ValueError('nope')", on_error=seen["errors"].append)
        assert failed.error.name == "ValueError" and seen["errors"][0].value == "nope"
        with pytest.raises(ContainerError) as refused:
            wc.run_code("1", language="r")
        assert refused.value.status == 400
    finally:
        wc.teardown()
