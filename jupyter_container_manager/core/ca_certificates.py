"""Extra CA certificates every container trusts (``c.ContainerManager.ca_certificates``).

Pure: reading and checking the configured PEM bundle, joining it to an image's own
system bundle, the archive that puts the result into a container and the environment
that points every tool at it. The engine side is engine/trust.py.

Behind a corporate gateway that re-signs TLS, tools in a container fail with "self-signed
certificate in certificate chain" unless they trust the gateway's CA. Each container gets
one combined bundle, its image's own system bundle (kept byte for byte, so everything it
trusted stays trusted) followed by the configured certificates it lacked, at
``BUNDLE_PATH``, and environment variables that make node, npm, OpenSSL, Python, pip,
curl and git use it.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import re
import ssl
import tarfile
import time
from dataclasses import dataclass

# Where the combined bundle goes in every container (world-readable, owned by root).
BUNDLE_PATH = "/etc/jupyter-container-manager/ca-certificates.crt"

# An image's own system bundle, first found wins (symlinks are followed): Debian,
# Ubuntu, Alpine and Arch; Fedora, RHEL and CentOS; openSUSE; Alpine's and BSD's alias.
IMAGE_BUNDLE_PATHS = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
)

# Each tool's own variable for "trust this bundle"; all name BUNDLE_PATH.
BUNDLE_ENV = (
    "NODE_EXTRA_CA_CERTS",  # node, and so npm, yarn, pnpm, npx: added to node's own CAs
    "SSL_CERT_FILE",  # OpenSSL's default file: openssl, Python's ssl and urllib, pip's truststore
    "REQUESTS_CA_BUNDLE",  # Python requests (pip's vendored copy included)
    "PIP_CERT",  # pip --cert
    "CURL_CA_BUNDLE",  # curl
    "GIT_SSL_CAINFO",  # git over https (http.sslCAInfo)
)

MAX_BUNDLE_BYTES = 10 * 1024 * 1024
_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL
)
_ADDED_MARK = b"# Added by jupyter-container-manager (c.ContainerManager.ca_certificates)\n"


class CaBundleError(ValueError):
    """The configured bundle cannot be used; the text says what is wrong with it."""


@dataclass(frozen=True)
class Certificate:
    """One certificate of a bundle: its DER bytes and where it starts (1-based line)."""

    der: bytes
    line: int

    @property
    def pem(self) -> str:
        return ssl.DER_cert_to_PEM_cert(self.der)


def parse_pem_bundle(data: bytes) -> list[Certificate]:
    """The certificates of a PEM bundle, in order. Text between blocks (comments, the
    ``subject=`` lines openssl prints) is allowed; a block that is not a CERTIFICATE (a
    private key, a CRL, OpenSSL's TRUSTED CERTIFICATE) is refused, since the bundle is
    copied into every container and trusted as a whole. Raises CaBundleError."""
    if b"\x00" in data:
        raise CaBundleError(
            "is not PEM (binary data; a DER certificate? convert it with "
            "`openssl x509 -inform der -in FILE -out FILE.pem`)"
        )
    certificates: list[Certificate] = []
    for match in _BLOCK.finditer(data):
        kind = match.group(1).decode()
        line = data.count(b"\n", 0, match.start()) + 1
        if kind != "CERTIFICATE":
            what = "a private key" if "PRIVATE KEY" in kind else "not a certificate"
            raise CaBundleError(
                f"holds a '{kind}' block at line {line} ({what}); a CA bundle must hold "
                "only '-----BEGIN CERTIFICATE-----' blocks"
            )
        body = b"".join(match.group(2).split())
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise CaBundleError(
                f"certificate {len(certificates) + 1} (line {line}) is not valid base64"
            ) from None
        certificates.append(Certificate(der, line))
    if not certificates:
        raise CaBundleError(
            "is not PEM: it holds no '-----BEGIN CERTIFICATE-----' block"
            + ("" if data.strip() else " (the file is empty)")
        )
    return certificates


def check_certificates(certificates: list[Certificate]) -> None:
    """Each certificate loads as a trust anchor, alone and all together, as OpenSSL
    loads them in a container. Raises CaBundleError naming the one that does not."""
    for number, certificate in enumerate(certificates, 1):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=certificate.der)
        except (ssl.SSLError, ValueError) as err:
            raise CaBundleError(
                f"certificate {number} (line {certificate.line}) does not load: {err}"
            ) from None
    try:
        ssl.create_default_context(cadata="".join(c.pem for c in certificates))
    except (ssl.SSLError, ValueError) as err:
        raise CaBundleError(f"the certificates do not load together: {err}") from None


def load_ca_bundle(path: str) -> list[Certificate]:
    """The certificates of the PEM file at ``path`` (on the server's machine), checked,
    without duplicates. Raises CaBundleError saying what is wrong: missing, unreadable,
    not a file, too large, not PEM, a certificate that does not load."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BUNDLE_BYTES + 1)
    except FileNotFoundError:
        raise CaBundleError("does not exist") from None
    except IsADirectoryError:
        raise CaBundleError("is a directory, not a PEM file") from None
    except PermissionError:
        raise CaBundleError("cannot be read by the server (permission denied)") from None
    except OSError as err:
        raise CaBundleError(f"cannot be read: {err.strerror or err}") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise CaBundleError(f"is larger than {MAX_BUNDLE_BYTES // 2**20} MiB: not a CA bundle")
    certificates = unique(parse_pem_bundle(data))
    check_certificates(certificates)
    return certificates


def unique(certificates: list[Certificate]) -> list[Certificate]:
    seen: set[bytes] = set()
    kept = []
    for certificate in certificates:
        if certificate.der not in seen:
            seen.add(certificate.der)
            kept.append(certificate)
    return kept


def bundle_ders(data: bytes) -> set[bytes]:
    """The DER bytes of every well-formed certificate block of a bundle (blocks that are
    not certificates or not base64 are skipped: an image's bundle is not ours to judge)."""
    found = set()
    for match in _BLOCK.finditer(data):
        if match.group(1) == b"CERTIFICATE":
            try:
                found.add(base64.b64decode(b"".join(match.group(2).split()), validate=True))
            except (binascii.Error, ValueError):
                continue
    return found


def combine(image_bundle: bytes | None, extra: list[Certificate]) -> bytes:
    """The bundle a container gets: its image's own bundle unchanged, then, after a
    comment, each extra certificate it does not already hold. An image without a bundle
    gets only the extra certificates."""
    own = image_bundle or b""
    present = bundle_ders(own)
    added = [c for c in extra if c.der not in present]
    parts = [own]
    if own and not own.endswith(b"\n"):
        parts.append(b"\n")
    if added:
        parts.append(_ADDED_MARK)
        parts.extend(c.pem.encode("ascii") for c in added)
    return b"".join(parts)


def bundle_archive(data: bytes, path: str = BUNDLE_PATH, *, mtime: float | None = None) -> bytes:
    """A tar to extract at ``/`` that writes ``data`` at ``path``: root's, mode 0644, in a
    directory of its own (root's, 0755). Parents that do not exist are created by the
    engine; existing ones are not touched (the archive has no entry for them)."""
    relative = path.strip("/")
    folder = posixpath.dirname(relative)
    stamp = time.time() if mtime is None else mtime
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if folder:
            entry = tarfile.TarInfo(folder)
            entry.type, entry.mode, entry.mtime = tarfile.DIRTYPE, 0o755, stamp
            tar.addfile(entry)
        entry = tarfile.TarInfo(relative)
        entry.size, entry.mode, entry.mtime = len(data), 0o644, stamp
        tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def archive_member(archive: bytes) -> tuple[str, bytes | str] | None:
    """What Docker's archive of one path holds: ``("file", bytes)``, ``("link",
    target)`` for a symlink, or None (a directory, anything else, an empty archive)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            member = tar.next()
            if member is None:
                return None
            if member.issym():
                return "link", member.linkname
            if member.isfile():
                extracted = tar.extractfile(member)
                return ("file", extracted.read()) if extracted else None
    except tarfile.TarError:
        return None
    return None


def link_target(path: str, target: str) -> str:
    """The absolute path a symlink at ``path`` pointing to ``target`` names."""
    if not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(path), target)
    return posixpath.normpath(target)


def bundle_env(path: str = BUNDLE_PATH) -> dict[str, str]:
    """The variables that point each tool at the combined bundle."""
    return {name: path for name in BUNDLE_ENV}
