"""The server's start is frozen out of the garbage collector's walks."""

from __future__ import annotations

import gc
import logging

from jupyter_container_manager.manager import ContainerManager
from jupyter_container_manager.server_heap import freeze_startup_heap


def test_freeze_moves_what_is_alive_out_of_the_collections_walks():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    alive = [object() for _ in range(10)], {"a": [1, 2]}
    try:
        frozen = freeze_startup_heap(logging.getLogger("test"))
        assert frozen == gc.get_freeze_count() > 0
        # the objects tracked before are no longer in any generation a collection walks
        assert not any(obj is alive[1] for obj in gc.get_objects())
        # what comes later is collected as before: a cycle made now is freed
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_freezing_is_a_setting_on_by_default():
    assert ContainerManager().freeze_startup_heap is True
    assert ContainerManager(freeze_startup_heap=False).freeze_startup_heap is False
