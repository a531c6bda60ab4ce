"""Where the engine is, read as the Docker SDK and CLI read it (engine/engine_address.py):
an explicit URL, DOCKER_HOST with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, a Docker context,
the local socket; and the ssh command of ssh:// engines."""

from __future__ import annotations

import hashlib
import json
import ssl

import pytest

from jupyter_container_manager.engine.engine_address import DEFAULT_SOCKET, resolve_engine
from jupyter_container_manager.engine.engine_streams import ssh_command


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    """An empty Docker CLI config dir (no current context) as DOCKER_CONFIG."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    return tmp_path


def cert_dir(root):
    """Files named like DOCKER_CERT_PATH's (their contents are not read here)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (root / name).write_text("x")
    return root


def test_nothing_set_is_the_local_socket(docker_config):
    assert resolve_engine("", environ={}).url == DEFAULT_SOCKET


def test_docker_host_with_tls_from_the_environment(docker_config, tmp_path):
    certs = cert_dir(tmp_path / "certs")
    found = resolve_engine("", environ={"DOCKER_HOST": "tcp://engine:2376",
                                        "DOCKER_TLS_VERIFY": "1",
                                        "DOCKER_CERT_PATH": str(certs)})
    assert found.url == "tcp://engine:2376"
    assert found.tls is not None and found.tls.verify
    assert found.tls.ca_cert == str(certs / "ca.pem")
    assert found.tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert "TLS" in found.shown and "DOCKER_HOST" in found.shown


def test_plain_tcp_has_no_tls(docker_config):
    found = resolve_engine("", environ={"DOCKER_HOST": "tcp://engine:2375"})
    assert found.tls is None and found.shown == "tcp://engine:2375 (from DOCKER_HOST)"


def test_the_setting_wins_over_docker_host_and_takes_its_tls(docker_config, tmp_path):
    certs = cert_dir(tmp_path / "certs")
    env = {"DOCKER_HOST": "tcp://other:2375", "DOCKER_CERT_PATH": str(certs),
           "DOCKER_TLS_VERIFY": "1"}
    found = resolve_engine("tcp://engine:2376", environ=env)
    assert found.url == "tcp://engine:2376" and found.tls is not None
    # A unix socket takes no TLS even when the environment has some.
    assert resolve_engine("unix:///run/x.sock", environ=env).tls is None


def test_tls_settings_that_do_not_hold_are_a_clear_error(docker_config, tmp_path):
    with pytest.raises(ValueError, match="TLS"):
        resolve_engine("", environ={"DOCKER_HOST": "tcp://engine:2376",
                                    "DOCKER_TLS_VERIFY": "1",
                                    "DOCKER_CERT_PATH": str(tmp_path / "missing")})


def write_context(config, name: str, host: str, *, tls: bool) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    if tls:
        cert_dir(config / "contexts" / "tls" / digest / "docker")


def test_a_named_context_and_the_current_one(docker_config, monkeypatch):
    write_context(docker_config, "remote", "tcp://remote:2376", tls=True)
    write_context(docker_config, "other", "ssh://me@box", tls=False)
    found = resolve_engine("", context="remote", environ={})
    assert found.url == "tcp://remote:2376" and found.tls is not None
    assert found.source == "Docker context remote"
    assert resolve_engine("", environ={"DOCKER_CONTEXT": "other"}).url == "ssh://me@box"
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "other"}))
    assert resolve_engine("", environ={}).url == "ssh://me@box"
    # DOCKER_HOST wins over any context, as in the CLI.
    assert resolve_engine("", environ={"DOCKER_HOST": "unix:///x.sock"}).url == "unix:///x.sock"
    with pytest.raises(ValueError, match="no Docker context 'missing'"):
        resolve_engine("", context="missing", environ={})


def test_the_ssl_context_verifies_with_the_engine_ca_only(docker_config, tmp_path):
    found = resolve_engine("", environ={"DOCKER_HOST": "tcp://engine:2376",
                                        "DOCKER_TLS_VERIFY": "", "DOCKER_CERT_PATH": ""})
    assert found.tls is None  # empty values count as unset, as in the SDK
    insecure = resolve_engine("https://engine:2376", environ={})
    assert insecure.tls is not None and insecure.ssl_context().verify_mode == ssl.CERT_REQUIRED


def test_ssh_command():
    assert ssh_command("ssh://me@box:2222") == ["ssh", "-p", "2222", "-l", "me", "--", "box",
                                                "docker", "system", "dial-stdio"]
    assert ssh_command("ssh://box") == ["ssh", "--", "box", "docker", "system", "dial-stdio"]
