"""The Docker backend on the real engine: events of labelled containers arrive as they
happen, archives go in and come out, and a missing container is BackendNotFound."""

from __future__ import annotations

import asyncio
import io
import tarfile

import pytest

from jupyter_container_manager.engine.backend import (
    SUBSCRIBED,
    BackendConflict,
    BackendNotFound,
    BackendRefused,
)
from jupyter_container_manager.engine.docker_backend import DockerBackend
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE


def tar_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def test_events_archives_and_missing_containers(docker_client):
    backend = DockerBackend()
    labels = {RUN_LABEL: RUN_ID, "jcm-backend-test": None}
    events = backend.events(labels)
    # The subscription is announced before any event: nothing after it is missed.
    assert await asyncio.wait_for(anext(events), 20) == {"status": SUBSCRIBED}
    first = asyncio.ensure_future(anext(events))
    box = docker_client.containers.run(TEST_IMAGE, ["sleep", "60"], detach=True,
                                       labels={RUN_LABEL: RUN_ID, "jcm-backend-test": "1"})
    try:
        event = await asyncio.wait_for(first, 20)
        assert event["id"] == box.id and event["status"] == "create"
        listed = await backend.list(labels)
        assert [entry["Id"] for entry in listed] == [box.id]
        await backend.put_archive(box.id, "/tmp", tar_of("hello.txt", b"hi"))
        archive = await backend.get_archive(box.id, "/tmp/hello.txt")
        with tarfile.open(fileobj=io.BytesIO(archive)) as unpacked:
            assert unpacked.extractfile("hello.txt").read() == b"hi"
        with pytest.raises(BackendNotFound):
            await backend.get_archive(box.id, "/no/such/file")
        # Renames (spoken directly on the engine's socket): done, or the seam's refusals.
        name = f"jcm-backend-test-{box.id[:12]}"
        await backend.rename(box.id, name)
        assert (await backend.inspect(box.id))["Name"] == f"/{name}"
        with pytest.raises(BackendRefused):
            await backend.rename(box.id, name)  # its name already
        other = docker_client.containers.create(TEST_IMAGE, ["true"],
                                                labels={RUN_LABEL: RUN_ID})
        try:
            with pytest.raises(BackendConflict):
                await backend.rename(other.id, name)  # taken
        finally:
            other.remove(force=True)
        with pytest.raises(BackendNotFound):
            await backend.rename("jcm-no-such-container", "jcm-whatever")
    finally:
        await events.aclose()
        box.remove(force=True)
    assert await backend.inspect(box.id) is None
    with pytest.raises(BackendNotFound):
        await backend.start(box.id)
    await backend.close()
