"""The swarm backend's service spec and settings, without an engine."""

from __future__ import annotations

import pytest

from jupyter_container_manager.engine.backend import ContainerSpec
from jupyter_container_manager.engine.swarm_create import (
    LABEL_IMAGE,
    SwarmCreation,
    parse_preference,
)
from jupyter_container_manager.manager import ContainerManager


def spec(**extra) -> ContainerSpec:
    base = dict(image="img:1", name="jcm-x", labels={"a": "b"}, workdir="/workspace",
                command=["sleep", "1"], hostname="jcm-x", env={"K": "v"}, memory=512 * 2**20,
                cpu_shares=512, cpu_limit=1.5, pids_limit=256, nofile_limit=1024)
    base.update(extra)
    return ContainerSpec(**base)


def test_the_task_template_carries_limits_reservations_hardening_and_placement():
    settings = ContainerManager(backend="swarm", swarm_placement_constraints=["node.role==worker"],
                                swarm_placement_preferences=["spread=node.labels.zone"],
                                swarm_networks=["jcm-net"])
    creation = SwarmCreation(settings, network=None)
    template = creation.task_template(spec(), "sha256:abc", (1000, 1000))
    container = template["ContainerSpec"]
    assert container["Image"] == "sha256:abc"
    assert container["Labels"] == {"a": "b", LABEL_IMAGE: "img:1"}
    assert container["User"] == "1000:1000" and container["Init"] is True
    assert container["CapabilityDrop"] == ["ALL"]
    assert container["Env"] == ["K=v"] and container["Dir"] == "/workspace"
    assert container["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 1024}]
    assert template["Resources"] == {
        "Limits": {"NanoCPUs": 1_500_000_000, "MemoryBytes": 512 * 2**20, "Pids": 256},
        "Reservations": {"NanoCPUs": 100_000_000, "MemoryBytes": 128 * 2**20},
    }
    assert template["RestartPolicy"]["Condition"] == "none"
    assert template["Placement"] == {
        "Constraints": ["node.role==worker"],
        "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
    }
    assert template["Networks"] == [{"Target": "jcm-net"}]


def test_preferences_must_be_spread():
    assert parse_preference("spread=node.labels.zone") == ("spread", "node.labels.zone")
    for bad in ("node.labels.zone", "pack=node.id", "spread="):
        with pytest.raises(ValueError, match="swarm_placement_preferences"):
            parse_preference(bad)


@pytest.mark.parametrize("setting", [{"disk_limit": "1g"}, {"publish_ports": True},
                                     {"extra_host_config": {"shm_size": "1g"}}])
def test_settings_the_swarm_cannot_apply_stop_the_start(setting):
    manager = ContainerManager(backend="swarm", **setting)
    with pytest.raises(ValueError, match="not available with backend 'swarm'"):
        manager._build()


def test_a_warm_pool_on_swarm_too():
    manager = ContainerManager(backend="swarm", warm_pool_size=3)
    manager._build()
    assert manager._pool.size == 3


def test_a_pool_service_answers_by_its_pool_name_until_handed_out():
    """A pooled container's service is jcm-pool-<id>; its hand-out is a label on the
    service (engine/swarm_pool.py), after which it answers as jcm-<id>."""
    from jupyter_container_manager.core.models import LABEL_ID, is_pooled
    from jupyter_container_manager.engine.swarm_backend import SwarmBackend
    from jupyter_container_manager.engine.swarm_pool import (
        LABEL_HANDED_OUT,
        LABEL_SERVICE_NAME,
        handed_out,
        pool_ref,
    )

    cid = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
    labels = {LABEL_ID: cid, LABEL_SERVICE_NAME: f"jcm-pool-{cid}",
              "com.docker.swarm.service.id": "svc1"}
    waiting = SwarmBackend._summary({"Names": [f"/jcm-pool-{cid}.1.x"], "Labels": dict(labels)})
    assert waiting["Names"] == [f"/jcm-pool-{cid}"] and is_pooled(waiting)
    taken = SwarmBackend._summary({"Names": [f"/jcm-pool-{cid}.1.x"], "Labels": dict(labels)},
                                  {"svc1"})
    assert taken["Names"] == [f"/jcm-{cid}"] and not is_pooled(taken)
    # A container of an ordinary service is never taken for a pooled one.
    plain = {**labels, LABEL_SERVICE_NAME: f"jcm-{cid}"}
    assert SwarmBackend._answer({"Config": {"Labels": plain}})["Name"] == f"/jcm-{cid}"
    assert pool_ref(f"jcm-{cid}") == f"jcm-pool-{cid}"
    assert pool_ref(f"jcm-pool-{cid}") == "" and pool_ref("abc123") == ""
    assert handed_out({"Spec": {"Labels": {LABEL_HANDED_OUT: f"jcm-{cid}"}}})
    assert not handed_out({"Spec": {"Labels": {}}})


def test_a_task_container_answers_as_its_service_is_named():
    """Swarm names a task's container <service>.1.<task>; the index and the lifecycle
    find containers by the service's name."""
    from jupyter_container_manager.core.models import LABEL_ID
    from jupyter_container_manager.engine.swarm_backend import SwarmBackend

    cid = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
    labels = {LABEL_ID: cid, LABEL_IMAGE: "img:1"}
    attrs = SwarmBackend._answer({"Name": f"/jcm-{cid}.1.abcdef", "Config": {
        "Labels": labels, "Image": "sha256:abc"}})
    assert attrs["Name"] == f"/jcm-{cid}" and attrs["Config"]["Image"] == "img:1"
    summary = SwarmBackend._summary({"Names": [f"/jcm-{cid}.1.abcdef"], "Labels": labels,
                                     "Image": "sha256:abc"})
    assert summary["Names"] == [f"/jcm-{cid}"] and summary["Image"] == "img:1"
