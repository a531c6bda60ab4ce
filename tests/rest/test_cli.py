"""``jupyter container-manager``, run as a user runs it (a subprocess, the real engine): it
reads the server's settings from ``jupyter_server_config.json`` in the Jupyter config dir,
lists every setting in ``--help-all``, writes a config file the server reads too, and
creates, lists, runs in, copies into and out of, shows the logs of, removes and prunes
containers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from jupyter_container_manager.app import ContainerManagerApp
from jupyter_container_manager.manager import ContainerManager
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE


@pytest.fixture
def config_dir(tmp_path, owner):
    """A Jupyter config dir whose server config holds this test's settings."""
    root = tmp_path / "config"
    root.mkdir()
    (root / "jupyter_server_config.json").write_text(json.dumps({"ContainerManager": {
        "owner": owner, "image": TEST_IMAGE, "pull_missing_images": False,
        "extra_labels": {RUN_LABEL: RUN_ID}, "warm_pool_size": 0}}))
    return root


@pytest.fixture
def cli(config_dir, tmp_path, docker_client):
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}

    def run(*args: str, check: bool = True, stdin: bytes | None = None):
        done = subprocess.run([sys.executable, "-m", "jupyter_container_manager.cli", *args],
                              env=env, capture_output=True, timeout=120, input=stdin,
                              cwd=tmp_path)
        if check:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    return run


def test_help_all_lists_every_setting_and_generate_config(cli, config_dir):
    shown = cli("--help-all").stdout.decode()
    for name in ContainerManager.class_traits(config=True):
        assert f"--ContainerManager.{name}=" in shown, name
    for command in ("list", "create", "rm", "exec", "cp", "logs", "prune"):
        assert f"\n{command}\n" in shown, command

    cli("--generate-config", "-y")
    written = (config_dir / "jupyter_container_manager_config.py").read_text()
    assert "# c.ContainerManager.image = " in written
    assert "# c.ContainerManager.docker_url" in written


def test_the_server_reads_the_generated_config_file(config_dir, monkeypatch):
    (config_dir / "jupyter_container_manager_config.py").write_text(
        "c.ContainerManager.max_containers_per_owner = 7\n")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config_dir))
    app = ContainerManagerApp()
    app.load_config_file()
    assert app.config.ContainerManager.max_containers_per_owner == 7


def test_commands_on_the_real_engine(cli, tmp_path, docker_client, owner):
    created = cli("create", "--name", "cli-made", "--env", "GREETING=hello",
                  "--json")
    info = json.loads(created.stdout)
    cid = info["id"]
    assert info["owner"] == owner and info["name"] == "cli-made"  # the server config's owner
    listed = cli("list").stdout.decode()
    assert cid in listed and "cli-made" in listed and "running" in listed

    ran = cli("exec", cid, "--", "sh", "-c", "echo $GREETING; echo oops >&2; exit 3",
              check=False)
    assert ran.returncode == 3, ran
    assert b"hello\n" in ran.stdout and b"oops" in ran.stdout

    local = tmp_path / "data.bin"
    local.write_bytes(os.urandom(3 * 1024**2 + 5))
    cli("cp", str(local), f"{cid}:in/data.bin")
    back = tmp_path / "back.bin"
    cli("cp", f"{cid}:in/data.bin", str(back))
    assert back.read_bytes() == local.read_bytes()
    assert cli("cp", f"{cid}:in/data.bin", "-").stdout == local.read_bytes()
    missing = cli("cp", f"{cid}:nope.txt", str(tmp_path / "nope.txt"), check=False)
    assert missing.returncode == 1 and b"ENOENT" in missing.stderr, missing
    assert not (tmp_path / "nope.txt").exists()

    assert cli("logs", cid, "--tail", "5").returncode == 0

    second = cli("create").stdout.decode().strip()
    docker_client.containers.get(f"jcm-{second}").stop(timeout=1)
    pruned = cli("prune", "--json")
    assert json.loads(pruned.stdout) == [second]
    assert cli("rm", cid).stdout.decode().strip() == cid
    assert cid not in cli("list").stdout.decode()
    gone = cli("rm", cid, check=False)
    assert gone.returncode == 1 and cid.encode() in gone.stderr
