"""What a preview page can do in a real browser (headless Chromium), logged in to Jupyter
with the login cookie as a user is: with the default sandbox it cannot call the Jupyter
API as the user (nor read cookies) - and, the price, its own scripts get no cookie either,
so they are refused; with ``proxy_sandbox = False`` it loads whole, and can call the API."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from tests.support.proxy_support import open_preview

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium"),
]


@pytest.fixture
def preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url, jp_asyncio_loop):
    return jp_asyncio_loop.run_until_complete(
        open_preview(api, docker_client, jp_serverapp, jp_http_port, jp_base_url)
    )


async def page_report(preview) -> dict:
    """Log in with the token as a browser does (the login cookie), open the preview page
    and read what it reports in its title."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{preview.server}{preview.base_url}api/status?token={preview.token}")
            await page.goto(preview.url("page"))
            for _ in range(100):
                title = await page.title()
                if title.startswith("{"):
                    return json.loads(title)
                await asyncio.sleep(0.1)
            raise AssertionError(f"the page did not report: {title!r}")
        finally:
            await browser.close()


@pytest.mark.security_case(6)
async def test_a_sandboxed_preview_cannot_act_as_the_user(preview):
    report = await page_report(preview)
    assert report["api"] != 200  # the Jupyter API refuses it (no cookie from an opaque origin)
    assert report["cookies"] == "blocked"
    assert report["script"] == "blocked"  # the trade-off: its own script got no cookie either


@pytest.fixture
def unsandboxed_manager_config(manager_config):
    manager_config["proxy_sandbox"] = False
    return manager_config


async def test_without_the_sandbox_the_page_loads_whole_and_is_trusted(
    unsandboxed_manager_config, preview
):
    report = await page_report(preview)
    assert report["script"] == "ran"
    assert report["cookies"] == "readable"
    assert report["api"] == 200  # same origin as Jupyter: only for code trusted as the user
