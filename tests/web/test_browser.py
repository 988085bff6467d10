"""The room in real headless Chromium against a real uvicorn server.

Skipped when Debian's chromium is missing, unless WARROOM_REQUIRE_ALL=1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.settings import Settings

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running
from .conftest import web_app

pytestmark = pytest.mark.browser

LIVE_BUDGET_MS = 2000


class Site:
    def __init__(self, base: str, app: App) -> None:
        self.base = base
        self.app = app

    def token(self, role: str, name: str) -> str:
        plain, _ = auth.create_token(self.app.context, name, role)
        return plain


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _site(tmp_path: Path, raw: dict[str, Any] | None = None) -> Iterator[Site]:
    app = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'warroom.db'}", raw=raw or {}))
    with running(web_app(app)) as base:
        yield Site(base, app)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from _site(tmp_path)


def logged_in(browser: Any, site: Site, role: str = "responder", name: str = "alice") -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{site.base}/login")
    page.fill("#token", site.token(role, name))
    page.click("#token-login button[type=submit]")
    page.wait_for_url(f"{site.base}/")
    return page


def declare(site: Site, title: str = "Checkout errors") -> str:
    return str(
        ops.declare(
            site.app.context,
            "pager",
            {
                "title": title,
                "services": "checkout",
                "customer_impact": "12%",
                "impact_started_at": "2026-01-01T10:00:00Z",
            },
        )["id"]
    )


def test_declare_from_the_form(browser: Any, site: Site) -> None:
    page = logged_in(browser, site)
    page.fill("#d-title", "Payments <b>timeouts</b>")
    page.fill("#d-services", "payments")
    page.fill("input[name=customer_impact]", "8%")
    page.select_option("select[name=kind]", "latency")
    page.click("form[action='/incidents'] button[type=submit]")
    page.wait_for_url(f"{site.base}/incidents/INC-1")
    assert page.inner_text("h1") == "INC-1 Payments <b>timeouts</b>"
    assert "SEV2: customer impact 8% >= 5%" in page.inner_text("#summary")
    page.context.close()


def test_act_in_the_room_add_a_fact_and_hand_off_a_role(browser: Any, site: Site) -> None:
    ref = declare(site)
    page = logged_in(browser, site)
    page.goto(f"{site.base}/incidents/{ref}")
    page.fill("#fact-text", "error ratio 12% since 10:00")
    page.fill("#fact-source", "grafana checkout")
    page.click("form[action$='/fact'] button")
    page.wait_for_url(f"{site.base}/incidents/{ref}#ledger")
    assert "error ratio 12% since 10:00" in page.inner_text("#ledger")

    page.click("summary:has-text('Assign or hand off a role')")
    page.select_option("#role-role", "commander")
    page.fill("#role-person", "bob")
    page.click("button:has-text('Assign (empty role)')")
    page.wait_for_url(f"{site.base}/incidents/{ref}#summary")
    page.click("summary:has-text('Assign or hand off a role')")
    page.select_option("#role-role", "commander")
    page.fill("#role-person", "carol")
    page.fill("#role-note", "bob needs sleep")
    page.click("button:has-text('Hand off (held role)')")
    page.wait_for_url(f"{site.base}/incidents/{ref}#summary")
    roles = page.inner_text("#summary")
    assert "carol" in roles
    assert "commander handed off from bob to carol: bob needs sleep" in page.inner_text("#timeline")
    page.screenshot(path="/tmp/room.png", full_page=True)
    page.context.close()


def test_a_second_page_sees_changes_from_another_browser_and_the_operations_layer_within_2s(
    browser: Any, site: Site
) -> None:
    ref = declare(site)
    watcher = logged_in(browser, site, name="watcher")
    actor = logged_in(browser, site, name="actor")
    watcher.goto(f"{site.base}/incidents/{ref}")
    actor.goto(f"{site.base}/incidents/{ref}")
    watcher.wait_for_selector("#live-state.on")

    # from another browser
    started = time.monotonic()
    actor.fill("#guess-text", "deploy 42 is bad")
    actor.click("form[action$='/guess'] button")
    watcher.wait_for_selector("#ledger :text('deploy 42 is bad')", timeout=LIVE_BUDGET_MS)
    assert (time.monotonic() - started) * 1000 < LIVE_BUDGET_MS + 500

    # someone is typing in a section while a change arrives: their input survives
    watcher.fill("#ledger input[name=source]", "half-typed evidence")
    ops.fact(site.app.context, "cli-user", ref, {"text": "arrived while typing", "source": "cli"})
    watcher.wait_for_selector("#timeline :text('arrived while typing')", timeout=LIVE_BUDGET_MS)
    assert watcher.input_value("#ledger input[name=source]") == "half-typed evidence"

    # from the operations layer (what the CLI and the API call), measured
    started = time.monotonic()
    ops.decide(site.app.context, "cli-user", ref, {"text": "roll back now", "why": "fastest"})
    watcher.wait_for_selector("#decisions :text('roll back now')", timeout=LIVE_BUDGET_MS)
    assert (time.monotonic() - started) * 1000 < LIVE_BUDGET_MS
    watcher.context.close()
    actor.context.close()


def test_the_status_page_hides_internal_content(browser: Any, site: Site) -> None:
    ref = declare(site, title="Secret: vault token leaked by dave")
    ctx = site.app.context
    ops.fact(ctx, "erin", ref, {"text": "internal fact", "source": "logs"})
    ops.update(ctx, "erin", ref, {"text": "internal update only", "audience": "internal"})
    ops.update(ctx, "erin", ref, {"text": "Checkout is slow; we are on it.", "audience": "public"})
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/status")
    body = page.inner_text("body")
    assert "Checkout is slow; we are on it." in body
    assert "Partial outage" in body  # SEV2 (12% of customers), on no listed component
    for secret in ("vault token", "dave", "erin", "internal fact", "internal update only", "pager"):
        assert secret not in body
    context.close()


def test_a_viewer_sees_no_action_buttons(browser: Any, site: Site) -> None:
    ref = declare(site)
    page = logged_in(browser, site, role="viewer", name="victor")
    assert page.locator("main form[method=post]").count() == 0
    page.goto(f"{site.base}/incidents/{ref}")
    assert page.locator("#act").count() == 0
    assert page.locator("main button, main form").count() == 0
    assert "Checkout errors" in page.inner_text("h1")
    page.context.close()


def test_the_countdown_turns_red_when_the_update_is_overdue(browser: Any, tmp_path: Path) -> None:
    for site in _site(tmp_path, raw={"cadence": {"sev2_minutes": 0.04}}):  # due 2.4 s after declaring
        page = logged_in(browser, site)
        ref = declare(site)
        page.goto(f"{site.base}/incidents/{ref}")
        assert page.locator(".next-update.overdue").count() == 0
        page.wait_for_selector(".next-update.overdue", timeout=5000)
        assert page.inner_text(".countdown").startswith("overdue by")
        color = page.eval_on_selector(".countdown", "el => getComputedStyle(el).color")
        assert color == "rgb(179, 38, 30)"
        page.context.close()


def test_a_revoked_token_stops_the_live_room(browser: Any, site: Site) -> None:
    ref = declare(site)
    page = logged_in(browser, site, role="viewer", name="temp")
    page.goto(f"{site.base}/incidents/{ref}")
    page.wait_for_selector("#live-state.on")
    auth.revoke_token(site.app.context, "temp")
    ops.note(site.app.context, "cli", ref, {"text": "not for temp"})
    page.wait_for_selector("#live-state:has-text('signed out')", timeout=LIVE_BUDGET_MS)
    assert "not for temp" not in page.inner_text("#timeline")
    page.context.close()


def test_a_change_made_through_the_rest_api_appears_in_the_room_within_2s(
    browser: Any, tmp_path: Path
) -> None:
    import httpx

    from warroom.server import create_app

    app = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'warroom.db'}"))
    with running(create_app(app)) as base:
        site = Site(base, app)
        ref = declare(site)
        page = logged_in(browser, site)
        page.goto(f"{base}/incidents/{ref}")
        page.wait_for_selector("#live-state.on")
        started = time.monotonic()
        answer = httpx.post(
            f"{base}/api/v1/incidents/{ref}/facts",
            json={"text": "posted through the API", "source": "curl"},
            headers={"Authorization": f"Bearer {site.token('responder', 'api-bot')}"},
        )
        assert answer.status_code < 300, answer.text
        page.wait_for_selector("#ledger :text('posted through the API')", timeout=LIVE_BUDGET_MS)
        assert (time.monotonic() - started) * 1000 < LIVE_BUDGET_MS
        assert "api-bot" in page.inner_text("#timeline")
        page.context.close()
