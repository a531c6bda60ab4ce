"""The Docker engine: the only package of jupyter_container_manager that imports the Docker
SDK. Containers and their labels, files, processes, terminals, the resident agent (and its
JavaScript), watchers, ports, the warm pool and the idle reaper."""

from .service import DockerService

__all__ = ["DockerService"]
