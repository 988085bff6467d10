"""A whole incident walked on a phone (390 x 844) in real Chromium: declare, resolve, write
the postmortem with the blameless lint answering as you type, add a follow-up, publish,
see it on /follow-ups, close. Screenshots go to $WARROOM_SHOTS when set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warroom import bootstrap
from warroom.services.identity import auth
from warroom.services.learning import operations as lops
from warroom.settings import Settings

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running
from .conftest import web_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[tuple[Any, str, Any, Path]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    from warroom.web.learning import build_learning_web_router

    app = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'warroom.db'}"))
    web = web_app(app)
    web.include_router(build_learning_web_router())
    shots = Path(os.environ.get("WARROOM_SHOTS") or tmp_path)
    with running(web) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            yield page, base, app, shots
        finally:
            browser.close()


def test_a_whole_incident_from_declare_to_a_published_postmortem_on_a_phone(
    phone: tuple[Any, str, Any, Path],
) -> None:
    page, base, app, shots = phone
    token, _ = auth.create_token(app.context, "alice", "responder")
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("#token-login button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.fill("#d-title", "Checkout errors after deploy")
    page.fill("#d-services", "checkout")
    page.fill("input[name=customer_impact]", "8%")
    page.click("form[action='/incidents'] button[type=submit]")
    page.wait_for_url(f"{base}/incidents/INC-1")
    assert "SEV2" in page.inner_text("#summary")

    page.click("#act-resolve > summary")
    page.fill("#res-summary", "Rolled back checkout v2.14.0")
    page.check("#act-resolve input[name=impact_stopped]")
    page.check("#act-resolve input[name=risk_controlled]")
    page.click("#act-resolve form[action$='/resolve'] button[type=submit]")
    page.wait_for_url(f"{base}/incidents/INC-1#summary")
    assert "resolved" in page.inner_text("#summary")

    page.goto(f"{base}/incidents/INC-1/postmortem")
    page.click("button:has-text('Draft the postmortem')")
    page.wait_for_selector("#pm-in-trigger")
    page.fill("#pm-in-trigger", "Bob forgot to run the contract tests before the deploy.")
    page.wait_for_selector("#pm-lint-trigger .lint-findings")  # as you type: no save needed
    assert "“Bob forgot”" in page.inner_text("#pm-lint-trigger")
    page.locator("#pm-edit-trigger").screenshot(path=str(shots / "walk-lint-phone.png"))
    page.fill("#pm-in-trigger", "Deploy v2.14.0 changed the basket format; no contract test covered it.")
    page.wait_for_selector("#pm-lint-trigger .lint-ok")
    page.click("#pm-edit-trigger button[type=submit]")
    page.wait_for_url(f"{base}/incidents/INC-1/postmortem#pm-edit-trigger")
    page.fill("#pm-in-contributing_factors", "change: No contract test between checkout and basket")
    page.click("#pm-edit-contributing_factors button[type=submit]")
    page.wait_for_url("**#pm-edit-contributing_factors")
    page.fill("#pm-in-root_cause_chain", "v2.14.0 sent the new basket format\nbasket rejected it")
    page.click("#pm-edit-root_cause_chain button[type=submit]")
    page.wait_for_url("**#pm-edit-root_cause_chain")

    page.fill("#fu-title", "Contract tests between checkout and basket")
    page.fill("#pm-followups input[name=owner]", "erin")
    page.click("#pm-followups button:has-text('Add follow-up')")
    page.wait_for_url("**#pm-followups")
    page.click("#pm-publish button:has-text('Publish')")
    page.wait_for_url("**#pm-title")
    assert page.inner_text(".pm-status") == "published"
    assert page.locator("textarea").count() == 0  # read-only once published
    assert page.evaluate(FITS)
    page.screenshot(path=str(shots / "walk-postmortem-phone.png"), full_page=True)

    page.click("header nav a:has-text('Follow-ups')")
    page.wait_for_url(f"{base}/follow-ups")
    assert "Contract tests between checkout and basket" in page.inner_text("main")
    assert page.evaluate(FITS)

    page.goto(f"{base}/incidents/INC-1")
    page.click("#act-close > summary")
    page.click("#act-close button[type=submit]")
    page.wait_for_url("**#summary")
    assert "closed" in page.inner_text("#summary")
    assert lops.postmortem_show(app.context, "INC-1")["status"] == "published"
