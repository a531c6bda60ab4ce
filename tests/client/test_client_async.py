"""The async client against the test's own Jupyter server (same event loop, real port)."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_container_manager.client import (
    AsyncContainers,
    AsyncWebContainer,
    ContainerError,
    ServerInfo,
)

SERVER = """
require('http').createServer((req, res) => res.end('async preview ' + req.method))
  .listen(4000, () => console.log('up'));
"""


@pytest.fixture
def server_info(api, jp_http_port, jp_base_url, jp_serverapp):
    return ServerInfo(
        f"http://127.0.0.1:{jp_http_port}{jp_base_url}", jp_serverapp.identity_provider.token
    )


async def test_direct_api(server_info, owner):
    async with AsyncContainers(server=server_info) as client:
        assert await client.list() == []
        info = await client.create("async-one", ports=[8080])
        assert info.owner == owner and info.status == "running"
        assert [c.id for c in await client.list()] == [info.id]
        assert (await client.stop(info.id)).status == "stopped"
        assert (await client.start(info.id)).status == "running"
        await client.delete(info.id)
        with pytest.raises(ContainerError) as caught:
            await client.delete(info.id)
        assert caught.value.status == 404
        assert await client.list() == []


async def test_webcontainer_flow(server_info):
    wc = await AsyncWebContainer.boot(
        files={"index.js": {"file": {"contents": "console.log(21 * 2)"}}}, server=server_info
    )
    async with wc:
        # concurrent file operations on one connection
        await asyncio.gather(*(wc.fs.write_file(f"f{i}.txt", str(i)) for i in range(8)))
        texts = await asyncio.gather(*(wc.fs.read_file(f"f{i}.txt", "utf-8") for i in range(8)))
        assert texts == [str(i) for i in range(8)]

        process = await wc.spawn("node", ["index.js"])
        assert "".join([chunk async for chunk in process.output]) == "42\n"
        assert await process.wait(10) == 0

        line = await wc.run_line("cd / && pwd")
        assert (line.output.strip(), line.cwd, line.exit_code) == ("/", "/", 0)

        with pytest.raises(ContainerError) as caught:
            await wc.fs.read_file("nope.txt")
        assert caught.value.code == "ENOENT"
        wc_id = wc.id
    async with AsyncContainers(server=server_info) as client:
        assert wc_id not in [c.id for c in await client.list()]


async def test_events_and_preview(server_info):
    async with AsyncContainers(server=server_info) as client:
        wc = await client.boot(files={"server.js": {"file": {"contents": SERVER}}})
        try:
            ready: asyncio.Future = asyncio.get_running_loop().create_future()
            ports: list = []
            wc.on("port", lambda port, kind, url: ports.append((port, kind)))
            unsubscribe = wc.on(
                "server-ready", lambda port, url: ready.done() or ready.set_result((port, url))
            )
            server = await wc.spawn("node", ["server.js"])
            port, url = await asyncio.wait_for(ready, 20)
            assert port == 4000 and (4000, "open") in ports
            answer = await wc.fetch(url, method="POST", body=b"x")
            assert (answer.status, answer.text) == (200, "async preview POST")
            unsubscribe()
            await server.kill()
            assert await server.wait(10) != 0
        finally:
            await wc.teardown()


async def test_listeners_may_be_coroutines(server_info):
    async with AsyncContainers(server=server_info) as client:
        wc = await client.boot()
        try:
            statuses: asyncio.Queue = asyncio.Queue()

            async def on_status(status):
                await statuses.put(status)

            wc.on("container-status", on_status)
            await wc.connect()
            await client.delete(wc.id)  # deleted behind the WebContainer's back
            assert await asyncio.wait_for(statuses.get(), 10) == "removed"
            with pytest.raises(ValueError):
                wc.on("no-such-event", print)
        finally:
            await wc.teardown()  # already gone: not an error
