"""Packaging hygiene, read from pyproject.toml: the license file ships, the server config
file ships once (as shared data, not also inside the package), runtime dependencies are
what the package imports, and the `lab` extra asks for the JupyterLab the prebuilt
extension was built against."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "jupyter_container_manager"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", item, maxsplit=1)[0].lower() for item in requirements}


def test_the_license_file_ships():
    project = PROJECT["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()


def test_the_server_config_ships_once():
    shared = PROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    sources = [source for source, target in shared.items()
               if target == "etc/jupyter/jupyter_server_config.d"]
    assert len(sources) == 1 and not sources[0].startswith("jupyter_container_manager/")
    enabled = json.loads((ROOT / sources[0] / "jupyter_container_manager.json").read_text())
    assert enabled["ServerApp"]["jpserver_extensions"]["jupyter_container_manager"] is True
    assert not list(PACKAGE.rglob("jupyter_server_config.d"))


def test_websocket_client_is_for_tests_only():
    assert "websocket-client" not in names(PROJECT["project"]["dependencies"])
    assert "websocket-client" in names(PROJECT["project"]["optional-dependencies"]["test"])
    for source in PACKAGE.rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(import websocket\b|from websocket\b)", text, re.M), source


def test_the_lab_extra_matches_the_extension_build():
    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    wanted = package["dependencies"]["@jupyterlab/application"].lstrip("^~")
    major, minor = wanted.split(".")[:2]
    lab = PROJECT["project"]["optional-dependencies"]["lab"]
    assert lab == [f"jupyterlab>={major}.{minor},<{int(major) + 1}"], lab


def test_the_command_is_a_console_script():
    assert PROJECT["project"]["scripts"]["jupyter-container-manager"] == \
        "jupyter_container_manager.cli:main"
