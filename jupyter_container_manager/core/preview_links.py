"""The preview URLs the API hands out, and what a preview origin accepts back.

``PreviewLinks`` joins the ``preview_host`` setting (which origin, ``preview_hosts.py``)
and the signer (``preview_grants.py``): a URL handed out for a preview on its own origin
carries a fresh single-use grant in its path,
``http://5173-<id>.localhost:8888/__jcm_grant/<grant>/``, so that ``url + "about"`` and
``url + "/about"`` still work; the preview origin trades the grant for its cookie and
redirects to the rest of the path. Where the request gets the path proxy, the URL is the
path ``<base_url>containers/<id>/proxy/<port>/``, as before.
"""

from __future__ import annotations

from .preview_grants import COOKIE, GRANT, Claims, GrantRefused, PreviewSigner, UsedGrants
from .preview_hosts import PreviewHosts

GRANT_PATH = "/__jcm_grant/"
COOKIE_NAME = "jcm-preview"
SECURE_COOKIE_NAME = "__Host-jcm-preview"


def path_url(base_url: str, container_id: str, port: int) -> str:
    """The proxied preview URL of a container port on the Jupyter origin, from the root."""
    return f"{base_url.rstrip('/')}/containers/{container_id}/proxy/{port}/"


def split_grant_path(path: str) -> tuple[str, str] | None:
    """``/__jcm_grant/<grant>/rest`` -> (grant, ``/rest``); None for any other path. The
    rest always starts with exactly one slash (never ``//host``, an open redirect)."""
    if not path.startswith(GRANT_PATH):
        return None
    grant, _, rest = path[len(GRANT_PATH):].partition("/")
    return grant, "/" + rest.lstrip("/")


class PreviewLinks:
    def __init__(self, *, preview_host: str, key: bytes, owner: str, base_url: str,
                 grant_lifetime: float, cookie_lifetime: float):
        self.hosts = PreviewHosts(preview_host)
        self.signer = PreviewSigner(key)
        self.used = UsedGrants()
        self.owner = owner
        self.base_url = base_url
        self.grant_lifetime = grant_lifetime
        self.cookie_lifetime = cookie_lifetime

    def url(self, container_id: str, port: int, *, scheme: str = "http", host: str = "") -> str:
        """The preview URL to hand to a client whose request came to ``host``."""
        origin = self.hosts.origin(scheme, host, container_id, port)
        if origin is None:
            return path_url(self.base_url, container_id, port)
        grant = self.signer.issue(GRANT, self.owner, container_id, port,
                                  lifetime=self.grant_lifetime)
        return f"{origin}{GRANT_PATH}{grant}/"

    def check_grant(self, token: str, container_id: str, port: int) -> Claims:
        """The claims of a grant for this preview, redeemed now; GrantRefused otherwise
        (forged, expired, for another preview, or redeemed before)."""
        claims = self.signer.verify(token, kind=GRANT, owner=self.owner,
                                    container_id=container_id, port=port)
        if not self.used.redeem(claims):
            raise GrantRefused("This preview grant was used before; ask the API for the "
                               "preview URL again", "PREVIEW_GRANT_REPLAYED")
        return claims

    def new_cookie(self, container_id: str, port: int) -> str:
        return self.signer.issue(COOKIE, self.owner, container_id, port,
                                 lifetime=self.cookie_lifetime)

    def check_cookie(self, token: str, container_id: str, port: int) -> Claims:
        return self.signer.verify(token, kind=COOKIE, owner=self.owner,
                                  container_id=container_id, port=port)

    @staticmethod
    def cookie_header(token: str, *, secure: bool, max_age: int) -> str:
        """``Set-Cookie`` for a preview origin: host-only, HttpOnly; where Secure applies
        (https, or *.localhost, which browsers treat as secure), SameSite=None and
        Partitioned so that it works inside an iframe of another site; else Lax."""
        if secure:
            return (f"{SECURE_COOKIE_NAME}={token}; Path=/; Max-Age={max_age}; HttpOnly; "
                    "Secure; SameSite=None; Partitioned")
        return f"{COOKIE_NAME}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
