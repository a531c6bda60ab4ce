"""The package logs through the server's log: under ``--log-level=DEBUG`` our modules'
DEBUG lines come out with the server's own, in its format, named after the module."""

from __future__ import annotations

import re

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.servers import ServerProcess

LINE = re.compile(r"^\[(?P<level>[DIWEC]) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (?P<name>[\w.]+)\] ")


def test_debug_lines_of_the_package_come_out_of_the_server_log(owner, docker_client):
    config = {"owner": owner, "image": TEST_IMAGE, "pull_missing_images": False,
              "extra_labels": {RUN_LABEL: RUN_ID}}
    with ServerProcess(config, server_config={"log_level": "DEBUG"}) as server:
        assert server.request("GET", "containers").status_code == 200
        text = server.log_path.read_text(errors="replace")
    lines = [LINE.match(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in text.splitlines()]
    seen = {(m["level"], m["name"]) for m in lines if m}
    assert ("D", "ServerApp") in seen, text[-3000:]  # the server's own DEBUG lines
    assert ("D", "jupyter_container_manager.logs") in seen, text[-3000:]
    assert "package log through the ServerApp log, level DEBUG" in text
