"""Container baseline on the real engine: the host config every container gets from the
settings (never from the caller), and allowed_images refusing other images with 403."""

from __future__ import annotations

import docker
import pytest

from jupyter_container_manager.core.models import LABEL_OWNER
from tests.conftest import TEST_IMAGE
from tests.support.helpers import assert_error


def inspect(docker_client, container_id: str) -> dict:
    return docker_client.api.inspect_container(f"jcm-{container_id}")


def owned(docker_client, owner: str) -> list:
    return docker_client.containers.list(all=True, filters={"label": f"{LABEL_OWNER}={owner}"})


@pytest.mark.security_case(16, 20)
async def test_baseline_host_config(api, docker_client):
    created = await api.create(name="baseline")
    attrs = inspect(docker_client, created["id"])
    host = attrs["HostConfig"]
    assert host["NanoCpus"] == 1_000_000_000  # cpu_limit 1.0
    assert host["CpuShares"] == 512
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 4096, "Hard": 4096}]
    assert host["LogConfig"] == {
        "Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}
    }
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges" in host["SecurityOpt"]
    assert not any("seccomp" in opt and "unconfined" in opt for opt in host["SecurityOpt"])
    assert host["Privileged"] is False
    assert not host.get("Binds")
    assert not host.get("Devices")
    assert not host.get("Mounts")
    assert host["Memory"] == host["MemorySwap"] and host["PidsLimit"] == 512
    assert not any("docker.sock" in (m.get("Source") or "") for m in attrs["Mounts"])
    assert not [m for m in attrs["Mounts"] if m.get("Type") == "bind"]


@pytest.mark.security_case(16)
async def test_limits_hold_inside_the_container(api, docker_client):
    created = await api.create()
    container = docker_client.containers.get(f"jcm-{created['id']}")
    soft = container.exec_run(["sh", "-c", "ulimit -n"])
    hard = container.exec_run(["sh", "-c", "ulimit -Hn"])
    assert (soft.output, hard.output) == (b"4096\n", b"4096\n")
    # The keep-alive process tree has the limit too, not only exec'd processes.
    limits = container.exec_run(["cat", "/proc/1/limits"]).output.decode()
    assert any(line.startswith("Max open files") and line.split()[3:5] == ["4096", "4096"]
               for line in limits.splitlines()), limits
    # The seccomp filter is on (mode 2) and no capability is left.
    status = container.exec_run(["cat", "/proc/self/status"]).output.decode()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["Seccomp"].strip() == "2"
    assert fields["NoNewPrivs"].strip() == "1"
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapBnd"], 16) == 0
    # No Docker socket reachable from inside.
    assert container.exec_run(["test", "-e", "/var/run/docker.sock"]).exit_code != 0


@pytest.mark.security_case(16)
async def test_host_config_in_the_body_is_ignored(api, docker_client):
    answer = await api.post(
        "containers",
        body={
            "name": "sneaky",
            "privileged": True,
            "binds": ["/var/run/docker.sock:/var/run/docker.sock", "/:/host"],
            "volumes": {"/": {"bind": "/host", "mode": "rw"}},
            "devices": ["/dev/kmsg:/dev/kmsg"],
            "cap_add": ["SYS_ADMIN"],
            "security_opt": ["seccomp=unconfined"],
            "network_mode": "host",
            "pid_mode": "host",
            "host_config": {"Privileged": True, "Binds": ["/:/host"], "NetworkMode": "host"},
            "HostConfig": {"Privileged": True, "CapAdd": ["ALL"]},
        },
    )
    assert answer.status == 201, answer.text  # unknown fields are ignored, not obeyed
    host = inspect(docker_client, answer.json()["id"])["HostConfig"]
    assert host["Privileged"] is False
    assert not host.get("Binds") and not host.get("Devices") and not host.get("Mounts")
    assert not host.get("CapAdd") and host["CapDrop"] == ["ALL"]
    assert not any("unconfined" in opt for opt in host["SecurityOpt"])
    assert host["NetworkMode"] != "host" and host["PidMode"] != "host"


@pytest.fixture
def tuned_baseline(manager_config):
    manager_config.update(cpu_limit=0.5, nofile_limit=1024, log_max_size="1m", log_max_files=2)


async def test_baseline_follows_the_settings(tuned_baseline, api, docker_client):
    created = await api.create()
    host = inspect(docker_client, created["id"])["HostConfig"]
    assert host["NanoCpus"] == 500_000_000
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 1024}]
    assert host["LogConfig"]["Config"] == {"max-size": "1m", "max-file": "2"}
    container = docker_client.containers.get(f"jcm-{created['id']}")
    assert container.exec_run(["sh", "-c", "ulimit -n"]).output == b"1024\n"


@pytest.fixture
def extra_host_config(manager_config):
    manager_config.update(memory_limit="256m",
                          extra_host_config={"shm_size": "32m", "pids_limit": 64})


async def test_extra_host_config_comes_after_ours(extra_host_config, api, docker_client):
    created = await api.create()
    host = inspect(docker_client, created["id"])["HostConfig"]
    assert host["ShmSize"] == 32 * 2**20  # added
    assert host["PidsLimit"] == 64  # replaces pids_limit (512)
    assert host["Memory"] == host["MemorySwap"] == 256 * 2**20  # ours otherwise
    assert host["CapDrop"] == ["ALL"] and host["Privileged"] is False


@pytest.fixture
def only_other_images(manager_config):
    manager_config["allowed_images"] = ["node:2?-alpine", "registry.example/*"]


@pytest.fixture
def only_test_image(manager_config):
    manager_config["allowed_images"] = [TEST_IMAGE.split("/")[0] + "/*"]


@pytest.mark.security_case(16)
async def test_disallowed_image_is_refused_before_creating(
    only_test_image, api, docker_client, owner
):
    # An image that is on the engine, but not allowed.
    answer = await api.post("containers", body={"image": "alpine:3", "name": "refused"})
    body = assert_error(answer, 403, code="EIMAGE_NOT_ALLOWED")
    assert "'alpine:3'" in body["message"] and "allowed_images" in body["message"]
    answer = await api.post("containers", body={"image": "evil/" + TEST_IMAGE})
    assert_error(answer, 403, code="EIMAGE_NOT_ALLOWED")
    assert owned(docker_client, owner) == []
    assert (await api.get("containers")).json() == []
    # The allowed default image still works.
    created = await api.create()
    assert inspect(docker_client, created["id"])["Config"]["Image"] == TEST_IMAGE


async def test_default_image_not_allowed_refuses_create_and_boot(
    only_other_images, api, docker_client, owner
):
    assert_error(await api.post("containers", body={}), 403, code="EIMAGE_NOT_ALLOWED")
    files = {"a.txt": {"file": {"contents": "x"}}}
    boot = await api.post("webcontainer", "boot", body={"files": files})
    body = assert_error(boot, 403, code="EIMAGE_NOT_ALLOWED")
    assert TEST_IMAGE in body["message"]
    assert owned(docker_client, owner) == []


@pytest.fixture
def too_many_cpus(manager_config):
    manager_config["cpu_limit"] = 4096.0  # more cores than any test engine has


async def test_cpu_cap_above_the_engine_is_a_clear_422(too_many_cpus, api, docker_client, owner):
    body = assert_error(await api.post("containers", body={}), 422)
    assert "CPU" in body["message"]
    assert owned(docker_client, owner) == []


@pytest.fixture
def pulling_with_allow_list(manager_config):
    manager_config.update(pull_missing_images=True, allowed_images=[TEST_IMAGE])


async def test_disallowed_image_is_never_pulled(pulling_with_allow_list, api, docker_client):
    image = "registry.invalid/jcm-never-pulled:1"
    answer = await api.post("containers", body={"image": image})
    assert_error(answer, 403, code="EIMAGE_NOT_ALLOWED")
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image)
