"""The environment of new containers (container_env.py, engine/network_setup.py), without
the Docker engine."""

from __future__ import annotations

import logging
import ssl

import pytest

from jupyter_container_manager.config import ContainerManager
from jupyter_container_manager.core.ca_certificates import BUNDLE_ENV
from jupyter_container_manager.core.container_env import loopback_proxies, merge_env, proxy_env
from jupyter_container_manager.core.errors import CaCertificatesInvalid
from jupyter_container_manager.engine.network_setup import NetworkSetup


def test_the_servers_proxy_variables_in_both_cases_and_nothing_else():
    environ = {
        "HTTP_PROXY": "http://proxy.corp:3128",
        "https_proxy": "http://proxy.corp:3129",
        "NO_PROXY": "localhost,.corp",
        "no_proxy": "localhost,.corp",
        "ALL_PROXY": "socks5://proxy.corp:1080",
        "FTP_PROXY": "http://ftp.corp",
        "HTTPS_PROXY": "",  # empty: not set
        "PATH": "/usr/bin",
        "JUPYTER_TOKEN": "secret",
    }
    assert proxy_env(environ) == {
        "HTTP_PROXY": "http://proxy.corp:3128",
        "https_proxy": "http://proxy.corp:3129",
        "NO_PROXY": "localhost,.corp",
        "no_proxy": "localhost,.corp",
        "ALL_PROXY": "socks5://proxy.corp:1080",
    }
    assert proxy_env({"PATH": "/bin"}) == {}


def test_the_request_env_wins_and_replaces_both_cases_of_a_proxy():
    defaults = {
        "HTTP_PROXY": "http://a:1",
        "http_proxy": "http://a:1",
        "NO_PROXY": "x",
        "NODE_EXTRA_CA_CERTS": "/etc/b.crt",
    }
    assert merge_env(defaults, None) == defaults
    assert merge_env(defaults, {"http_proxy": "http://mine:2", "NODE_EXTRA_CA_CERTS": "/mine"}) == {
        "http_proxy": "http://mine:2",
        "NO_PROXY": "x",
        "NODE_EXTRA_CA_CERTS": "/mine",
    }
    assert merge_env({}, {"A": "1"}) == {"A": "1"}


def test_loopback_proxies_are_named():
    env = {
        "HTTP_PROXY": "http://127.0.0.1:3128",
        "https_proxy": "localhost:3128",
        "ALL_PROXY": "socks5://[::1]:1080",
        "HTTPS_PROXY": "http://proxy.corp:3128",
        "NO_PROXY": "localhost,127.0.0.1",
        "http_proxy": "http://[bad",
    }
    assert loopback_proxies(env) == ["HTTP_PROXY", "https_proxy", "ALL_PROXY"]


def test_the_settings(tmp_path, monkeypatch):
    settings = ContainerManager()
    assert settings.ca_certificates == "" and settings.pass_proxy_env is True
    monkeypatch.chdir(tmp_path)
    settings = ContainerManager(ca_certificates=" corp.pem ")
    assert settings.ca_certificates == str(tmp_path / "corp.pem")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ContainerManager(ca_certificates="~/c.pem").ca_certificates == str(tmp_path / "c.pem")


def test_the_network_setup_of_new_containers(tmp_path):
    """engine/network_setup.py before any engine call: env, digest, the start-time check."""
    log = logging.getLogger("test")
    proxies = {"HTTPS_PROXY": "http://proxy.corp:3128", "PATH": "/bin"}
    nothing = NetworkSetup(ContainerManager(), log, environ={})
    assert nothing.env == {} and nothing.digest == "" and nothing.problem is None
    nothing.check()

    off = NetworkSetup(ContainerManager(pass_proxy_env=False), log, environ=proxies)
    assert off.env == {}
    on = NetworkSetup(ContainerManager(), log, environ=proxies)
    assert on.env == {"HTTPS_PROXY": "http://proxy.corp:3128"} and on.digest

    missing = str(tmp_path / "corp.pem")
    broken = NetworkSetup(ContainerManager(ca_certificates=missing), log, environ=proxies)
    assert broken.problem == "does not exist"
    assert broken.env == on.env  # no bundle variables: no bundle
    with pytest.raises(CaCertificatesInvalid) as caught:
        broken.check()
    assert caught.value.status == 503 and missing in caught.value.message

    cafile = ssl.get_default_verify_paths().cafile
    if cafile:
        trusted = NetworkSetup(ContainerManager(ca_certificates=cafile), log, environ=proxies)
        assert trusted.problem is None and trusted.certificates
        assert set(BUNDLE_ENV) <= set(trusted.env) and trusted.digest not in ("", on.digest)
        assert trusted.environment({"SSL_CERT_FILE": "/mine"})["SSL_CERT_FILE"] == "/mine"
