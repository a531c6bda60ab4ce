"""What every new container gets for the network it lives on: the server's proxy
variables (``pass_proxy_env``) and a trust store with the extra CA certificates
(``ca_certificates``). The pure parts are container_env.py and ca_certificates.py.

The configured bundle is read and checked once, at server start. A bundle that cannot be
used is logged as an error and makes every create fail (503, CA_CERTIFICATES_INVALID)
before anything is created: no container starts with a half-set trust store.

The combined bundle is the image's own system bundle plus the extra certificates. The
image's bundle is read from the container just created (not yet started, so it holds the
image's files), once per image id: an image's content never changes under its id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from typing import TYPE_CHECKING

import docker.errors

from ..core.ca_certificates import (
    BUNDLE_PATH,
    IMAGE_BUNDLE_PATHS,
    CaBundleError,
    Certificate,
    archive_member,
    bundle_archive,
    bundle_env,
    combine,
    link_target,
    load_ca_bundle,
)
from ..core.container_env import loopback_proxies, merge_env, proxy_env
from ..core.errors import CaCertificatesInvalid

if TYPE_CHECKING:
    from ..manager import ContainerManager

MAX_LINKS = 8  # symlinks followed from one of IMAGE_BUNDLE_PATHS


class NetworkSetup:
    """The environment and CA bundle of new containers, from the settings and the
    server's own environment (both as they were at start)."""

    def __init__(
        self,
        settings: ContainerManager,
        log: logging.Logger | None = None,
        environ: dict[str, str] | None = None,
    ):
        log = log or logging.getLogger("jupyter_container_manager")
        self.ca_path = settings.ca_certificates
        self.certificates: list[Certificate] = []
        self.problem: str | None = None
        if self.ca_path:
            try:
                self.certificates = load_ca_bundle(self.ca_path)
            except CaBundleError as err:
                self.problem = str(err)
                log.error(
                    "c.ContainerManager.ca_certificates: %s %s. No container will be "
                    "created until the file is fixed and the server restarted.",
                    self.ca_path,
                    self.problem,
                )
            else:
                log.info(
                    "Containers trust %d CA certificate(s) from %s in addition to their "
                    "image's own (%s)",
                    len(self.certificates),
                    self.ca_path,
                    BUNDLE_PATH,
                )
        self.env: dict[str, str] = {}
        if settings.pass_proxy_env:
            proxies = proxy_env(dict(os.environ if environ is None else environ))
            self.env.update(proxies)
            if proxies:
                log.info("Containers get the server's %s", ", ".join(sorted(proxies)))
            for name in loopback_proxies(proxies):
                log.warning(
                    "%s=%s is on the server's loopback address; inside a container that "
                    "address is the container itself, so this proxy does not serve "
                    "containers. Give a proxy address containers reach.",
                    name,
                    proxies[name],
                )
        if self.certificates:
            self.env.update(bundle_env())
        self._bundles: dict[str, bytes] = {}  # image id -> combined bundle
        self._lock = threading.Lock()

    @property
    def digest(self) -> str:
        """What this setup gives a container, in short ("" for nothing): a container of the
        warm pool made under another setup is not handed out (see engine/pool.py)."""
        if not self.env and not self.certificates:
            return ""
        hashed = hashlib.sha256(json.dumps(sorted(self.env.items())).encode())
        for certificate in self.certificates:
            hashed.update(certificate.der)
        return hashed.hexdigest()[:16]

    def check(self) -> None:
        """CaCertificatesInvalid when the configured bundle cannot be used."""
        if self.problem is not None:
            raise CaCertificatesInvalid(self.ca_path, self.problem)

    def environment(self, request_env: dict[str, str] | None) -> dict[str, str]:
        """The environment of a new container: this setup's under the request's."""
        return merge_env(self.env, request_env)

    # --- in the engine's worker threads ----------------------------------------------

    def install(self, client, docker_id: str, image_id: str) -> None:
        """Put the combined bundle into a created, not yet started container (blocking).
        Nothing to do without extra certificates."""
        self.check()
        if not self.certificates:
            return
        combined = self.bundle(client, docker_id, image_id)
        client.api.put_archive(docker_id, "/", bundle_archive(combined))

    def bundle(self, client, docker_id: str, image_id: str) -> bytes:
        """The combined bundle for containers of ``image_id``; ``docker_id`` is one of
        them, not started yet, read the first time."""
        with self._lock:
            if image_id in self._bundles:
                return self._bundles[image_id]
        combined = combine(read_image_bundle(client, docker_id), self.certificates)
        with self._lock:
            self._bundles[image_id] = combined
        return combined


def read_image_bundle(client, docker_id: str) -> bytes | None:
    """The first system CA bundle of IMAGE_BUNDLE_PATHS in a container, symlinks
    followed, or None when it has none (blocking). Engine errors other than a missing
    path pass through: better no container than one without its own CAs."""
    for path in IMAGE_BUNDLE_PATHS:
        target = path
        for _ in range(MAX_LINKS):
            try:
                stream, _ = client.api.get_archive(docker_id, target)
            except docker.errors.NotFound:
                break
            member = archive_member(b"".join(stream))
            if member is None:
                break
            kind, value = member
            if kind == "file":
                return value
            target = link_target(target, value)
    return None
