"""Pure parts of previews on their own origin: hosts, grants, links, port restarts."""

from __future__ import annotations

import pytest

from jupyter_container_manager.client.previews import proxy_path
from jupyter_container_manager.core.errors import BadRequest
from jupyter_container_manager.core.preview_grants import (
    COOKIE,
    GRANT,
    GrantRefused,
    PreviewSigner,
    UsedGrants,
    derive_key,
)
from jupyter_container_manager.core.preview_hosts import PreviewHosts, is_loopback_name, split_host
from jupyter_container_manager.core.preview_links import PreviewLinks, split_grant_path
from jupyter_container_manager.engine.ports import parse_listeners, port_changes

CID = "0b7b3e8e-1111-4222-8333-123456789abc"
OTHER = "1c8c4f9f-2222-4333-8444-23456789abcd"
KEY = derive_key(b"x" * 32)


@pytest.mark.parametrize("host, expected", [
    ("localhost:8888", ("localhost", "8888")), ("127.0.0.1", ("127.0.0.1", "")),
    ("[::1]:80", ("::1", "80")), ("A.Example.ORG:443", ("a.example.org", "443")),
])
def test_split_host(host, expected):
    assert split_host(host) == expected


@pytest.mark.parametrize("name, loopback", [
    ("localhost", True), ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True),
    ("5173-x.localhost", True), ("example.org", False), ("10.0.0.1", False),
    ("localhost.example.org", False), ("127.example.org", False),
])
def test_loopback_names(name, loopback):
    assert is_loopback_name(name) is loopback


def test_auto_gives_localhost_origins_only_to_loopback_requests():
    hosts = PreviewHosts("auto")
    assert hosts.origin("http", "127.0.0.1:8888", CID, 5173) == f"http://5173-{CID}.localhost:8888"
    assert hosts.origin("http", "localhost", CID, 3000) == f"http://3000-{CID}.localhost"
    assert hosts.origin("https", "jupyter.example.org", CID, 3000) is None
    assert hosts.parse(f"5173-{CID}.localhost:8888") == (5173, CID)


def test_a_template_gives_its_origin_whatever_the_request_host():
    hosts = PreviewHosts("{port}-{id}.preview.example.org")
    assert hosts.origin("https", "hub.example.org", CID, 80) == f"https://80-{CID}.preview.example.org"
    assert hosts.parse(f"80-{CID}.preview.example.org") == (80, CID)
    assert hosts.routing_pattern.endswith(r"\.preview\.example\.org$")
    with pytest.raises(BadRequest):
        hosts.parse(f"80-{CID}.localhost")


def test_path_mode_has_no_origins():
    hosts = PreviewHosts("path")
    assert hosts.origin("http", "127.0.0.1:8888", CID, 3000) is None
    assert hosts.routing_pattern is None


@pytest.mark.parametrize("setting", ["{port}.example.org", "http://{port}-{id}.x", "{id}/{port}"])
def test_bad_templates_are_refused(setting):
    with pytest.raises(ValueError):
        PreviewHosts(setting)


@pytest.mark.parametrize("host", [
    f"0-{CID}.localhost", f"65536-{CID}.localhost", f"12a-{CID}.localhost", "3000-xyz.localhost",
    f"3000-{CID.upper()}.localhost-not", f"-{CID}.localhost", "3000-.localhost",
])
def test_malformed_preview_hosts_are_400(host):
    with pytest.raises(BadRequest) as caught:
        PreviewHosts("auto").parse(host)
    assert caught.value.status == 400


def test_a_grant_opens_exactly_its_preview_until_it_expires():
    signer = PreviewSigner(KEY)
    token = signer.issue(GRANT, "ann", CID, 5173, lifetime=60, now=1000)
    claims = signer.verify(token, kind=GRANT, owner="ann", container_id=CID, port=5173, now=1030)
    assert (claims.owner, claims.container_id, claims.port) == ("ann", CID, 5173)
    refusals = [
        (dict(kind=GRANT, owner="bob", container_id=CID, port=5173, now=1030), "PREVIEW_GRANT_MISMATCH"),
        (dict(kind=GRANT, owner="ann", container_id=OTHER, port=5173, now=1030), "PREVIEW_GRANT_MISMATCH"),
        (dict(kind=GRANT, owner="ann", container_id=CID, port=5174, now=1030), "PREVIEW_GRANT_MISMATCH"),
        (dict(kind=GRANT, owner="ann", container_id=CID, port=5173, now=1060), "PREVIEW_GRANT_EXPIRED"),
        (dict(kind=COOKIE, owner="ann", container_id=CID, port=5173, now=1030), "PREVIEW_GRANT_INVALID"),
    ]
    for kwargs, code in refusals:
        with pytest.raises(GrantRefused) as caught:
            signer.verify(token, **kwargs)
        assert caught.value.code == code, kwargs


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:],  # signature changed
    lambda t: ("f" if t[0] != "f" else "g") + t[1:],                # payload changed
    lambda t: t.split(".")[0],                                     # no signature
    lambda t: "", lambda t: "...", lambda t: "%%%.%%%",
])
def test_forged_or_malformed_grants_are_refused(mangle):
    signer = PreviewSigner(KEY)
    token = mangle(signer.issue(GRANT, "ann", CID, 5173, lifetime=60))
    with pytest.raises(GrantRefused) as caught:
        signer.verify(token, kind=GRANT, owner="ann", container_id=CID, port=5173)
    assert caught.value.code == "PREVIEW_GRANT_INVALID"


def test_another_servers_key_is_a_forgery():
    token = PreviewSigner(derive_key(b"y" * 32)).issue(GRANT, "ann", CID, 1, lifetime=60)
    with pytest.raises(GrantRefused):
        PreviewSigner(KEY).verify(token, kind=GRANT, owner="ann", container_id=CID, port=1)


def test_a_grant_is_redeemed_once():
    links = PreviewLinks(preview_host="auto", key=KEY, owner="ann", base_url="/",
                         grant_lifetime=60, cookie_lifetime=600)
    url = links.url(CID, 5173, scheme="http", host="127.0.0.1:8888")
    grant, rest = split_grant_path(url.split(":8888", 1)[1])
    assert rest == "/"
    links.check_grant(grant, CID, 5173)
    with pytest.raises(GrantRefused) as caught:
        links.check_grant(grant, CID, 5173)
    assert caught.value.code == "PREVIEW_GRANT_REPLAYED"
    assert links.url(CID, 5173, host="jupyter.example.org") == f"/containers/{CID}/proxy/5173/"


def test_used_grants_stay_bounded():
    used = UsedGrants(limit=100)
    signer = PreviewSigner(KEY)
    for _ in range(250):
        token = signer.issue(GRANT, "ann", CID, 1, lifetime=60)
        assert used.redeem(signer.verify(token, kind=GRANT, owner="ann", container_id=CID, port=1))
    assert len(used) <= 100


@pytest.mark.parametrize("path, expected", [
    ("/__jcm_grant/abc.def/", ("abc.def", "/")),
    ("/__jcm_grant/abc.def/about", ("abc.def", "/about")),
    ("/__jcm_grant/abc.def//evil.example/x", ("abc.def", "/evil.example/x")),
    ("/__jcm_grant/abc.def", ("abc.def", "/")),
    ("/other", None),
])
def test_grant_paths(path, expected):
    assert split_grant_path(path) == expected


def test_cookie_headers():
    secure = PreviewLinks.cookie_header("t", secure=True, max_age=60)
    assert secure.startswith("__Host-jcm-preview=t;")
    assert all(part in secure for part in ("HttpOnly", "Secure", "SameSite=None", "Partitioned"))
    plain = PreviewLinks.cookie_header("t", secure=False, max_age=60)
    assert "SameSite=Lax" in plain and "Secure" not in plain


def test_the_python_client_maps_preview_origins_to_the_path_proxy():
    url = f"http://5173-{CID}.localhost:8888/__jcm_grant/a.b/x/y?q=1"
    assert proxy_path(url, "http://127.0.0.1:8888/user/ann/") == \
        f"/user/ann/containers/{CID}/proxy/5173/x/y?q=1"
    assert proxy_path(f"/containers/{CID}/proxy/1/", "http://h/") is None
    assert proxy_path("http://example.org/", "http://h/") is None


TABLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 {inode} 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
"""


def test_a_restart_between_two_looks_is_a_close_and_an_open():
    before = parse_listeners(TABLE.format(inode="111"))
    assert before == {3000: frozenset({"111"}), 8080: frozenset({"555"})}
    assert port_changes({}, before) == ({3000, 8080}, set())
    assert port_changes(before, before) == (set(), set())
    restarted = parse_listeners(TABLE.format(inode="222"))
    assert port_changes(before, restarted) == ({3000}, {3000})
    gone = {8080: frozenset({"555"})}
    assert port_changes(before, gone) == (set(), {3000})
