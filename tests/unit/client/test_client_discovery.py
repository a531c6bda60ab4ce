"""How the client finds its Jupyter server (pure: runtime records in a temp dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from jupyter_container_manager.client.discovery import (
    ServerInfo,
    choose_server,
    find_server,
    normalise_url,
    running_servers,
)
from jupyter_container_manager.client.errors import ServerNotFound


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_record(runtime, pid, url, root_dir="/", token="t0k"):
    record = {"url": url, "pid": pid, "root_dir": str(root_dir), "token": token, "sock": ""}
    (runtime / f"jpserver-{pid}.json").write_text(json.dumps(record))
    return record


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://localhost:8888", "http://localhost:8888/"),
        ("http://localhost:8888/user/ann", "http://localhost:8888/user/ann/"),
        ("https://hub.example/user/ann/", "https://hub.example/user/ann/"),
        ("http://:8888/user/ann/", "http://127.0.0.1:8888/user/ann/"),
        ("http://h:1/?token=x#frag", "http://h:1/"),
    ],
)
def test_normalise_url(given, expected):
    assert normalise_url(given) == expected


@pytest.mark.parametrize("bad", ["localhost:8888", "ftp://h/", "/user/ann", ""])
def test_normalise_url_refuses_what_is_not_an_http_url(bad):
    with pytest.raises(ServerNotFound):
        normalise_url(bad)


def test_explicit_url_wins_and_token_falls_back_to_the_environment(tmp_path):
    found = find_server("http://h:1/base", environ={"JUPYTER_TOKEN": "env"}, runtime_dir=tmp_path)
    assert found == ServerInfo("http://h:1/base/", "env", "given")
    assert find_server("http://h:1", "mine", environ={"JUPYTER_TOKEN": "env"}).token == "mine"


def test_environment_url(tmp_path):
    environ = {
        "JUPYTER_CONTAINER_MANAGER_URL": "http://h:2/x",
        "JUPYTER_CONTAINER_MANAGER_TOKEN": "secret",
        "JUPYTER_TOKEN": "other",
    }
    found = find_server(environ=environ, runtime_dir=tmp_path)
    assert (found.url, found.token) == ("http://h:2/x/", "secret")


def test_records_of_dead_servers_and_sockets_are_ignored(tmp_path):
    write_record(tmp_path, dead_pid(), "http://dead:1/")
    alive = write_record(tmp_path, os.getpid(), "http://alive:1/")
    (tmp_path / "jpserver-garbage.json").write_text("{not json")
    sock = {"url": "http://sock/", "pid": os.getppid(), "sock": "/tmp/s.sock"}
    (tmp_path / "jpserver-sock.json").write_text(json.dumps(sock))
    assert running_servers(tmp_path) == [alive]


def test_the_parent_server_is_chosen_first(tmp_path):
    records = [
        {"url": "http://a/", "pid": 10, "root_dir": "/srv"},
        {"url": "http://b/", "pid": 20, "root_dir": "/srv/deeper"},
    ]
    chosen, why = choose_server(records, parent_pids=[20], cwd="/elsewhere")
    assert chosen["url"] == "http://b/" and "20" in why
    chosen, _ = choose_server(records, parent_pids=[99, 10], cwd="/srv/deeper/x")
    assert chosen["url"] == "http://a/"


def test_else_the_deepest_root_holding_the_cwd(tmp_path):
    records = [
        {"url": "http://a/", "pid": 10, "root_dir": "/srv"},
        {"url": "http://b/", "pid": 20, "root_dir": "/srv/deeper"},
        {"url": "http://c/", "pid": 30, "root_dir": "/srv/deep"},  # a prefix, not a parent
    ]
    assert choose_server(records, parent_pids=[], cwd="/srv/deeper/nb")[0]["url"] == "http://b/"
    assert choose_server(records, parent_pids=[], cwd="/srv/other")[0]["url"] == "http://a/"


def test_else_the_only_one_and_never_a_guess_among_several():
    one = [{"url": "http://a/", "pid": 10, "root_dir": "/srv"}]
    assert choose_server(one, parent_pids=[], cwd="/home")[0] == one[0]
    two = [*one, {"url": "http://b/", "pid": 20, "root_dir": "/data"}]
    chosen, why = choose_server(two, parent_pids=[], cwd="/home")
    assert chosen is None and "http://a/" in why and "http://b/" in why
    assert choose_server([], parent_pids=[], cwd="/")[0] is None


def test_find_server_reads_the_runtime_dir(tmp_path):
    write_record(tmp_path, os.getpid(), "http://127.0.0.1:9999/base/", root_dir=tmp_path, token="")
    found = find_server(
        environ={"JUPYTER_TOKEN": "from-env"}, runtime_dir=tmp_path, cwd=str(tmp_path)
    )
    assert found.url == "http://127.0.0.1:9999/base/"
    assert found.token == "from-env"  # the record had none
    assert "from-env" not in repr(found)


def test_jupyterhub_environment_when_no_record(tmp_path):
    environ = {
        "JUPYTERHUB_SERVICE_URL": "http://:8888/user/ann/",
        "JUPYTERHUB_API_TOKEN": "hub",
    }
    found = find_server(environ=environ, runtime_dir=tmp_path)
    assert (found.url, found.token) == ("http://127.0.0.1:8888/user/ann/", "hub")
    assert found.source == "JupyterHub"


def test_nothing_found_says_how_to_configure(tmp_path):
    with pytest.raises(ServerNotFound) as caught:
        find_server(environ={}, runtime_dir=tmp_path)
    assert "JUPYTER_CONTAINER_MANAGER_URL" in caught.value.message
    assert caught.value.code == "ENOSERVER"
