"""The environment a new container starts with (pure).

Three layers, later ones winning: the server's proxy variables
(``c.ContainerManager.pass_proxy_env``), the CA bundle's variables
(``c.ContainerManager.ca_certificates``, see ca_certificates.py), and the ``env`` of the
request. A request that sets a proxy variable in either case replaces both cases of the
server's, so the container never holds two different proxies for one scheme.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
_LOOPBACK_HOSTS = {"localhost", "ip6-localhost", "::1"}


def proxy_env(environ: dict[str, str]) -> dict[str, str]:
    """The proxy variables of ``environ`` (upper and lower case, as set, non-empty)."""
    found = {}
    for name in PROXY_NAMES:
        for variant in (name, name.lower()):
            value = environ.get(variant)
            if value:
                found[variant] = value
    return found


def merge_env(defaults: dict[str, str], request: dict[str, str] | None) -> dict[str, str]:
    """``defaults`` under the request's ``env``: the request wins, and a proxy variable
    it sets in either case drops both cases of the default one."""
    request = dict(request or {})
    overridden = {name.upper() for name in request if name.upper() in PROXY_NAMES}
    merged = {
        name: value for name, value in defaults.items() if name.upper() not in overridden
    }
    merged.update(request)
    return merged


def loopback_proxies(env: dict[str, str]) -> list[str]:
    """Names of proxy variables whose proxy is on the loopback address: inside a
    container that is the container itself, so such a proxy does not serve containers."""
    names = []
    for name, value in env.items():
        if name.upper() == "NO_PROXY":
            continue
        try:
            host = (urlsplit(value if "://" in value else f"http://{value}").hostname or "")
        except ValueError:
            continue
        if host in _LOOPBACK_HOSTS or host.startswith("127."):
            names.append(name)
    return names
