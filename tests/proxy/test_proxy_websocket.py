"""Preview proxy over WebSocket, on the real engine: an echo server written on node's own
``http`` 'upgrade' event, reached through ``/containers/{id}/proxy/{port}/``."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support.proxy_support import open_preview


@pytest.fixture
def preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url, jp_asyncio_loop):
    return jp_asyncio_loop.run_until_complete(
        open_preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url)
    )


async def connect(preview, path: str = "hmr", headers: dict | None = None, **kwargs):
    request = HTTPRequest(preview.ws_url(path), headers=headers, connect_timeout=20,
                          request_timeout=20)
    return await websocket_connect(request, **kwargs)


async def test_messages_are_echoed_both_ways(preview):
    ws = await connect(preview, headers=preview.auth)
    hello = json.loads(await asyncio.wait_for(ws.read_message(), 20))
    assert hello["url"] == "/hmr"
    ws.write_message("ping")
    assert await asyncio.wait_for(ws.read_message(), 20) == "ping"
    blob = bytes(range(256)) * 4096  # 1 MiB, one binary frame
    ws.write_message(blob, binary=True)
    assert await asyncio.wait_for(ws.read_message(), 20) == blob
    for n in range(20):
        ws.write_message(f"message {n}")
    assert [await asyncio.wait_for(ws.read_message(), 20) for _ in range(20)] == [
        f"message {n}" for n in range(20)
    ]
    ws.close()


@pytest.mark.security_case(7)
async def test_the_app_sees_no_jupyter_credentials(preview):
    headers = {**preview.auth, "Cookie": "_xsrf=x; app=keep", "Origin": preview.server}
    ws = await connect(preview, f"hmr?token={preview.token}&v=1", headers=headers)
    hello = json.loads(await asyncio.wait_for(ws.read_message(), 20))
    assert hello["url"] == "/hmr?v=1"
    seen = hello["headers"]
    assert "authorization" not in seen
    assert seen["cookie"] == "app=keep"
    assert seen["x-forwarded-prefix"] == preview.prefix()
    assert seen["upgrade"] == "websocket"
    assert preview.token not in json.dumps(hello)
    ws.close()


async def test_the_app_chooses_the_subprotocol(preview):
    ws = await connect(preview, headers=preview.auth, subprotocols=["vite-ping", "vite-hmr"])
    assert ws.selected_subprotocol == "vite-hmr"  # the app picks the last one offered
    ws.close()


@pytest.mark.security_case(1)
async def test_an_upgrade_without_credentials_is_403(preview):
    with pytest.raises(HTTPClientError) as refused:
        await connect(preview)
    assert refused.value.code == 403
    with pytest.raises(HTTPClientError) as refused:
        await connect(preview, headers={"Authorization": "token wrong"})
    assert refused.value.code == 403


@pytest.mark.security_case(3)
async def test_an_upgrade_from_another_origin_on_the_cookie_is_refused(preview):
    """A page elsewhere cannot open the preview's socket with the user's cookie."""
    cookies = await preview.login()
    ws = await connect(preview, headers={**cookies, "Origin": preview.server})
    hello = json.loads(await asyncio.wait_for(ws.read_message(), 20))
    assert "cookie" not in hello["headers"]  # only Jupyter's cookies were sent
    ws.close()
    with pytest.raises(HTTPClientError) as refused:
        await connect(preview, headers={**cookies, "Origin": "http://evil.example"})
    assert refused.value.code == 403


async def test_an_upgrade_to_a_closed_port_is_502(preview):
    request = HTTPRequest(preview.ws_url("hmr", port=4000), headers=preview.auth)
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(request)
    assert refused.value.code == 502


async def test_removing_the_container_ends_its_sockets(preview, api):
    ws = await connect(preview, headers=preview.auth)
    await asyncio.wait_for(ws.read_message(), 20)
    assert (await api.delete("containers", preview.container_id)).status == 204
    assert await asyncio.wait_for(ws.read_message(), 20) is None  # closed
