"""The X-ray page in real headless Chromium: the verdict, the failing path drawn as SVG with
its owners, no sideways scroll at 390 px nor at 1400 px, and pinning a finding lands it in
the room's ledger. Screenshots go to $WARROOM_SHOTS when set (else the test's tmp dir)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.alerts.conftest import with_catalog
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running
from warroom import bootstrap
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.settings import Settings

from .shop import shop

pytestmark = pytest.mark.browser
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_the_xray_page_draws_the_failing_path_and_pins_a_finding(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    app = with_catalog(bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'warroom.db'}")))
    now = datetime.now(UTC)
    store = app.context.xray.store
    store.add(
        shop(31, 200, 0.3, start_us=int((now - timedelta(minutes=5)).timestamp() * 1e6), retries=2), now
    )
    store.add(shop(32, 200, 0.0, start_us=int((now - timedelta(minutes=40)).timestamp() * 1e6)), now)
    ref = ops.declare(
        app.context,
        "alice",
        {"title": "Checkout failing", "services": ["checkout"], "customer_impact": "10%"},
    )["id"]
    token, _ = auth.create_token(app.context, "alice", "responder")
    shots = Path(os.environ.get("WARROOM_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with running(create_app(app)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, (width, height) in {"phone": (390, 844), "desktop": (1400, 900)}.items():
                page = browser.new_context(viewport={"width": width, "height": height}).new_page()
                page.goto(f"{base}/login")
                page.fill("#token", token)
                page.click("#token-login button[type=submit]")
                page.wait_for_url(f"{base}/")
                page.goto(f"{base}/incidents/{ref}")
                page.click("#xray a")
                page.wait_for_url(f"{base}/incidents/{ref}/xray")
                verdict = page.text_content(".xray .verdict") or ""
                assert verdict.startswith(
                    "100% of failed checkout requests end in payments → adyen (timeout after 5 s)"
                )
                assert "payments is owned by team payments" in verdict
                svg = page.locator("svg.xray-path")
                assert svg.count() == 1
                assert [t.strip() for t in svg.locator("text.xray-name").all_text_contents()] == [
                    "checkout",
                    "payments",
                    "adyen",
                ]
                assert "team storefront" in svg.locator("text.xray-team").all_text_contents()
                assert page.evaluate(FITS), f"sideways scroll at {width}px"
                page.screenshot(path=str(shots / f"xray-path-{name}.png"), full_page=True)
            page.check("#pin input[value='0']")
            page.click("#pin button[type=submit]")
            page.wait_for_url(f"{base}/incidents/{ref}#ledger")
            assert "X-ray: 100% of failed checkout requests" in (page.text_content("#ledger") or "")
        finally:
            browser.close()
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
