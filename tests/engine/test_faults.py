"""Faults on the real engine: containers killed or removed outside the API, also
while a process runs in them. The API reports what Docker says, as JSON, never a 500."""

from __future__ import annotations

import asyncio

import pytest

from tests.rest.test_hostile_input import assert_404_everywhere
from tests.support.helpers import assert_error
from tests.support.webcontainer_support import boot, ndjson_lines


@pytest.mark.security_case(26)
async def test_container_killed_outside_the_api(api, docker_client):
    wc = await boot(api, docker_client, files={"a.txt": {"file": {"contents": "A"}}})
    wc.container.kill()
    info = await api.get("containers", wc.id)
    assert info.status == 200 and info.json()["status"] in ("stopped", "exited"), info
    listed = (await api.get("containers")).json()
    assert [c["id"] for c in listed] == [wc.id] and listed[0]["status"] != "running"
    for answer in (
        await wc.read("a.txt"),
        await wc.write("b.txt", "B"),
        await wc.put("b.txt", b"B"),
        await wc.readdir(),
        await wc.mkdir("d"),
        await wc.rm("a.txt"),
        await wc.rename("a.txt", "c.txt"),
        await wc.spawn("true"),
        await wc.export(),
    ):
        assert_error(answer, 409, code="ENOTRUNNING")
    # Started again through the API, its files are where they were.
    assert (await api.post("containers", wc.id, "start")).json()["status"] == "running"
    assert (await wc.read("a.txt")).body == b"A"
    assert (await api.delete("containers", wc.id)).status == 204


@pytest.mark.security_case(26)
async def test_container_removed_outside_the_api(api, docker_client):
    wc = await boot(api, docker_client)
    wc.container.remove(force=True)
    assert_error(await api.get("containers", wc.id), 404)
    assert (await api.get("containers")).json() == []
    await assert_404_everywhere(api, wc.id)


@pytest.mark.security_case(26)
async def test_container_killed_while_a_process_runs(api, docker_client):
    wc = await boot(api, docker_client)
    running = asyncio.ensure_future(wc.spawn("sh", "-c", "echo started; sleep 30", timeout=20))
    await asyncio.sleep(1.0)
    wc.container.kill()
    answer = await asyncio.wait_for(running, 15)
    assert answer.status < 500, answer
    if answer.status == 200:
        assert answer.json()["exitCode"] != 0, answer.json()
    else:
        assert_error(answer, answer.status)
    assert (await api.get("containers", wc.id)).json()["status"] in ("stopped", "exited")


@pytest.mark.security_case(26)
async def test_container_removed_while_a_streamed_process_runs(api, docker_client):
    wc = await boot(api, docker_client)
    running = asyncio.ensure_future(
        wc.spawn("sh", "-c", "echo started; sleep 30", timeout=20, stream=True)
    )
    await asyncio.sleep(1.0)
    wc.container.remove(force=True)
    answer = await asyncio.wait_for(running, 15)
    assert answer.status == 200, answer
    lines = ndjson_lines(answer.body)
    assert lines[0] == {"output": "started\n"}, lines
    assert "exitCode" in lines[-1] and lines[-1]["exitCode"] != 0, lines
    assert_error(await api.get("containers", wc.id), 404)
