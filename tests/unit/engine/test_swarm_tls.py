"""swarm_node_tls: the TLS material of a swarm's tcp:// engines, read and checked when the
backend is built, and which engine gets which."""

from __future__ import annotations

import pytest

from jupyter_container_manager.engine.swarm_tls import EVERY, parse_node_tls, tls_for


@pytest.fixture
def certs(tmp_path):
    """A DOCKER_CERT_PATH-like directory (the files' contents do not matter here)."""
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text(name)
    return tmp_path


def test_a_directory_or_a_dict_and_every_other_tcp_engine(certs):
    configs = parse_node_tls({
        EVERY: str(certs),
        "tcp://node3:2376": {"ca_cert": str(certs / "ca.pem"),
                             "client_cert": str(certs / "cert.pem"),
                             "client_key": str(certs / "key.pem")},
        "tcp://lab:2376": {"verify": False},
    })
    every = tls_for(configs, "tcp://node2:2376")
    assert every is configs[EVERY]
    assert every.ca_cert == str(certs / "ca.pem") and every.verify is True
    assert every.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert tls_for(configs, "tcp://node3:2376") is configs["tcp://node3:2376"]
    assert tls_for(configs, "tcp://lab:2376").verify is False
    assert tls_for(configs, "unix:///run/docker-sw1.sock") is None
    assert tls_for({}, "tcp://node2:2376") is None


@pytest.mark.parametrize("value, said", [
    ("/nowhere", "is not a directory"),
    ({"ca_cert": "/nowhere/ca.pem"}, "is not a file"),
    ({"cacert": "x"}, "unknown keys"),
    ({"verify": "yes"}, "verify is true or false"),
    ({"verify": True}, "verify needs ca_cert"),
    (42, "a directory or a dict"),
])
def test_what_does_not_hold_is_refused_naming_the_entry(value, said):
    with pytest.raises(ValueError, match=said) as refused:
        parse_node_tls({"tcp://node2:2376": value})
    assert "swarm_node_tls['tcp://node2:2376']" in str(refused.value)


def test_a_client_certificate_needs_its_key(certs):
    with pytest.raises(ValueError, match="go together"):
        parse_node_tls({EVERY: {"ca_cert": str(certs / "ca.pem"),
                                "client_cert": str(certs / "cert.pem")}})


def test_unix_engines_take_no_tls(certs):
    with pytest.raises(ValueError, match="takes none"):
        parse_node_tls({"unix:///run/docker-sw1.sock": str(certs)})


def test_the_swarm_backend_gives_each_node_engine_its_material(certs):
    """Each node's DockerBackend is built with the material its URL maps to (the engine's
    TLS transport is engine_address.py)."""
    pytest.importorskip("jupyter_container_manager.engine.engine_address")
    from jupyter_container_manager.engine.swarm_backend import SwarmBackend

    configs = parse_node_tls({EVERY: str(certs)})
    backend = SwarmBackend("tcp://manager:2376", ["tcp://node2:2376", "unix:///run/x.sock"],
                           tls=configs)
    engines = backend._engines
    assert engines["tcp://node2:2376"].address.tls is configs[EVERY]
    assert engines["tcp://manager:2376"].address.tls is configs[EVERY]
    assert backend.manager.address.tls is configs[EVERY]
    assert engines["unix:///run/x.sock"].address.tls is None
