"""The warm pool's hand-out on a swarm: a service label, not a rename.

On one engine a pooled container waits under ``jcm-pool-<id>`` and the hand-out renames
it ``jcm-<id>``. A swarm service cannot be renamed, and its task's container keeps the
name and labels its service's task template gave it (changing the template replaces the
task: a new, empty container). What a service can change in place is its own labels
(``Spec.Labels``, outside the task template): Swarm does not touch the running task
(tests/swarm/test_swarm_pool.py checks the task and container stay the same). So:

- a pooled container is the task of a service named ``jcm-pool-<id>`` (as on one engine);
- the hand-out adds the label ``jupyter-container-manager.handed-out=jcm-<id>`` to that
  service, as one update conditioned on the service's version: of two servers handing
  out the same container, the second's update is refused ("update out of sequence"),
  and an already handed-out service is refused before any update, so a container is
  never handed out twice;
- the swarm backend answers a container of a ``jcm-pool-<id>`` service as ``jcm-pool-<id>``
  (in the pool) until its service carries that label, and as ``jcm-<id>`` from then on;
  a lookup of ``jcm-<id>`` that finds no such service finds ``jcm-pool-<id>`` once it is
  handed out. The label is the only state: a restarted server reads it from the services
  its listing asks the manager for anyway, and finds the pool and the handed-out
  containers as they are;
- a label change is no container event, so the backend then updates the container
  with nothing (an "update" event on its node): other servers following the node's
  events look at it again and find it handed out.

Pure functions and one blocking docker-py call (run on the manager's worker threads).
"""

from __future__ import annotations

import docker.errors

from ..core.models import LABEL_ID, POOL_NAME_PREFIX, docker_name, pool_name
from .backend import BackendConflict, BackendNotFound, BackendRefused

LABEL_HANDED_OUT = "jupyter-container-manager.handed-out"  # on the service, once handed out
LABEL_SERVICE_NAME = "com.docker.swarm.service.name"
OUT_OF_SEQUENCE = "out of sequence"  # Swarm's refusal of an update made on an old version


def is_pool_service(labels: dict) -> bool:
    """Whether a task container's labels say its service is a pool one (``jcm-pool-<id>``)."""
    container_id = labels.get(LABEL_ID)
    return bool(container_id) and labels.get(LABEL_SERVICE_NAME) == pool_name(container_id)


def name_of(labels: dict, handed_out: bool) -> str:
    """The Docker name the backend answers for a task container with these labels:
    ``jcm-pool-<id>`` while its pool service is not handed out, else ``jcm-<id>``."""
    container_id = labels[LABEL_ID]
    if is_pool_service(labels) and not handed_out:
        return pool_name(container_id)
    return docker_name(container_id)


def pool_ref(ref: str) -> str:
    """For a lookup of ``jcm-<id>``: the pool service name it may have been handed out
    from (``jcm-pool-<id>``); "" for any other ref."""
    if ref.startswith("jcm-") and not ref.startswith(POOL_NAME_PREFIX):
        return pool_name(ref[len("jcm-"):])
    return ""


def handed_out(service: dict) -> bool:
    """Whether a service's inspect (or list entry) carries the hand-out label."""
    return bool(((service.get("Spec") or {}).get("Labels") or {}).get(LABEL_HANDED_OUT))


def hand_out(client: docker.DockerClient, service_id: str, name: str) -> None:
    """Label the pool service ``service_id`` as handed out under ``name``, in place and
    conditioned on its version. BackendConflict when it was handed out already or another
    update came first; BackendNotFound when it is gone; BackendRefused when it is not a
    pool service."""
    try:
        service = client.api.inspect_service(service_id)
    except docker.errors.NotFound as err:
        raise BackendNotFound(f"No such service: {service_id}") from err
    spec = dict(service["Spec"])
    if not str(spec.get("Name", "")).startswith(POOL_NAME_PREFIX):
        raise BackendRefused(
            "a swarm service cannot be renamed: only a warm-pool container is handed out", 409)
    if handed_out(service):
        raise BackendConflict(f"container {spec['Name']} was handed out already")
    spec["Labels"] = {**(spec.get("Labels") or {}), LABEL_HANDED_OUT: name}
    version = service["Version"]["Index"]
    try:
        # The spec as it is, its labels aside: the task template is unchanged, so Swarm
        # keeps the running task (and its container).
        answer = client.api._post_json(client.api._url("/services/{0}/update", service_id),
                                       data=spec, params={"version": version})
        client.api._raise_for_status(answer)
    except docker.errors.NotFound as err:
        raise BackendNotFound(f"No such service: {service_id}") from err
    except docker.errors.APIError as err:
        explanation = str(err.explanation or err)
        if OUT_OF_SEQUENCE in explanation:
            raise BackendConflict(f"container {spec['Name']} was taken meanwhile") from err
        raise BackendRefused(explanation, err.status_code or 500) from err
