"""Swagger UI is served from the package (no CDN) and "Try it out" works in a real browser."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.support.helpers import assert_error
from tests.support.servers import ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


async def test_docs_page_uses_only_local_assets(api, jp_base_url):
    page = await api.get("containers", "docs")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(f"{jp_base_url}containers/docs/") for s in sources), sources
    for source in sources:
        asset = await api.get(*source[len(jp_base_url):].split("/"))
        assert asset.status == 200, source
        assert len(asset.body) > 100
    assert f'data-spec-url="{jp_base_url}containers/openapi.json"' in page.text


async def test_unknown_docs_asset_is_404(api):
    assert_error(await api.get("containers", "docs", "index.j2"), 404)
    assert_error(await api.get("containers", "docs", "..%2F..%2Fconfig.py"), 404)


async def test_the_webcontainer_client_is_served(api):
    """The bundle `jlpm build` makes (build:client), as an ES module behind auth."""
    module = await api.get("webcontainer-client", "webcontainer.js")
    assert module.status == 200, "not built? run `jlpm build` in labextension/"
    assert module.headers["Content-Type"].startswith("text/javascript")
    assert re.search(r"^export \{[^}]*\bWebContainer\b", module.text, re.M)
    assert "@jupyterlab/" not in module.text and "@lumino/" not in module.text
    source_map = await api.get("webcontainer-client", "webcontainer.js.map")
    assert source_map.status == 200
    assert "src/webcontainer/index.ts" in source_map.text
    assert_error(await api.get("webcontainer-client", "index.ts"), 404)
    assert_error(await api.get("webcontainer-client", "..%2F..%2Fconfig.py"), 404)


@pytest.mark.ui
def test_try_it_out_creates_a_container_with_the_browser_session(owner, docker_client, tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    config = {"owner": owner, "image": TEST_IMAGE, "pull_missing_images": False,
              "extra_labels": {RUN_LABEL: RUN_ID}}
    with ServerProcess(config) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            # The token logs the browser in; after that only the cookie (and XSRF) is used.
            page.goto(f"{server.url}/containers/docs?token={server.token}")
            page.click("#operations-containers-createContainer .opblock-summary")
            page.click("#operations-containers-createContainer >> text=Try it out")
            page.fill("#operations-containers-createContainer textarea.body-param__text",
                      '{"name": "from-swagger"}')
            page.click("#operations-containers-createContainer >> text=Execute")
            status = page.locator("#operations-containers-createContainer .live-responses-table "
                                  "tbody .response-col_status")
            status.wait_for(timeout=30000)
            page.screenshot(path=str(tmp_path / "swagger-try-it-out.png"))
            assert status.inner_text().strip().startswith("201")
        finally:
            browser.close()
        names = [c["name"] for c in server.request("GET", "containers").json()]
        assert names == ["from-swagger"]


async def test_websocket_docs_cover_every_event(api, jp_base_url):
    from jupyter_container_manager.gateway import protocol

    page = await api.get("containers", "docs", "websocket")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    for name in list(protocol.CLIENT_EVENTS) + list(protocol.SERVER_EVENTS):
        assert f"<code>{name}</code>" in page.text, name
    for variants in (protocol.FS_OPERATIONS, protocol.PROCESS_OPERATIONS):
        for variant in variants:
            assert f": {variant}</code>" in page.text, variant
    assert f"<code>{jp_base_url}container</code>" in page.text
