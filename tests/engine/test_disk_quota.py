"""The disk quota (``disk_limit``) on the real engine: ENOSPC at the quota in the workdir,
/tmp and /dev/shm, the rest unaffected, the disk gone with its container."""

from __future__ import annotations

import os
import re
import time

import docker
import pytest

from jupyter_container_manager.core.models import LABEL_DISK, LABEL_OWNER, POOL_NAME_PREFIX
from jupyter_container_manager.engine.disk import IMAGE_FILE, MOUNT_DIR, disk_volume_name
from tests.support.servers import ServerProcess
from tests.support.webcontainer_support import boot

LIMIT = 64 * 2**20
NOSPACE = "No space left on device"


@pytest.fixture
def small_disk(manager_config):
    manager_config["disk_limit"] = "64m"


def disk_volume(docker_client, container_id: str):
    try:
        return docker_client.volumes.get(disk_volume_name(container_id))
    except docker.errors.NotFound:
        return None


@pytest.mark.security_case(19)
async def test_writes_past_the_quota_fail_with_enospc(small_disk, api, docker_client):
    wc = await boot(api, docker_client)
    other = await boot(api, docker_client)
    for where in (wc.workdir, "/tmp", "/dev/shm"):
        code, out = wc.sh('fallocate -l 100M "$1/f"; echo "rc=$?"', where)
        assert NOSPACE in out.decode() and "rc=0" not in out.decode(), (where, out)
        wc.sh('rm -f "$1/f"', where)
        code, out = wc.sh('yes > "$1/f"; echo "rc=$?"; echo "kib=$(du -k "$1/f" | cut -f1)"',
                          where)
        text = out.decode()
        assert NOSPACE in text and "rc=0" not in text, (where, out)
        assert int(re.search(r"kib=(\d+)", text).group(1)) <= LIMIT // 1024, (where, out)
        if where == wc.workdir:
            # Full: the API still answers, for this container and the server.
            assert (await api.get("api", "status")).status == 200
            listed = await wc.readdir()
            assert listed.status == 200 and listed.json() == ["f"], listed
            info = (await api.get("containers", wc.id)).json()
            assert info["disk"]["limit"] == LIMIT
            used = info["disk"]["used"]
            assert used is None or LIMIT // 2 < used <= LIMIT, info
            # Another container is unaffected.
            code, out = other.sh('head -c 8000000 /dev/zero > "$1/g" && echo ok', other.workdir)
            assert out.decode().strip() == "ok", out
        wc.sh('rm -f "$1/f"', where)
    # Its own quota again, once freed.
    code, out = wc.sh('head -c 8000000 /dev/zero > "$1/g" && echo ok', wc.workdir)
    assert out.decode().strip() == "ok", out
    listed = (await api.get("containers")).json()
    assert all(item["disk"]["limit"] == LIMIT for item in listed), listed


async def test_the_disk_goes_with_its_container_and_survives_a_lost_mount(
    small_disk, api, docker_client
):
    wc = await boot(api, docker_client)
    assert (await wc.write("kept.txt", "kept")).status == 204
    volume = disk_volume(docker_client, wc.id)
    if wc.container.labels.get("jupyter-container-manager.disk") != "loop":
        assert volume is None  # the engine holds it (--storage-opt size)
        pytest.skip("this engine takes --storage-opt size: no loop disk to look at")
    assert volume is not None
    assert volume.attrs["Labels"]["jupyter-container-manager.id"] == wc.id
    root = volume.attrs["Mountpoint"]
    assert os.path.ismount(os.path.join(root, MOUNT_DIR))
    # The image file is sparse: it takes on disk what is written, not the quota.
    assert os.stat(os.path.join(root, IMAGE_FILE)).st_blocks * 512 < LIMIT // 2
    # After the engine's host restarted (the mount is gone), a start mounts it again.
    assert (await api.post("containers", wc.id, "stop")).status == 200
    os.system(f"umount {os.path.join(root, MOUNT_DIR)!r}")
    assert not os.path.ismount(os.path.join(root, MOUNT_DIR))
    answer = await api.post("containers", wc.id, "start")
    assert answer.status == 200, answer
    assert (await wc.read("kept.txt", "utf-8")).text == "kept"
    # Deleted: the container's volumes, its disk and its mount go too.
    anonymous = [m["Name"] for m in wc.container.attrs["Mounts"] if m["Type"] == "volume"]
    assert len(anonymous) == 2
    assert (await api.delete("containers", wc.id)).status == 204
    assert disk_volume(docker_client, wc.id) is None
    assert not os.path.ismount(os.path.join(root, MOUNT_DIR))
    for name in anonymous:
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(name)


def test_pooled_and_shut_down_containers_take_their_disks_with_them(
    manager_config, docker_client, owner
):
    def owned(kind):
        found = getattr(docker_client, kind).list(
            **({"all": True} if kind == "containers" else {}),
            filters={"label": [f"{LABEL_OWNER}={owner}"]})
        if kind == "volumes":
            found = [v for v in found if LABEL_DISK in (v.attrs.get("Labels") or {})]
        return found

    def wait_for_pool():  # a running one: a refill still in flight at stop is left behind
        deadline = time.monotonic() + 30
        while not any(c.name.startswith(POOL_NAME_PREFIX) and c.status == "running"
                      for c in owned("containers")):
            assert time.monotonic() < deadline, "the pool did not fill"
            time.sleep(0.2)

    config = {**manager_config, "disk_limit": "64m", "warm_pool_size": 1,
              "on_shutdown": "remove"}
    with ServerProcess(config) as server:
        wait_for_pool()
        booted = server.request("POST", "webcontainer/boot", json={})
        assert booted.status_code == 201, booted.text
        container_id = booted.json()["containerId"]
        info = server.request("GET", f"containers/{container_id}").json()
        assert info["disk"]["limit"] == LIMIT  # a pooled container has its quota too
        wait_for_pool()  # refilled
        assert len(owned("volumes")) in (0, 2)  # two loop disks, or none (storage-opt)
    # Stopped with on_shutdown = remove: its containers, the pool and all their disks go.
    assert owned("containers") == [] and owned("volumes") == []
