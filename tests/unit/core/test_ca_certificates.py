"""The CA bundle helpers (ca_certificates.py), without Docker."""

from __future__ import annotations

import base64
import io
import ssl
import tarfile

import pytest

from jupyter_container_manager.core.ca_certificates import (
    BUNDLE_ENV,
    BUNDLE_PATH,
    CaBundleError,
    archive_member,
    bundle_archive,
    bundle_ders,
    bundle_env,
    combine,
    link_target,
    load_ca_bundle,
    parse_pem_bundle,
)
from jupyter_container_manager.core.errors import CaCertificatesInvalid

# Two self-signed CAs (EC P-256, valid until 2126), made for these tests.
CA_1 = """-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUEUvDTksiyQvir+0lkitM1WKWYbYwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSSkNNIFRlc3QgUm9vdCBDQSAxMCAXDTI2MTIwNjAzMzAxOFoY
DzIxMjYxMTEyMDMzMDE4WjAdMRswGQYDVQQDDBJKQ00gVGVzdCBSb290IENBIDEw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATwHHMyOhOh4VCa6Q9UNMlYco1bvvCc
KCSb1YAdRDmkbxX2f34Toyj+6B7ppfY2iGQ4/wDygzbS4305/jXH6f9po1MwUTAd
BgNVHQ4EFgQUgwoNAx6NZp6Hk7TnZjfAwcARHZAwHwYDVR0jBBgwFoAUgwoNAx6N
Zp6Hk7TnZjfAwcARHZAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiEA/qQ3fHDYkHy6xjaiOFayGtT9PgYiqdnd0QtLbsUhqKICIEsCLTrzRN+lxkG0
yV80GRBt8z1LOxBiQ+PkJMoT2Jaz
-----END CERTIFICATE-----
"""
CA_2 = """-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUcqxdJd9yrFJZYRpcRsRAZp++0tQwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSSkNNIFRlc3QgUm9vdCBDQSAyMCAXDTI2MTIwNjAzMzAxOFoY
DzIxMjYxMTEyMDMzMDE4WjAdMRswGQYDVQQDDBJKQ00gVGVzdCBSb290IENBIDIw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARObJ8F+jLN/I5DFbXP0NixpfGo/Fjj
iulv2b6lqOKUcIoJVTEXjYH46KtY52vSbY4ThhbjMC9A1pVtbnT9SZogo1MwUTAd
BgNVHQ4EFgQUpu9rtu2ksFxiTbn6kzXNljCOyzIwHwYDVR0jBBgwFoAUpu9rtu2k
sFxiTbn6kzXNljCOyzIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiAXctpHQwDr+Voaj7tbSREk00Bl3r92A/Aw9tY/52yA7wIhALuJPOgJJ5WUHRdm
hij6lVWscsyg4ihtMyfQ7tMjdwqq
-----END CERTIFICATE-----
"""
KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
    "-----END PRIVATE KEY-----\n"
)


def der(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


def write(tmp_path, data: bytes | str, name: str = "bundle.pem") -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_a_bundle_loads_with_comments_between_blocks_and_without_duplicates(tmp_path):
    text = "# corporate roots\nsubject=CN = JCM Test Root CA 1\n" + CA_1 + "\n" + CA_2 + CA_1
    certificates = load_ca_bundle(write(tmp_path, text))
    assert [c.der for c in certificates] == [der(CA_1), der(CA_2)]
    assert certificates[0].line == 3
    assert certificates[0].pem == ssl.DER_cert_to_PEM_cert(der(CA_1))


def test_crlf_line_ends_load(tmp_path):
    assert len(load_ca_bundle(write(tmp_path, CA_1.replace("\n", "\r\n")))) == 1


@pytest.mark.parametrize(
    "data, problem",
    [
        ("", "holds no '-----BEGIN CERTIFICATE-----' block (the file is empty)"),
        ("just some text\n", "is not PEM: it holds no '-----BEGIN CERTIFICATE-----' block"),
        (b"\x30\x82\x01\x91\x30\x82\x00\x37", "is not PEM (binary data; a DER certificate?"),
        (CA_1 + KEY, "holds a 'PRIVATE KEY' block at line 12 (a private key)"),
        ("-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n",
         "holds a 'TRUSTED CERTIFICATE' block at line 1 (not a certificate)"),
        ("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
         "certificate 1 (line 1) is not valid base64"),
        (CA_1 + "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"hello").decode()
         + "\n-----END CERTIFICATE-----\n", "certificate 2 (line 12) does not load"),
    ],
)
def test_a_file_that_is_not_a_pem_bundle_says_what_is_wrong(tmp_path, data, problem):
    with pytest.raises(CaBundleError) as caught:
        load_ca_bundle(write(tmp_path, data))
    assert problem in str(caught.value)


def test_a_missing_unreadable_or_odd_path_says_what_is_wrong(tmp_path):
    with pytest.raises(CaBundleError, match="^does not exist$"):
        load_ca_bundle(str(tmp_path / "missing.pem"))
    with pytest.raises(CaBundleError, match="is a directory"):
        load_ca_bundle(str(tmp_path))


def test_the_503_names_the_file_the_problem_and_the_setting():
    error = CaCertificatesInvalid("/etc/corp.pem", "does not exist")
    assert error.status == 503 and error.code == "CA_CERTIFICATES_INVALID"
    body = error.to_json()
    assert body["reason"] == "Service Unavailable"
    assert "'/etc/corp.pem' (c.ContainerManager.ca_certificates) does not exist" in body["message"]
    assert "restart the Jupyter server" in body["message"]


def test_a_host_system_bundle_loads():
    paths = ssl.get_default_verify_paths()
    if not paths.cafile:
        pytest.skip("no system CA file on this machine")
    assert len(load_ca_bundle(paths.cafile)) > 10


def test_combine_keeps_the_image_bundle_byte_for_byte_and_adds_what_it_lacks():
    image = ("# the image's own\n" + CA_1).encode()
    extra = parse_pem_bundle((CA_1 + CA_2).encode())
    combined = combine(image, extra)
    assert combined.startswith(image)
    assert bundle_ders(combined) == {der(CA_1), der(CA_2)}
    assert combined.count(b"BEGIN CERTIFICATE") == 2  # CA_1 is not added twice
    assert b"c.ContainerManager.ca_certificates" in combined
    # Loadable as a whole, as OpenSSL in the container loads it.
    ssl.create_default_context(cadata=combined.decode())


def test_combine_without_an_image_bundle_or_without_a_final_newline():
    extra = parse_pem_bundle(CA_2.encode())
    assert bundle_ders(combine(None, extra)) == {der(CA_2)}
    joined = combine(CA_1.strip().encode(), extra)
    assert bundle_ders(joined) == {der(CA_1), der(CA_2)}
    assert b"-----END CERTIFICATE-----\n#" in joined
    assert combine(CA_1.encode(), parse_pem_bundle(CA_1.encode())) == CA_1.encode()


def test_the_archive_writes_a_world_readable_file_of_roots_in_its_own_folder():
    archive = bundle_archive(b"PEM", mtime=0)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        folder, file = tar.getmembers()
        assert (folder.name, folder.isdir(), folder.mode, folder.uid) == (
            "etc/jupyter-container-manager", True, 0o755, 0)
        assert (file.name, file.mode, file.uid, file.gid) == (BUNDLE_PATH.lstrip("/"), 0o644, 0, 0)
        assert tar.extractfile(file).read() == b"PEM"


def tar_of(entry: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def test_archive_members_and_links():
    assert archive_member(tar_of(tarfile.TarInfo("cert.pem"), b"x")) == ("file", b"x")
    link = tarfile.TarInfo("cert.pem")
    link.type, link.linkname = tarfile.SYMTYPE, "certs/ca-certificates.crt"
    assert archive_member(tar_of(link)) == ("link", "certs/ca-certificates.crt")
    folder = tarfile.TarInfo("certs")
    folder.type = tarfile.DIRTYPE
    assert archive_member(tar_of(folder)) is None
    assert archive_member(b"") is None and archive_member(b"garbage" * 100) is None
    assert link_target("/etc/ssl/cert.pem", "certs/ca-certificates.crt") == (
        "/etc/ssl/certs/ca-certificates.crt")
    assert link_target("/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/ca-trust/x.pem") == (
        "/etc/pki/ca-trust/x.pem")
    assert link_target("/etc/ssl/certs/a.crt", "../../pki/b.pem") == "/etc/pki/b.pem"


def test_every_tool_is_pointed_at_the_bundle():
    env = bundle_env()
    assert set(env) == set(BUNDLE_ENV) == {
        "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT",
        "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}
    assert set(env.values()) == {BUNDLE_PATH}
