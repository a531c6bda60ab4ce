"""The TLS material of a swarm's engines (``c.ContainerManager.swarm_node_tls``), as the
Docker SDK takes it (``docker.tls.TLSConfig``).

In production every node's engine listens on ``tcp://NODE:2376`` with mutual TLS, and the
Jupyter server holds a client certificate the engines' CA signed. The setting maps an
engine URL (as in ``swarm_node_engines``, ``swarm_manager_url`` or a node's
``jupyter-container-manager.engine`` label) to its material, and ``"*"`` to the material of
every other ``tcp://`` or ``https://`` engine. A value is either a directory laid out as
``DOCKER_CERT_PATH`` is (``ca.pem``, ``cert.pem``, ``key.pem``) or a dict of ``ca_cert``,
``client_cert``, ``client_key`` (paths) and ``verify`` (true: check the engine's
certificate against ``ca_cert``, the default). ``unix://`` engines take none.

Read once, when the backend is built: a missing file or an unknown key is an error that
names the setting, before any engine is asked anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

from docker.tls import TLSConfig

SETTING = "c.ContainerManager.swarm_node_tls"
EVERY = "*"  # the key for every tcp:// engine without its own entry
KEYS = ("ca_cert", "client_cert", "client_key", "verify")
TLS_SCHEMES = ("tcp", "https")


def parse_node_tls(mapping: Mapping[str, object]) -> dict[str, TLSConfig]:
    """``swarm_node_tls`` as TLSConfigs by engine URL (and EVERY); ValueError naming the
    entry when it does not hold."""
    found = {}
    for url, value in mapping.items():
        if url != EVERY and urlparse(url).scheme not in TLS_SCHEMES:
            raise ValueError(f"{SETTING}[{url!r}]: TLS is for tcp:// (or https://) engines; "
                             f"a {urlparse(url).scheme or 'plain'} engine takes none")
        found[url] = _tls_of(url, value)
    return found


def tls_for(configs: Mapping[str, TLSConfig], url: str) -> TLSConfig | None:
    """The TLS of the engine at ``url``: its own entry, else EVERY's for tcp:// and
    https:// engines, else None (plain)."""
    if url in configs:
        return configs[url]
    if urlparse(url).scheme in TLS_SCHEMES:
        return configs.get(EVERY)
    return None


def _tls_of(url: str, value: object) -> TLSConfig:
    where = f"{SETTING}[{url!r}]"
    if isinstance(value, str):  # a DOCKER_CERT_PATH-like directory
        if not os.path.isdir(value):
            raise ValueError(f"{where}: {value!r} is not a directory (it should hold "
                             "ca.pem, cert.pem and key.pem)")
        value = {"ca_cert": os.path.join(value, "ca.pem"),
                 "client_cert": os.path.join(value, "cert.pem"),
                 "client_key": os.path.join(value, "key.pem")}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: a directory or a dict of {', '.join(KEYS)}, "
                         f"not {type(value).__name__}")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (known: {', '.join(KEYS)})")
    for key in ("ca_cert", "client_cert", "client_key"):
        path = value.get(key)
        if path is not None and not os.path.isfile(str(path)):
            raise ValueError(f"{where}: {key} {path!r} is not a file")
    cert, key = value.get("client_cert"), value.get("client_key")
    if bool(cert) != bool(key):
        raise ValueError(f"{where}: client_cert and client_key go together")
    verify = value.get("verify", True)
    if not isinstance(verify, bool):
        raise ValueError(f"{where}: verify is true or false, not {verify!r}")
    if verify and not value.get("ca_cert"):
        raise ValueError(f"{where}: verify needs ca_cert (the CA that signed the engine's "
                         "certificate), or set verify to false")
    return TLSConfig(client_cert=(str(cert), str(key)) if cert else None,
                     ca_cert=str(value["ca_cert"]) if value.get("ca_cert") else None,
                     verify=verify)
