"""The Docker service: the only package of jupyter_container_manager that imports `docker`."""

from .service import DockerService

__all__ = ["DockerService"]
