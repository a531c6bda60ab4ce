"""Where the Docker engine is and how to reach it, read the way the Docker SDK and CLI read
it: an explicit URL (``c.ContainerManager.docker_url``), else ``DOCKER_HOST``, else a
Docker context (``c.ContainerManager.docker_context``, ``DOCKER_CONTEXT``, or the CLI's
current context in ``~/.docker/config.json``), else the local socket.

A ``tcp://`` engine speaks TLS when ``DOCKER_TLS_VERIFY`` or ``DOCKER_CERT_PATH`` say so
(``ca.pem``, ``cert.pem``, ``key.pem`` in the cert path, as the SDK reads them), or when
its context carries TLS material. An ``ssh://`` engine is reached through the ``ssh``
client (``docker system dial-stdio`` on the remote host, as the CLI does).

:class:`EngineAddress` makes the docker-py client and knows what raw exec streams need
(engine_streams.py opens them over the same transport).
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

import docker
import docker.errors
from docker.constants import DEFAULT_DOCKER_API_VERSION
from docker.context import ContextAPI
from docker.tls import TLSConfig
from docker.utils import kwargs_from_env

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class EngineAddress:
    """An engine's URL and, for ``tcp://`` with TLS, its TLS material. ``source`` says
    where it was read (for error messages)."""

    url: str
    tls: TLSConfig | None = None
    source: str = ""

    @property
    def scheme(self) -> str:
        return urlparse(self.url).scheme or "unix"

    @property
    def shown(self) -> str:
        """The URL as people read it: ``tcp://host:2376 (TLS, from DOCKER_HOST)``."""
        notes = [note for note in ("TLS" if self.tls is not None else "",
                                   f"from {self.source}" if self.source else "") if note]
        return f"{self.url} ({', '.join(notes)})" if notes else self.url

    def client(self, **kwargs) -> docker.DockerClient:
        """A docker-py client of this engine (TLS, ssh through the ``ssh`` client)."""
        if self.tls is None:
            return docker.DockerClient(base_url=self.url, use_ssh_client=self.scheme == "ssh",
                                       **kwargs)
        # The version is asked after the session keeps its CA (_keep_engine_ca).
        version = kwargs.pop("version", None)
        automatic = version is None or str(version).lower() == "auto"
        client = docker.DockerClient(base_url=self.url, tls=self.tls,
                                     version=DEFAULT_DOCKER_API_VERSION if automatic else version,
                                     **kwargs)
        _keep_engine_ca(client.api)
        if automatic:
            try:
                client.api._version = client.api._retrieve_server_version()
            except BaseException:
                client.close()
                raise
        return client

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of raw connections, as docker-py's (requests') would be: the
        CA of ``ca_cert`` (or the system's) when verifying, the client certificate."""
        tls = self.tls
        assert tls is not None
        context = ssl.create_default_context(
            cafile=tls.ca_cert if tls.verify and tls.ca_cert else None)
        if isinstance(tls.verify, str):  # a CA bundle given as `verify`
            context.load_verify_locations(cafile=tls.verify)
        if not tls.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.cert:
            context.load_cert_chain(*tls.cert)
        return context


def resolve_engine(url: str = "", *, context: str = "",
                   environ: Mapping[str, str] | None = None) -> EngineAddress:
    """The engine of ``url`` (empty: of the environment, as the Docker CLI finds it)."""
    env = os.environ if environ is None else environ
    if url:
        return _with_env_tls(url, env, "docker_url")
    if env.get("DOCKER_HOST"):
        return _with_env_tls(env["DOCKER_HOST"], env, "DOCKER_HOST")
    name = context or env.get("DOCKER_CONTEXT") or ""
    found = _from_context(name)
    if found is not None:
        return found
    return EngineAddress(DEFAULT_SOCKET)


def _with_env_tls(url: str, env: Mapping[str, str], source: str) -> EngineAddress:
    """``url`` with the TLS of DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for tcp:// and
    https:// (the SDK's own reading of them; unix:// and ssh:// take none)."""
    scheme = urlparse(url).scheme
    tls = None
    if scheme in ("tcp", "https", "http"):
        try:
            tls = kwargs_from_env(dict(env)).get("tls")
        except docker.errors.TLSParameterError as err:
            raise ValueError(f"the TLS settings of the environment do not hold: {err}") from err
        if tls is None and scheme == "https":
            tls = TLSConfig(verify=True)
    return EngineAddress(url, tls or None, source)


def _from_context(name: str) -> EngineAddress | None:
    """The engine of Docker context ``name`` (empty: the CLI's current one); None for the
    built-in ``default`` context (the local socket)."""
    try:
        found = ContextAPI.get_context(name or None)
    except docker.errors.DockerException as err:
        raise ValueError(f"Docker context {name!r}: {err}") from err
    if found is None:
        if name:
            raise ValueError(f"there is no Docker context {name!r} (`docker context ls`)")
        return None
    if found.name == "default" or not found.Host:
        return None
    tls = found.TLSConfig
    return EngineAddress(found.Host, tls if tls else None, f"Docker context {found.name}")


def close_docker_stream(stream) -> None:
    """End a stream docker-py is reading (``client.events()``), from another thread: the
    blocked read returns and the stream stops. docker-py's own ``close`` shuts the socket
    down; over the ``ssh`` client there is no socket but a pipe from the ``ssh`` process, which
    it cannot find (it raises, and the read would block for good, holding its thread and
    the server's exit): that ``ssh`` is ended instead, so its pipe reaches end-of-file."""
    try:
        stream.close()
        return
    except Exception:  # noqa: BLE001 - docker-py finds no socket behind the ssh pipe
        pass
    try:
        channel = stream._response.raw._fp.fp.channel  # docker-py's SSHSocket (makefile)
    except AttributeError:
        return
    with contextlib.suppress(OSError, ValueError):
        channel.close()


def _keep_engine_ca(session) -> None:
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many machines, for
    other servers) replace a session's own CA: the engine's CA would be ignored and its
    certificate refused. The engine's session keeps its own (proxies still come from the
    environment)."""
    merge = session.merge_environment_settings

    def merged(url, proxies, stream, verify, cert):
        settings = merge(url, proxies, stream, verify, cert)
        settings["verify"] = session.verify
        return settings

    session.merge_environment_settings = merged
