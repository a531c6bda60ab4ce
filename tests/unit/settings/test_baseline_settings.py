"""Validation of the container-baseline settings (pure)."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from jupyter_container_manager.config import ContainerManager


def test_defaults():
    settings = ContainerManager()
    assert settings.cpu_limit == 1.0
    assert settings.nofile_limit == 4096
    assert (settings.log_max_size, settings.log_max_files) == ("10m", 3)
    assert settings.allowed_images == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cpu_limit", -0.5),
        ("nofile_limit", 10),
        ("nofile_limit", -1),
        ("log_max_size", "ten megs"),
        ("log_max_files", 0),
    ],
)
def test_bad_values_are_refused(name, value):
    with pytest.raises(TraitError, match=name):
        ContainerManager(**{name: value})


def test_zero_turns_cap_and_ulimit_off():
    settings = ContainerManager(cpu_limit=0, nofile_limit=0)
    assert settings.cpu_limit == 0 and settings.nofile_limit == 0
