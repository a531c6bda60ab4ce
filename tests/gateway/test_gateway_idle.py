"""Keystrokes count as use (idle_timeout), and an idle stop reaches joined sockets."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_container_manager.base_handler import MANAGER_KEY
from tests.support.gateway_client import GatewayClient


@pytest.fixture
def manager_config(manager_config):
    return {**manager_config, "idle_timeout": 3}


async def test_typing_keeps_a_container_and_idling_stops_it(jp_serverapp, jp_ws_fetch, api):
    # The test server is not started the way `jupyter server` starts it: start the reaper.
    jp_serverapp.web_app.settings[MANAGER_KEY].start()
    container = await api.create(name="idle")
    client = await GatewayClient.connect(jp_ws_fetch)
    try:
        await client.join(container["id"])
        tid = (await client.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
        for _ in range(12):  # 6 s of typing, twice the idle timeout
            await client.send("pty-input", {"terminalId": tid, "data": "x"})
            await asyncio.sleep(0.5)
        assert (await api.get("containers", container["id"])).json()["status"] == "running"
        assert not client.pushes("container-status")
        status = await client.push("container-status", timeout=15)
        assert status == {"containerId": container["id"], "status": "stopped"}
        assert (await client.push("pty-exit"))["terminalId"] == tid
    finally:
        client.close()
