"""Previews on their own origin, in Chromium: a page of JupyterLab's origin (logged in with
the cookie) embeds a preview URL the API handed out; the app (bound to the container's
loopback) loads with its own cookie inside the iframe, and cannot read the Jupyter API as
the user."""

from __future__ import annotations

import time

import docker
import pytest

from tests.support.proxy_support import APP_PORT, start_app
from tests.ui.conftest import ARTIFACTS, LabServer

pytestmark = pytest.mark.ui


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def context(browser, lab_server: LabServer):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    # Log in as a person does: the token URL sets Jupyter's login cookie.
    page.goto(f"{lab_server.url}api/status?token={lab_server.token}")
    yield context
    context.close()


@pytest.mark.security_case(6)
def test_a_preview_origin_in_an_iframe_of_jupyterlab(context, lab_server: LabServer):
    created = lab_server.api("POST", "containers", json={"name": "origin-ui", "ports": [APP_PORT]})
    assert created.status_code == 201, created.text
    container_id = created.json()["id"]
    lab_server.created.append(container_id)
    client = docker.from_env()
    try:
        start_app(client, container_id, bind="127.0.0.1")
    finally:
        client.close()
    page = context.new_page()
    # A plain HTML page of the Jupyter origin (its 404 page: no CSP against fetch or frames).
    page.goto(f"{lab_server.url}jcm-test-blank-page")
    # The page asks the API (cookie + XSRF, as the panel does) for the preview URL.
    url = page.evaluate(
        """async ([id, port]) => {
          const xsrf = document.cookie.split('; ').find(c => c.startsWith('_xsrf='));
          const r = await fetch(`/containers/${id}`, {headers: {'X-XSRFToken': xsrf ? xsrf.slice(6) : ''}});
          return (await r.json()).ports.find(p => p.port === port).url;
        }""",
        [container_id, APP_PORT],
    )
    assert url.startswith(f"http://{APP_PORT}-{container_id}.localhost:")
    deadline = time.monotonic() + 20
    frame = None
    while time.monotonic() < deadline:  # the app may still be starting: a fresh URL each try
        page.evaluate(
            """(src) => { document.body.innerHTML = '';
              const f = document.createElement('iframe'); f.src = src; f.width = 900; f.height = 500;
              document.body.appendChild(f); }""",
            url + "echo/first-load",
        )
        page.wait_for_timeout(500)
        frame = next((f for f in page.frames if "localhost" in f.url), None)
        if frame is not None and '"url":"/echo/first-load"' in (frame.content() or ""):
            break
        url = lab_server.api("GET", f"webcontainer/{container_id}/url",
                             params={"port": APP_PORT}).json()["url"]
    assert frame is not None, [f.url for f in page.frames]
    assert frame.url.endswith("/echo/first-load")  # the grant left the URL
    assert '"url":"/echo/first-load"' in frame.content(), frame.content()[:300]
    # The app's own requests from inside the iframe carry the origin's cookie.
    own = frame.evaluate("fetch('/echo/again').then(r => r.status)")
    assert own == 200
    # The preview cannot read the Jupyter API as the user.
    jupyter = lab_server.url + "api/contents"
    outcome = frame.evaluate(
        """(u) => fetch(u, {credentials: 'include'}).then(r => 'read ' + r.status)
                   .catch(() => 'blocked')""",
        jupyter,
    )
    assert outcome == "blocked", outcome
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-origin-iframe.png"))
    page.close()
