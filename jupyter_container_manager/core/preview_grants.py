"""Signed preview grants and preview cookies (pure).

A preview runs on an origin of its own (``5173-<id>.localhost:8888``), where the Jupyter
login cookie never goes. The API hands out preview URLs that carry a *grant*: a short-lived,
single-use token signed by the server and bound to one owner, container and port. The
preview origin trades a valid grant for a *cookie* of that origin (the same kind of token,
longer-lived, reusable) and strips the grant from the URL.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact
JSON ``{"k": kind, "o": owner, "c": container id, "p": port, "e": expiry, "n": nonce}`` and
the signature its HMAC-SHA256 under the server's key. Only characters that are safe in a URL
path segment and a cookie value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

GRANT = "g"
COOKIE = "k"


class GrantRefused(Exception):
    """A grant or cookie that does not open this preview; ``code`` says why."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Claims:
    kind: str
    owner: str
    container_id: str
    port: int
    expires: float
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: bytes) -> bytes:
    """A key of its own for previews, derived from a server secret (Jupyter's cookie secret)."""
    return hmac.new(secret, b"jupyter-container-manager preview grants v1", hashlib.sha256).digest()


class PreviewSigner:
    """Issues and checks grants and cookies with one key."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("a preview signing key needs at least 16 bytes")
        self._key = key

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def issue(self, kind: str, owner: str, container_id: str, port: int, *,
              lifetime: float, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {"k": kind, "o": owner, "c": container_id, "p": int(port),
                  "e": round(now + lifetime, 3), "n": secrets.token_urlsafe(12)}
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def verify(self, token: str, *, kind: str, owner: str, container_id: str, port: int,
               now: float | None = None) -> Claims:
        """The claims of a valid token for exactly this owner, container and port;
        GrantRefused otherwise (forged, malformed, expired or meant for another preview)."""
        what = "preview grant" if kind == GRANT else "preview cookie"
        payload_text, dot, signature = (token or "").partition(".")
        if not dot or not payload_text or not signature:
            raise GrantRefused(f"Malformed {what}", "PREVIEW_GRANT_INVALID")
        try:
            payload = _unb64(payload_text)
            given = _unb64(signature)
        except (ValueError, TypeError):
            raise GrantRefused(f"Malformed {what}", "PREVIEW_GRANT_INVALID") from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(given, expected):
            raise GrantRefused(f"Forged {what}: its signature does not match",
                               "PREVIEW_GRANT_INVALID")
        try:
            raw = json.loads(payload)
            claims = Claims(str(raw["k"]), str(raw["o"]), str(raw["c"]), int(raw["p"]),
                            float(raw["e"]), str(raw["n"]))
        except (ValueError, KeyError, TypeError):
            raise GrantRefused(f"Malformed {what}", "PREVIEW_GRANT_INVALID") from None
        if claims.kind != kind:
            raise GrantRefused(f"Not a {what}", "PREVIEW_GRANT_INVALID")
        if (claims.owner, claims.container_id, claims.port) != (owner, container_id, int(port)):
            raise GrantRefused(f"This {what} is for another preview (owner, container or port)",
                               "PREVIEW_GRANT_MISMATCH")
        now = time.time() if now is None else now
        if claims.expires <= now:
            raise GrantRefused(f"This {what} has expired; ask the API for the preview URL again",
                               "PREVIEW_GRANT_EXPIRED")
        return claims


class UsedGrants:
    """Nonces of redeemed grants, kept until they expire, so a grant opens a preview once."""

    def __init__(self, limit: int = 100_000):
        self._used: dict[str, float] = {}
        self._limit = limit

    def redeem(self, claims: Claims, now: float | None = None) -> bool:
        """True the first time a grant is redeemed; False when it was used before."""
        now = time.time() if now is None else now
        if claims.nonce in self._used:
            return False
        if len(self._used) >= self._limit:
            self._used = {n: e for n, e in self._used.items() if e > now}
            if len(self._used) >= self._limit:  # a flood of live grants: forget the oldest
                for nonce in list(self._used)[: self._limit // 10]:
                    del self._used[nonce]
        self._used[claims.nonce] = claims.expires
        return True

    def __len__(self) -> int:
        return len(self._used)
