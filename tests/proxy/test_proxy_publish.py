"""``publish_ports``: announced ports also published on 127.0.0.1:8000 and up (real engine)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_container_manager.engine.network import PUBLISH_RANGE, free_host_ports
from tests.support.helpers import preview_target
from tests.support.proxy_support import APP_PORT, start_app


@pytest.fixture
def publishing_manager_config(manager_config):
    manager_config["publish_ports"] = True
    return manager_config


async def test_off_by_default(api, docker_client):
    created = await api.create(ports=[APP_PORT])
    assert "hostPort" not in created["ports"][0]
    attrs = docker_client.api.inspect_container(f"jcm-{created['id']}")
    assert not attrs["HostConfig"]["PortBindings"]


async def test_ports_are_published_on_free_host_ports(publishing_manager_config, api,
                                                       docker_client, jp_base_url):
    busy = free_host_ports(1)[0]  # something else listens there: it must be skipped
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        first = await api.create(ports=[APP_PORT, 5173])
        second = await api.create(ports=[APP_PORT])
    host_ports = [entry["hostPort"] for entry in first["ports"] + second["ports"]]
    assert len(set(host_ports)) == 3 and busy not in host_ports
    assert all(port in PUBLISH_RANGE for port in host_ports)
    entry = first["ports"][0]
    assert (entry["port"], entry["hostPort"]) == (APP_PORT, host_ports[0])
    assert preview_target(entry["url"]) == (APP_PORT, first["id"])  # still the preview
    attrs = docker_client.api.inspect_container(f"jcm-{first['id']}")
    bindings = attrs["HostConfig"]["PortBindings"]
    assert bindings[f"{APP_PORT}/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(host_ports[0])}]
    again = (await api.get("containers", first["id"])).json()["ports"]
    assert [(p["port"], p["hostPort"]) for p in again] == \
        [(p["port"], p["hostPort"]) for p in first["ports"]]

    # The published port reaches the app directly, without Jupyter.
    start_app(docker_client, first["id"])
    deadline = time.monotonic() + 20
    while True:
        try:  # docker-proxy accepts, then closes while nothing listens in the container
            answer = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{host_ports[0]}/echo/direct")
            break
        except (HTTPClientError, OSError):
            assert time.monotonic() < deadline, "the published port never answered"
            await asyncio.sleep(0.2)
    assert json.loads(answer.body)["url"] == "/echo/direct"
