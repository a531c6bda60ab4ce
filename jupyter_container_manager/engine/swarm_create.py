"""How the swarm backend makes a container: a Swarm service of one task, and the steps
on the task's container once it runs. Blocking docker-py calls, run in the worker
threads of the manager node's engine (the service) or of the node's (the container).

The service spec carries what Swarm can apply: our labels (on the service and on its
task's container), the command, hostname, environment, workdir, the user, an init
process, all capabilities dropped, limits (memory, CPUs, pids) and reservations (memory,
CPUs), the nofile ulimit, log rotation, placement, networks, and restart condition
"none". What a service spec cannot say is done on the node's engine once the container
runs (before this server hands it out): swap equal to memory (no extra swap) and the CPU
shares by ``docker update``, the CA bundle and the workdir's owner by archives.
no-new-privileges is a setting of the node's engine there (dockerd
--no-new-privileges); docs/scale-out.md says so.

The service names the image by its id, as found on the manager node's engine: Swarm then
never tries a registry (there may be none) and every node must hold that very image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import docker.errors
import docker.types

from ..core.container_user import UnknownUser, user_spec
from ..core.errors import ImageNotFound, Unprocessable
from ..core.models import LABEL_PREFIX
from .backend import ContainerSpec
from .network_setup import NetworkSetup
from .users import ImageUsers, own_workdir

if TYPE_CHECKING:
    from ..manager import ContainerManager

# On the task's container: the image as the caller named it (the service names its id).
LABEL_IMAGE = f"{LABEL_PREFIX}.image"
# On a node (docker node update --label-add): the URL of that node's engine.
LABEL_ENGINE = f"{LABEL_PREFIX}.engine"

# A task in one of these states will not run: the service is removed, the create fails.
TASK_ENDED = {"complete", "shutdown", "failed", "rejected", "orphaned", "remove"}


def parse_preference(text: str) -> tuple[str, str]:
    """``"spread=node.labels.zone"`` -> ``("spread", "node.labels.zone")``."""
    strategy, sep, descriptor = text.partition("=")
    if not sep or strategy.strip() != "spread" or not descriptor.strip():
        raise ValueError(
            f"c.ContainerManager.swarm_placement_preferences: {text!r} is not "
            "'spread=<node attribute>' (e.g. 'spread=node.labels.zone')"
        )
    return strategy.strip(), descriptor.strip()


class SwarmCreation:
    """Builds the service of a :class:`ContainerSpec` and prepares its container."""

    def __init__(self, settings: ContainerManager, network: NetworkSetup):
        self.settings = settings
        self.network = network
        self.users = ImageUsers(settings.user, settings.extra_labels)
        self.preferences = [parse_preference(p) for p in settings.swarm_placement_preferences]

    # --- on the manager node's engine ------------------------------------------------

    def create_service(self, client, spec: ContainerSpec) -> tuple[str, str, tuple[int, int] | None]:
        """Create the service of ``spec``: ``(service id, image id, user ids)``."""
        if spec.publish_ports:
            raise Unprocessable("Publishing container ports on host ports "
                                "(c.ContainerManager.publish_ports) is not available on "
                                "the swarm backend; previews go through the proxy.")
        try:
            image_id = client.api.inspect_image(spec.image)["Id"]
        except docker.errors.ImageNotFound:
            raise ImageNotFound(
                f"Image {spec.image!r} is not on the swarm's manager node. Load it on every "
                "node (`docker save IMAGE | docker -H NODE load`, or pull it there), or "
                "choose another image (c.ContainerManager.image)."
            ) from None
        try:
            ids = self.users.user_for(client, image_id)
        except UnknownUser as err:
            raise Unprocessable(f"{err} (c.ContainerManager.user)") from None
        try:
            answer = client.api.create_service(
                self.task_template(spec, image_id, ids),
                name=spec.name,
                labels=spec.labels,
                mode=docker.types.ServiceMode("replicated", 1),
            )
        except docker.errors.APIError as err:
            raise Unprocessable(f"The swarm refused the service: {err.explanation}") from err
        return answer["ID"], image_id, ids

    def task_template(self, spec: ContainerSpec, image_id: str,
                      ids: tuple[int, int] | None) -> docker.types.TaskTemplate:
        settings = self.settings
        container = docker.types.ContainerSpec(
            image=image_id,
            command=spec.command,
            hostname=spec.hostname,
            env=[f"{k}={v}" for k, v in spec.env.items()] or None,
            workdir=spec.workdir,
            user=user_spec(ids) or None,
            labels={**spec.labels, LABEL_IMAGE: spec.image},
            init=True,
            cap_drop=["ALL"],
            stop_grace_period=5 * 10**9,
        )
        if spec.nofile_limit:  # ContainerSpec.Ulimits: API 1.41
            n = spec.nofile_limit
            container["Ulimits"] = [{"Name": "nofile", "Soft": n, "Hard": n}]
        resources = docker.types.Resources(
            cpu_limit=int(round(spec.cpu_limit * 1e9)) or None,
            mem_limit=spec.memory or None,
            cpu_reservation=int(round(settings.swarm_cpu_reservation * 1e9)) or None,
            mem_reservation=settings.swarm_memory_reservation or None,
        )
        if spec.pids_limit:  # Resources.Limits.Pids: API 1.41
            resources.setdefault("Limits", {})["Pids"] = spec.pids_limit
        placement = docker.types.Placement(
            constraints=list(settings.swarm_placement_constraints) or None,
            preferences=self.preferences or None,
        )
        return docker.types.TaskTemplate(
            container,
            resources=resources,
            # The task's container is stopped and started on its node's engine
            # (swarm_backend.py); Swarm must never replace it with a new, empty one.
            restart_policy=docker.types.RestartPolicy(condition="none"),
            placement=placement,
            log_driver=docker.types.DriverConfig(
                "json-file",
                {"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)},
            ),
            networks=[{"Target": n} for n in settings.swarm_networks] or None,
        )

    # --- on the node's engine, once the task's container runs -------------------------

    def prepare(self, client, docker_id: str, spec: ContainerSpec, image_id: str,
                ids: tuple[int, int] | None) -> None:
        """What the service spec could not say: no extra swap, the CPU shares, the CA
        bundle, the workdir's owner."""
        try:
            update = {}
            if spec.memory:
                update.update(mem_limit=spec.memory, memswap_limit=spec.memory)
            if spec.cpu_shares:
                update["cpu_shares"] = spec.cpu_shares
            if update:
                client.api.update_container(docker_id, **update)
            self.network.install(client, docker_id, image_id)
            if ids:
                own_workdir(client, docker_id, spec.workdir, ids)
        except docker.errors.APIError as err:
            raise Unprocessable(
                f"The container was started but could not be prepared: {err.explanation}"
            ) from err
