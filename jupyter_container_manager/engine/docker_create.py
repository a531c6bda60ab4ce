"""How the Docker backend makes a container: the user it runs as, a pull when the image
is missing, the host config (resources and hardening from the settings, then the
administrator's ``extra_host_config``), the CA bundle and the workdir's owner before it
starts, and published ports. Runs in the engine's worker threads (blocking docker-py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import docker.errors
import docker.types
from docker.models.containers import RUN_HOST_CONFIG_KWARGS

from ..core.container_user import UnknownUser, user_spec
from ..core.errors import ImageNotFound, Unprocessable
from ..core.models import LABEL_ID
from .backend import ContainerSpec
from .disk import DiskQuota
from .image_pull import PullFailed, pull_image
from .network import create_published
from .network_setup import NetworkSetup
from .users import ImageUsers, own_workdir

if TYPE_CHECKING:
    from ..manager import ContainerManager


class DockerCreation:
    """Creates and starts containers of a :class:`ContainerSpec` on one Docker engine."""

    def __init__(self, settings: ContainerManager, network: NetworkSetup):
        self.settings = settings
        self.network = network
        self.users = ImageUsers(settings.user, settings.extra_labels)
        # disk_limit: a disk of its own per container, where the engine cannot bound it.
        self.disk = DiskQuota(settings.disk_bytes, settings.extra_labels)
        unknown = sorted(set(settings.extra_host_config) - {*RUN_HOST_CONFIG_KWARGS, "volumes"})
        if unknown:
            raise ValueError(
                f"c.ContainerManager.extra_host_config: {', '.join(map(repr, unknown))} "
                "are not host-config options of docker-py (e.g. shm_size, runtime, "
                "device_requests)"
            )

    def create_and_start(self, client, spec: ContainerSpec) -> dict:
        """The new container's inspect, once it runs; domain errors otherwise (the
        container is removed again when a step after its create fails)."""
        options = self.options(spec)
        if spec.publish_ports:  # on 127.0.0.1:8000 and up
            return create_published(client, lambda c: self._create_and_start(c, spec, options),
                                    options, spec.publish_ports)
        return self._create_and_start(client, spec, options)

    def options(self, spec: ContainerSpec) -> dict:
        """docker-py's keyword arguments for the container of ``spec``."""
        options = dict(
            image=spec.image,
            command=spec.command,
            name=spec.name,
            labels=spec.labels,
            working_dir=spec.workdir,
            environment=spec.env or None,
            detach=True,
            init=True,
            mem_limit=spec.memory,
            memswap_limit=spec.memory,
            cpu_shares=spec.cpu_shares,
            pids_limit=spec.pids_limit,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            hostname=spec.hostname,
            **self.baseline(spec),
        )
        # The administrator's extra host config (it may open up the host: see its help).
        options.update(self.settings.extra_host_config)
        return options

    @staticmethod
    def baseline(spec: ContainerSpec) -> dict:
        """Host config every container gets from the settings, never from the caller:
        a hard CPU cap, the nofile ulimit, log rotation; not privileged, no devices and
        no binds (so never the Docker socket). The engine's default seccomp profile
        stays: no security option unconfines it."""
        options: dict = dict(
            privileged=False,
            devices=[],
            volumes={},
            log_config=docker.types.LogConfig(
                type=docker.types.LogConfig.types.JSON,
                config={"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)},
            ),
        )
        if spec.cpu_limit:
            options["nano_cpus"] = int(round(spec.cpu_limit * 1e9))
        if spec.nofile_limit:
            limit = spec.nofile_limit
            options["ulimits"] = [docker.types.Ulimit(name="nofile", soft=limit, hard=limit)]
        return options

    def _create_and_start(self, client, spec: ContainerSpec, options: dict) -> dict:
        try:
            try:
                ids = self.users.user_for(client, spec.image)
            except docker.errors.ImageNotFound:
                self._pull(client, spec.image)
                ids = self.users.user_for(client, spec.image)
        except UnknownUser as err:
            raise Unprocessable(f"{err} (c.ContainerManager.user)") from None
        options["user"] = user_spec(ids)
        container_id = spec.labels[LABEL_ID]
        # A disk's empty workdir takes the files a snapshot holds at the workdir.
        self.disk.prepare(client, container_id, spec.image, options, ids,
                          copy_workdir=spec.from_snapshot == "image")
        try:
            return self._make_and_start(client, options, spec, ids)
        except BaseException:
            self.disk.release(client, container_id)
            raise

    def _make_and_start(self, client, options: dict, spec: ContainerSpec, ids) -> dict:
        try:
            container = client.containers.create(**options)
        except docker.errors.APIError as err:
            raise Unprocessable(
                f"The Docker engine refused the container: {err.explanation}"
            ) from err
        try:
            self.network.install(client, container.id, container.attrs["Image"])
        except docker.errors.APIError as err:
            container.remove(force=True, v=True)
            raise Unprocessable(
                "The container was created but its CA bundle could not be put in "
                f"(c.ContainerManager.ca_certificates): {err.explanation}"
            ) from err
        try:
            if ids and not spec.from_snapshot and not self.users.workdir_is_theirs(
                    client, container.attrs["Image"], spec.workdir, ids):
                own_workdir(client, container.id, spec.workdir, ids)
            container.start()
        except docker.errors.APIError as err:
            container.remove(force=True, v=True)
            raise Unprocessable(
                f"The container was created but could not start: {err.explanation}"
            ) from err
        container.reload()
        return container.attrs

    def _pull(self, client, image: str) -> None:
        how = (
            f"Image {image!r} is not on the Docker engine. Pull or build it "
            f"(`docker pull {image}`; the default image is built from the project's "
            "source tree: README, 'The default image'), or choose another image "
            "(c.ContainerManager.image, e.g. 'node:22')."
        )
        if not self.settings.pull_missing_images:
            raise ImageNotFound(how)
        report = getattr(self.settings, "report_pull", None)
        try:
            pull_image(client, image, report)
        except PullFailed as err:
            if report is not None:
                report({"image": image, "status": "failed", "message": str(err)})
            raise ImageNotFound(str(err)) from err
