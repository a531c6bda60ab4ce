"""Every route refuses a request without credentials (generated from the route table)."""

from __future__ import annotations

import json
import re

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from jupyter_container_manager.routes import route_table

SAMPLE = {
    "container_id": "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b",
    "port": "3000",
    "path": "index.html",
}
VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def example_path(pattern: str) -> str:
    """A concrete path for a route pattern: named groups get sample values."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE.get(m.group(1), "x"), pattern)
    return path.replace("\\.", ".").replace("$", "")


def implemented_verbs(handler) -> list[str]:
    return [verb for verb in VERBS if getattr(handler, verb.lower(), None) is not None
            and getattr(handler, verb.lower()).__qualname__.split(".")[0] != "RequestHandler"]


CASES = [
    pytest.param(example_path(route[0]), verb, id=f"{verb} {route[0]}")
    for route in route_table()
    for verb in implemented_verbs(route[1])
]


def test_every_route_is_covered():
    assert len(CASES) >= 7  # the Direct API alone has 7 (route, verb) pairs


@pytest.mark.security_case(1)
@pytest.mark.parametrize("path, verb", CASES)
async def test_refused_without_credentials(http_server_client, jp_http_port, jp_base_url, path, verb):
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{path.lstrip('/')}"
    body = b"{}" if verb in ("POST", "PUT", "PATCH") else None
    request = HTTPRequest(url, method=verb, body=body, follow_redirects=False)
    with pytest.raises(HTTPClientError) as caught:
        await AsyncHTTPClient().fetch(request)
    assert caught.value.code == 403, (verb, path, caught.value.code)
    assert_json_error(caught.value.response)


@pytest.mark.security_case(1)
@pytest.mark.parametrize("path, verb", CASES)
async def test_refused_with_a_wrong_token(http_server_client, jp_http_port, jp_base_url, path, verb):
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{path.lstrip('/')}"
    body = b"{}" if verb in ("POST", "PUT", "PATCH") else None
    request = HTTPRequest(url, method=verb, body=body, follow_redirects=False,
                          headers={"Authorization": "token not-the-token"})
    with pytest.raises(HTTPClientError) as caught:
        await AsyncHTTPClient().fetch(request)
    assert caught.value.code == 403
    assert_json_error(caught.value.response)


def assert_json_error(response) -> None:
    """A JSON error, never a login page or a redirect (security case 1)."""
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    assert json.loads(response.body)["message"]
