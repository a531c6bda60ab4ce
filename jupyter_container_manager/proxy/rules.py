"""What the preview proxy changes on the way in and on the way out (pure).

A preview is untrusted code served on the Jupyter origin. These rules decide which
request headers and query arguments reach the container (hop-by-hop headers never do;
Jupyter's credentials only when ``proxy_forward_credentials`` is on), which
``X-Forwarded-*`` headers tell the app where it lives, and what the browser gets back
(hop-by-hop headers removed, ``Set-Cookie`` for Jupyter's cookies dropped, redirects kept
under the proxy prefix, and the ``Content-Security-Policy: sandbox`` header).

Pure: headers travel as lists of ``(name, value)`` pairs; imports nothing from the rest
of the package but its errors.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from ..core.errors import BadRequest

Headers = list[tuple[str, str]]

# A sandboxed document gets an opaque origin: it can run scripts, submit forms and open
# pop-ups, but it is not same-origin with Jupyter, so it cannot call the Jupyter API
# with the user's cookies. Never `allow-same-origin`.
SANDBOX_POLICY = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"

# RFC 9110 section 7.6.1 and the older ones proxies still meet; plus any that
# `Connection` names.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# How Jupyter reads a token from the Authorization header.
_AUTH_SCHEME = re.compile(r"^\s*(?:token|bearer)\s+(.+?)\s*$", re.IGNORECASE)
# The proxy sets these itself; what the client claims is replaced.
FORWARDED_HEADERS = frozenset(
    {"x-forwarded-prefix", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"}
)


def parse_port(text: str) -> int:
    """The port slot of a preview URL: a decimal number from 1 to 65535, else 400."""
    if not text.isascii() or not text.isdigit() or len(text) > 5 or not 1 <= int(text) <= 65535:
        raise BadRequest(f"Port must be a number from 1 to 65535, not {text!r}", code="EINVAL")
    return int(text)


def is_jupyter_cookie(name: str, login_cookie: str) -> bool:
    """Cookies with which Jupyter (or JupyterHub) knows the user."""
    name = name.strip()
    return (
        name == login_cookie
        or name == "_xsrf"
        or name.startswith("username-")
        or name.startswith("jupyterhub-")
    )


def without_jupyter_cookies(cookie_header: str, login_cookie: str) -> str:
    """The ``Cookie`` header minus Jupyter's cookies; the app's own cookies stay."""
    kept = [
        part.strip()
        for part in cookie_header.split(";")
        if part.strip() and not is_jupyter_cookie(part.split("=", 1)[0], login_cookie)
    ]
    return "; ".join(kept)


def without_credential_args(query: str, secrets: frozenset[str] | set[str]) -> str:
    """The query string minus ``_xsrf`` and the ``token`` arguments that carry one of
    Jupyter's ``secrets``; the rest is kept byte for byte. An app's own ``token`` (Vite
    authenticates its hot-reload socket with ``?token=``) is not Jupyter's and passes."""
    if not query:
        return ""
    kept = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name == "_xsrf" or (name == "token" and unquote_plus(value) in secrets):
            continue
        kept.append(part)
    return "&".join(kept)


def _cookie_value(cookie_header: str, name: str) -> str | None:
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def is_jupyter_credential(name: str, value: str, secrets, xsrf_cookie: str | None) -> bool:
    """A request header that carries one of Jupyter's credentials: an Authorization with
    a token of ``secrets``, Jupyter's ``X-XSRFToken``, or an ``X-CSRFToken`` equal to
    Jupyter's ``_xsrf`` cookie. An app's own bearer token or CSRF header passes."""
    lower = name.lower()
    if lower == "authorization":
        found = _AUTH_SCHEME.match(value)
        return bool(found) and found.group(1) in secrets
    if lower == "x-xsrftoken":
        return True
    if lower == "x-csrftoken":
        return xsrf_cookie is not None and value == xsrf_cookie
    return False


def _connection_tokens(headers: Headers) -> set[str]:
    tokens = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def _end_to_end(headers: Headers) -> Headers:
    named = _connection_tokens(headers)
    return [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP and n.lower() not in named]


def request_headers(
    incoming: Headers,
    *,
    upstream_host: str,
    prefix: str,
    client_host: str,
    client_proto: str,
    client_ip: str,
    forward_credentials: bool,
    login_cookie: str,
    secrets: frozenset[str] | set[str] = frozenset(),
    upgrade: str | None = None,
) -> Headers:
    """Headers sent to the container for one request.

    ``upstream_host`` becomes ``Host`` (dev servers such as Vite refuse unknown host
    names; an IP address always passes); the browser's host goes in X-Forwarded-Host.
    ``secrets`` are the Jupyter tokens of this request (see is_jupyter_credential).
    ``upgrade`` (e.g. ``"websocket"``) keeps the protocol upgrade, which is otherwise
    hop-by-hop. ``Expect`` is dropped: the Jupyter server answers 100-continue itself.
    An empty ``prefix`` sends no X-Forwarded-Prefix (the path was not shortened).
    """
    headers: Headers = []
    earlier_for = []
    cookies = "; ".join(v for n, v in incoming if n.lower() == "cookie")
    xsrf_cookie = _cookie_value(cookies, "_xsrf")
    for name, value in _end_to_end(incoming):
        lower = name.lower()
        if lower in ("host", "expect") or lower in FORWARDED_HEADERS:
            continue
        if lower == "x-forwarded-for":
            earlier_for.append(value)
            continue
        if not forward_credentials:
            if is_jupyter_credential(name, value, secrets, xsrf_cookie):
                continue
            if lower == "cookie":
                value = without_jupyter_cookies(value, login_cookie)
                if not value:
                    continue
        headers.append((name, value))
    headers.insert(0, ("Host", upstream_host))
    if upgrade:
        headers += [("Connection", "Upgrade"), ("Upgrade", upgrade)]
    headers += [
        ("X-Forwarded-For", ", ".join([*earlier_for, client_ip])),
        ("X-Forwarded-Host", client_host),
        ("X-Forwarded-Proto", client_proto),
    ]
    if prefix:
        headers.append(("X-Forwarded-Prefix", prefix))
    return headers


def rewrite_location(location: str, prefix: str, upstream_host: str) -> str:
    """Keep a redirect inside the proxy.

    ``/login`` becomes ``<prefix>/login``, unless the app already put its base path
    (``X-Forwarded-Prefix``) in front; an absolute URL to the container's own address
    becomes the same path under the prefix. Relative and other absolute URLs stay.
    """
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != upstream_host.lower():
            return location
        parts = parts._replace(scheme="", netloc="")
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return location
    if path != prefix and not path.startswith(prefix + "/"):
        path = prefix + path
    return urlunsplit(parts._replace(path=path))


def response_headers(
    incoming: Headers,
    *,
    prefix: str,
    upstream_host: str,
    protect_cookies: bool,
    login_cookie: str,
    sandbox: bool,
) -> Headers:
    """Headers the browser gets back from the container's answer.

    ``Content-Length`` stays (downloads show their progress); chunked answers are
    re-chunked by the server. The sandbox policy is added to the app's own policies:
    browsers enforce every ``Content-Security-Policy`` header, so the app cannot lift it.
    """
    headers: Headers = []
    for name, value in _end_to_end(incoming):
        lower = name.lower()
        if lower == "location":
            value = rewrite_location(value, prefix, upstream_host)
        elif lower == "set-cookie" and protect_cookies:
            if is_jupyter_cookie(value.split("=", 1)[0], login_cookie):
                continue
        headers.append((name, value))
    if sandbox:
        headers.append(("Content-Security-Policy", SANDBOX_POLICY))
    return headers
