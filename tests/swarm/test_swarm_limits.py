"""Bad input on a real Docker Swarm: a placement constraint no node matches answers 422
at once and leaves nothing behind; max_containers_per_user counts across every node."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.helpers import assert_error
from tests.swarm.conftest import node_of


@pytest.fixture
def no_node_matches(manager_config):
    manager_config["swarm_placement_constraints"] = ["node.labels.jcm-test-nowhere==yes"]


async def test_a_constraint_no_node_matches_is_422_and_leaves_nothing(
        no_node_matches, api, swarm_clients, owner):
    manager, nodes = swarm_clients
    started = time.monotonic()
    answer = await api.post("containers", body={"name": "nowhere"})
    assert_error(answer, 422)
    assert "no suitable node" in answer.json()["message"], answer.json()
    assert time.monotonic() - started < 15, "the create waited for swarm_start_timeout"
    assert (await api.get("containers")).json() == []
    mine = {"label": f"jupyter-container-manager.owner={owner}"}
    assert not manager.services.list(filters=mine)
    for node in nodes:
        assert not node.containers.list(all=True, filters=mine)


@pytest.fixture
def quota_of_three(manager_config):
    manager_config["max_containers_per_user"] = 3


async def test_the_quota_counts_containers_on_every_node(quota_of_three, api, swarm_clients):
    made = await asyncio.gather(*(api.create(name=f"q-{i}") for i in range(3)))
    assert len({node_of(swarm_clients, c["id"]) for c in made}) >= 2
    assert_error(await api.post("containers", body={}), 429, code="EQUOTA")
    # Parallel creates at the limit: none gets through.
    refused = await asyncio.gather(*(api.post("containers", body={}) for _ in range(3)))
    assert [r.status for r in refused] == [429] * 3
    assert (await api.delete("containers", made[0]["id"])).status == 204
    again = await api.post("containers", body={"name": "again"})
    assert again.status == 201, again
    assert_error(await api.post("containers", body={}), 429, code="EQUOTA")
    assert len((await api.get("containers")).json()) == 3
