"""What the preview proxy forwards and answers (pure rules, no Docker)."""

from __future__ import annotations

import socket

import pytest

from jupyter_container_manager.core.errors import BadRequest
from jupyter_container_manager.core.models import network_address, published_ports
from jupyter_container_manager.engine.network import PUBLISH_RANGE, free_host_ports, port_bindings
from jupyter_container_manager.proxy.rules import (
    SANDBOX_POLICY,
    parse_port,
    request_headers,
    response_headers,
    rewrite_location,
    without_credential_args,
    without_jupyter_cookies,
)

LOGIN = "username-127-0-0-1-8888"
PREFIX = "/user/ann/containers/abc/proxy/5173"
UPSTREAM = "172.17.0.2:5173"


@pytest.mark.parametrize("text, port", [("1", 1), ("3000", 3000), ("65535", 65535), ("080", 80)])
def test_good_ports(text, port):
    assert parse_port(text) == port


@pytest.mark.parametrize("text", ["0", "65536", "99999", "123456", "", "abc", "-1", "+80",
                                  " 80", "3000x", "٣٠٠٠", "1e3", "0x50"])
def test_bad_ports(text):
    with pytest.raises(BadRequest) as refused:
        parse_port(text)
    assert refused.value.status == 400
    assert "1 to 65535" in refused.value.message


def test_jupyter_cookies_are_dropped_and_the_apps_kept():
    header = f"{LOGIN}=secret; _xsrf=2|abc; theme=dark; username-other-host=x; " \
             "jupyterhub-session-id=s; jupyterhub-user-ann=t; sid=42"
    assert without_jupyter_cookies(header, LOGIN) == "theme=dark; sid=42"
    assert without_jupyter_cookies(f"{LOGIN}=x", LOGIN) == ""
    assert without_jupyter_cookies("custom-login=x; a=1", "custom-login") == "a=1"


def test_credential_query_args_are_dropped_byte_for_byte():
    secrets = {"T", "hub token"}
    assert without_credential_args("a=1&token=T&b=x%20y&_xsrf=z&a=2&empty=&flag", secrets) == \
        "a=1&b=x%20y&a=2&empty=&flag"
    assert without_credential_args("token=T", secrets) == ""
    assert without_credential_args("tok%65n=T&x=1", secrets) == "x=1"  # escaped names too
    assert without_credential_args("token=hub+token&token=hub%20token", secrets) == ""
    assert without_credential_args("", secrets) == ""
    assert without_credential_args("tokens=1&my_token=2", secrets) == "tokens=1&my_token=2"


def test_an_apps_own_token_argument_passes():
    """Vite authenticates its hot-reload socket with ?token=: not a Jupyter token."""
    assert without_credential_args("token=vite123", {"T"}) == "token=vite123"
    assert without_credential_args("token=vite123&token=T", {"T"}) == "token=vite123"
    assert without_credential_args("token=x", set()) == "token=x"


def headers_for(incoming, **overrides):
    options = dict(
        upstream_host=UPSTREAM, prefix=PREFIX, client_host="hub.example", client_proto="https",
        client_ip="10.0.0.9", forward_credentials=False, login_cookie=LOGIN, secrets={"T"},
    )
    options.update(overrides)
    return request_headers(incoming, **options)


def test_request_headers_without_credentials_and_hop_by_hop():
    incoming = [
        ("Host", "hub.example"), ("Authorization", "token T"), ("X-XSRFToken", "x"),
        ("X-CSRFToken", "x"), ("Cookie", f"{LOGIN}=s; _xsrf=x; a=1"),
        ("Connection", "keep-alive, X-Hop"),
        ("X-Hop", "1"), ("Keep-Alive", "5"), ("TE", "trailers"), ("Transfer-Encoding", "chunked"),
        ("Upgrade", "h2c"), ("Expect", "100-continue"), ("Accept", "text/html"),
        ("X-Forwarded-Prefix", "/spoofed"), ("X-Forwarded-For", "1.2.3.4"),
        ("Content-Length", "5"),
    ]
    out = headers_for(incoming)
    assert out == [
        ("Host", UPSTREAM),
        ("Cookie", "a=1"),
        ("Accept", "text/html"),
        ("Content-Length", "5"),
        ("X-Forwarded-For", "1.2.3.4, 10.0.0.9"),
        ("X-Forwarded-Host", "hub.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Prefix", PREFIX),
    ]


def test_an_apps_own_authorization_and_csrf_headers_pass():
    incoming = [("Authorization", "Bearer app-jwt"), ("X-CSRFToken", "django"),
                ("Cookie", "_xsrf=jupyter; csrftoken=django")]
    out = dict(headers_for(incoming))
    assert out["Authorization"] == "Bearer app-jwt"
    assert out["X-CSRFToken"] == "django"
    assert out["Cookie"] == "csrftoken=django"
    assert "Authorization" not in dict(headers_for([("Authorization", "Bearer T")]))
    assert "Authorization" not in dict(headers_for([("Authorization", "TOKEN  T ")]))


def test_no_prefix_header_when_the_path_is_whole():
    names = [name for name, _ in headers_for([], prefix="")]
    assert "X-Forwarded-Prefix" not in names and "X-Forwarded-Host" in names


def test_request_headers_with_credentials_forwarded():
    out = dict(headers_for([("Authorization", "token T"), ("Cookie", f"{LOGIN}=s")],
                           forward_credentials=True))
    assert out["Authorization"] == "token T"
    assert out["Cookie"] == f"{LOGIN}=s"


def test_websocket_upgrade_keeps_its_headers():
    incoming = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                ("Sec-WebSocket-Key", "k"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Protocol", "vite-hmr"), ("Origin", "https://hub.example")]
    out = headers_for(incoming, upgrade="websocket")
    names = [name for name, _ in out]
    assert ("Connection", "Upgrade") in out and ("Upgrade", "websocket") in out
    assert names.count("Connection") == 1 and names.count("Upgrade") == 1
    expected = {"Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Origin"}
    assert expected <= set(names)


@pytest.mark.parametrize("location, expected", [
    ("/login", PREFIX + "/login"),
    ("/login?next=/a#top", PREFIX + "/login?next=/a#top"),
    (PREFIX + "/already", PREFIX + "/already"),  # the app knows its base path
    (PREFIX, PREFIX),
    (f"http://{UPSTREAM}/x?y=1", PREFIX + "/x?y=1"),  # the container's own address
    ("https://example.org/elsewhere", "https://example.org/elsewhere"),
    ("relative/path", "relative/path"),
    ("//cdn.example/x.js", "//cdn.example/x.js"),
])
def test_redirects_stay_under_the_prefix(location, expected):
    assert rewrite_location(location, PREFIX, UPSTREAM) == expected


def answer_for(incoming, **overrides):
    options = dict(prefix=PREFIX, upstream_host=UPSTREAM, protect_cookies=True,
                   login_cookie=LOGIN, sandbox=True)
    options.update(overrides)
    return response_headers(incoming, **options)


def test_response_headers():
    incoming = [
        ("Content-Type", "text/html"), ("Content-Length", "12"), ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"), ("Location", "/next"),
        ("Set-Cookie", "sid=1; Path=/"), ("Set-Cookie", "_xsrf=evil; Path=/"),
        ("Set-Cookie", f"{LOGIN}=evil"), ("Set-Cookie", "jupyterhub-session-id=evil"),
        ("Content-Security-Policy", "default-src 'self'"),
    ]
    assert answer_for(incoming) == [
        ("Content-Type", "text/html"), ("Content-Length", "12"), ("Location", PREFIX + "/next"),
        ("Set-Cookie", "sid=1; Path=/"), ("Content-Security-Policy", "default-src 'self'"),
        ("Content-Security-Policy", SANDBOX_POLICY),
    ]


def test_response_headers_when_trusted():
    incoming = [("Set-Cookie", "_xsrf=x"), ("Content-Type", "text/plain")]
    assert answer_for(incoming, protect_cookies=False, sandbox=False) == incoming


def test_the_sandbox_policy_never_allows_same_origin():
    assert SANDBOX_POLICY.startswith("sandbox ")
    assert "allow-same-origin" not in SANDBOX_POLICY
    assert "allow-scripts" in SANDBOX_POLICY


def test_network_address_and_published_ports_from_inspect():
    attrs = {"NetworkSettings": {
        "IPAddress": "",
        "Networks": {"custom": {"IPAddress": "10.1.0.5"}},
        "Ports": {"3000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8001"}],
                  "5173/tcp": None, "53/udp": [{"HostIp": "", "HostPort": "8053"}]},
    }}
    assert network_address(attrs) == "10.1.0.5"
    assert published_ports(attrs) == {3000: 8001}
    assert network_address({"NetworkSettings": {"IPAddress": "172.17.0.3"}}) == "172.17.0.3"
    assert network_address({}) == "" and published_ports({}) == {}


def test_free_host_ports_skip_ports_in_use():
    first = free_host_ports(1)[0]
    assert first in PUBLISH_RANGE
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", first))
        holder.listen()
        two = free_host_ports(2)
    assert first not in two and all(port in PUBLISH_RANGE for port in two)
    assert free_host_ports(1, avoid=two + [first])[0] not in two + [first]
    assert port_bindings([3000, 5173], [8000, 8001]) == {
        "3000/tcp": ("127.0.0.1", 8000), "5173/tcp": ("127.0.0.1", 8001)}
