"""The backend seam: the Docker backend has every method of the EngineBackend Protocol,
with the same parameters, and the parts are typed against the Protocol, not Docker."""

from __future__ import annotations

import inspect

import pytest

from jupyter_container_manager.engine.backend import BackendRefused, ContainerSpec, EngineBackend
from jupyter_container_manager.engine.docker_backend import DockerBackend


def protocol_methods() -> dict[str, object]:
    return {name: value for name, value in vars(EngineBackend).items()
            if callable(value) and not name.startswith("_")}


def test_the_docker_backend_implements_the_protocol():
    methods = protocol_methods()
    assert {"create", "start", "stop", "remove", "list", "inspect", "exec_start",
            "put_archive", "get_archive", "events", "address_of"} <= set(methods)
    for name, declared in methods.items():
        implemented = getattr(DockerBackend, name, None)
        assert implemented is not None, f"DockerBackend has no {name}"
        want = list(inspect.signature(declared).parameters)
        have = list(inspect.signature(implemented).parameters)
        assert have[: len(want)] == want, f"{name}: {have} is not {want}"
        assert inspect.iscoroutinefunction(implemented) == inspect.iscoroutinefunction(
            declared) or inspect.isasyncgenfunction(implemented), name
    assert "url" in EngineBackend.__annotations__


async def test_a_backend_built_without_creation_refuses_to_create():
    backend = DockerBackend("unix:///nonexistent.sock")
    spec = ContainerSpec(image="x", name="jcm-x", labels={}, workdir="/w", command=["true"],
                         hostname="x")
    with pytest.raises(BackendRefused, match="without a way to create"):
        await backend.create(spec)
    await backend.close()
