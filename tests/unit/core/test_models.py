"""Labels <-> ContainerInfo, without Docker."""

from __future__ import annotations

import pytest

from jupyter_container_manager.core.models import (
    LABEL_DISK,
    LABEL_DISK_LIMIT,
    LABEL_ID,
    LABEL_OWNER,
    ContainerInfo,
    attrs_from_summary,
    disk_mount_point,
    docker_name,
    is_container_id,
    is_pooled,
    make_labels,
    new_container_id,
    owner_filter,
    parse_ports,
    pool_name,
    status_of,
)


def test_new_ids_are_uuid4_and_recognised():
    first, second = new_container_id(), new_container_id()
    assert first != second
    assert is_container_id(first)


@pytest.mark.parametrize("text", ["", "nope", "0b6f43f5", "0B6F43F5-3F0E-4BD2-9A58-5A1F0E0A2F4B",
                                  "0b6f43f5-3f0e-1bd2-9a58-5a1f0e0a2f4b", "../etc", None, 5])
def test_other_texts_are_not_ids(text):
    assert not is_container_id(text)


@pytest.mark.parametrize("state, status", [
    ({"Status": "running"}, "running"),
    ({"Status": "restarting"}, "running"),
    ({"Status": "created"}, "creating"),
    ({"Status": "paused"}, "stopped"),
    ({"Status": "exited", "ExitCode": 143}, "stopped"),
    ({"Status": "exited", "ExitCode": 137}, "stopped"),
    ({"Status": "exited", "ExitCode": 0}, "exited"),
    ({"Status": "exited", "ExitCode": 1}, "exited"),
    ({"Status": "exited", "ExitCode": 137, "OOMKilled": True}, "error"),
    ({"Status": "dead"}, "error"),
    ({"Status": "lost", "Error": "swarm node abc does not answer"}, "lost"),
    ({}, "error"),
])
def test_status_mapping(state, status):
    assert status_of(state) == status


def test_labels_round_trip_through_info():
    labels = make_labels(container_id="0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b", owner="ann",
                         name="demo", workdir="/home/app", created="2026-01-01T00:00:00Z",
                         ports=[5173, 3000, 3000], extra={"x": "y"})
    assert labels["x"] == "y"
    attrs = {
        "Id": "dockerid",
        "Config": {"Labels": labels, "Image": "node:20", "WorkingDir": "/home/app"},
        "State": {"Status": "running"},
        "HostConfig": {"Memory": 100, "CpuShares": 2, "PidsLimit": 3},
    }
    info = ContainerInfo.from_attrs(attrs)
    assert info.announced_ports == [3000, 5173]
    public = info.to_json([{"port": 3000, "url": "/u"}])
    assert public == {
        "id": "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b", "name": "demo", "image": "node:20",
        "status": "running", "created": "2026-01-01T00:00:00Z", "owner": "ann",
        "workdir": "/home/app", "ports": [{"port": 3000, "url": "/u"}],
        "limits": {"memory": 100, "cpu_shares": 2, "pids": 3},
        "disk": {"limit": 0, "used": None},
    }
    assert "dockerid" not in str(public)


def _loop_attrs(limit="67108864", device="/var/lib/docker/volumes/jcm-disk-x/_data/fs/work"):
    labels = make_labels(container_id="0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b", owner="ann",
                         name="demo", workdir="/workspace", created="", ports=[])
    labels.update({LABEL_DISK: "loop", LABEL_DISK_LIMIT: limit})
    mount = {"Target": "/workspace", "Type": "volume", "VolumeOptions": {"DriverConfig": {
        "Name": "local", "Options": {"type": "none", "o": "bind", "device": device}}}}
    tmp = {**mount, "Target": "/tmp"}
    return {"Config": {"Labels": labels}, "State": {}, "HostConfig": {"Mounts": [tmp, mount]}}


def test_the_disk_quota_comes_from_the_labels_and_its_mount_point_from_the_mounts():
    info = ContainerInfo.from_attrs(_loop_attrs())
    assert info.disk_limit == 64 * 1024**2
    assert info.disk_path == "/var/lib/docker/volumes/jcm-disk-x/_data/fs"
    assert info.to_json()["disk"] == {"limit": 64 * 1024**2, "used": None}
    assert "/var/lib" not in str(info.to_json())  # host paths stay internal


def test_forged_disk_labels_give_no_quota_and_no_path():
    info = ContainerInfo.from_attrs(_loop_attrs(limit="12x", device="nowhere"))
    assert (info.disk_limit, info.disk_path) == (0, "")
    attrs = _loop_attrs()
    attrs["Config"]["Labels"][LABEL_DISK] = "storage"
    assert disk_mount_point(attrs) == ""
    assert disk_mount_point({}) == ""


def test_owner_filter_names_owner_and_requires_an_id():
    assert owner_filter("ann") == {"label": [f"{LABEL_OWNER}=ann", LABEL_ID]}


def test_parse_ports_ignores_junk():
    assert parse_ports("3000,,x,8080") == [3000, 8080]
    assert parse_ports(None) == []


def test_a_summary_of_a_container_being_started_reads_as_creating():
    labels = make_labels(
        container_id="11111111-1111-4111-8111-111111111111", owner="me", name="n",
        workdir="/workspace", created="2026-01-01T00:00:00.000+00:00", ports=[3000],
    )
    summary = {"Id": "abc", "Names": ["/jcm-11111111-1111-4111-8111-111111111111"],
               "Image": "img", "Labels": labels, "State": "created", "Created": 1}
    info = ContainerInfo.from_attrs(attrs_from_summary(summary))
    assert (info.id, info.name, info.status, info.docker_id) == (
        "11111111-1111-4111-8111-111111111111", "n", "creating", "abc")
    assert info.announced_ports == [3000] and info.pid == 0


def test_pooled_containers_are_known_by_their_name():
    assert is_pooled({"Names": ["/" + pool_name("x")]})
    assert is_pooled({"Name": "/" + pool_name("x")})
    assert not is_pooled({"Names": ["/" + docker_name("x")]})


def test_a_lost_container_says_why_and_others_carry_no_reason():
    labels = make_labels(container_id="0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b", owner="ann",
                         name="demo", workdir="/w", created="2026-01-01T00:00:00Z", ports=[])
    lost = ContainerInfo.from_attrs({"Id": "abc", "Config": {"Labels": labels}, "State": {
        "Status": "lost", "Error": "swarm node x1 (host) at tcp://n1:2376 does not answer"}})
    assert lost.status == "lost"
    assert lost.to_json()["reason"] == "swarm node x1 (host) at tcp://n1:2376 does not answer"
    dead = ContainerInfo.from_attrs({"Id": "abc", "Config": {"Labels": labels},
                                     "State": {"Status": "dead", "Error": "engine trouble"}})
    assert dead.status == "error" and "reason" not in dead.to_json()
