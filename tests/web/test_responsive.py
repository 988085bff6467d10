"""Every page fits a phone: no sideways scroll at 390 px (nor at 1400 px), tap targets of
44 px, the Act panel within reach. A realistic incident (tests/web/scenario.py) in real
headless Chromium; screenshots go to $WARROOM_SHOTS when set (else the test's tmp dir).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.alerts.conftest import with_catalog
from warroom import bootstrap
from warroom.server import create_app
from warroom.services.comms import statuspage
from warroom.services.identity import accounts, auth
from warroom.settings import Settings

from . import scenario
from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1400, 900)}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("responsive")
    app = with_subscriptions(
        with_catalog(bootstrap.build(Settings(database_url=f"sqlite:///{folder / 'warroom.db'}")))
    )
    shots = Path(os.environ.get("WARROOM_SHOTS") or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with running(create_app(app)) as base, sync_playwright() as playwright:
        refs = scenario.build(app, base)
        undeliverable(app, refs["open"])
        token, _ = auth.create_token(app.context, "alice", "admin")  # admins see every page
        soon = app.context.clock.now() + timedelta(hours=20)
        statuspage.schedule_maintenance(
            app.context,
            "alice",
            ["search", "payments"],
            soon,
            soon + timedelta(hours=2),
            "Search index rebuild; results may be stale.",
        )
        signing = _accounts(app)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield {"base": base, "refs": refs, "token": token, "browser": browser, "shots": shots, **signing}
        finally:
            browser.close()


def with_subscriptions(app: Any) -> Any:
    """The status page takes subscribers (email and webhook) here."""
    from warroom.integrations.subscriber_links import SignedSubscriberLinks, resolving_guard
    from warroom.services.comms.subscribers import SubscriptionConfig

    config = SubscriptionConfig(
        SignedSubscriberLinks("a responsive test secret"),
        "https://status.example.com",
        True,
        resolving_guard(),
    )
    return dataclasses.replace(
        app, context=dataclasses.replace(app.context, load_subscriptions=lambda: config)
    )


def undeliverable(app: Any, ref: str) -> None:
    """An update to two email stakeholders while no SMTP server is configured, and one
    delivery round: both die with the reason, so the outbox page has lanes to show."""
    from warroom.integrations.notifiers import RecordingNotifier
    from warroom.services import operations as ops
    from warroom.services.comms import delivery
    from warroom.services.comms.outbox import OutboxConfig

    for target in ("cfo@example.com", "legal@example.com"):
        ops.stakeholder_add(app.context, "lee", ref, {"target": target})
    ops.update(
        app.context,
        "lee",
        ref,
        {"text": "Rollback under way; next update 10:30 UTC.", "audience": "internal"},
    )
    delivery.deliver(app.context, OutboxConfig(), RecordingNotifier())


def _accounts(app: Any) -> dict[str, str]:
    """carol signs in with a password, dave also with a TOTP code, erin has a setup link."""
    for handle in ("carol", "dave"):
        _, secret = accounts.add_user(app.context, handle, "responder", name=handle.title())
        accounts.set_password(app.context, secret, PASSWORD, PASSWORD)
    key, _ = accounts.begin_totp(app.context, "dave")
    accounts.confirm_totp(app.context, "dave", pyotp.TOTP(key).now())
    _, setup = accounts.add_user(app.context, "erin", "viewer", name="Erin")
    return {"setup": setup}


def _sign_in(page: Any, base: str, handle: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#handle", handle)
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")


def _page(world: dict[str, Any], size: str, *, logged_in: bool = True) -> Any:
    width, height = WIDTHS[size]
    context = world["browser"].new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    if logged_in:
        page.goto(f"{world['base']}/login")
        page.fill("#token", world["token"])
        page.click("#token-login button[type=submit]")
        page.wait_for_url(f"{world['base']}/")
    return page


def _paths(refs: dict[str, str]) -> dict[str, str]:
    return {
        "list": "/",
        "room": f"/incidents/{refs['open']}",
        "room-closed": f"/incidents/{refs['closed']}",
        "signals": "/signals",
        "report": "/report",
        "postmortem": f"/incidents/{refs['closed']}/postmortem",
        "follow-ups": "/follow-ups",
        "status": "/status",
        "status-admin": "/status/admin",
        "oncall": "/oncall",
        "subscribe": "/status/subscribe",
        "outbox": "/admin/outbox",
        "xray": f"/incidents/{refs['open']}/xray",
    }


def _wide_elements(page: Any) -> list[str]:
    """What sticks out past the right edge, to name in a failure."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""
    )
    return found


@pytest.mark.parametrize("size", list(WIDTHS))
def test_no_page_scrolls_sideways(world: dict[str, Any], size: str) -> None:
    too_wide: dict[str, list[str]] = {}
    page = _page(world, size)
    for name, path in _paths(world["refs"]).items():
        answer = page.goto(world["base"] + path)
        assert answer.status == 200, (name, answer.status)
        page.screenshot(path=str(world["shots"] / f"{name}-{size}.png"), full_page=True)
        page.screenshot(path=str(world["shots"] / f"{name}-{size}-first.png"))
        if not page.evaluate(FITS):
            too_wide[name] = _wide_elements(page)
    page.context.close()
    login = _page(world, size, logged_in=False)
    login.goto(f"{world['base']}/login")
    login.screenshot(path=str(world["shots"] / f"login-{size}.png"), full_page=True)
    if not login.evaluate(FITS):
        too_wide["login"] = _wide_elements(login)
    login.context.close()
    assert too_wide == {}


def test_on_a_phone_the_act_panel_is_one_tap_away_and_targets_are_44px(world: dict[str, Any]) -> None:
    page = _page(world, "phone")
    page.goto(f"{world['base']}/incidents/{world['refs']['open']}")
    bar = page.locator(".actbar")
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= WIDTHS["phone"][1]  # on the first screen
    small: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
                'button, select, summary, header nav a, .actbar a, input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
            .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
            .map(el => el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 30))"""
    )
    assert small == []
    page.locator("#alerts").screenshot(path=str(world["shots"] / "room-alerts-phone.png"))
    page.click(".actbar a:has-text('Update')")
    assert page.eval_on_selector("#act-update", "el => el.open")
    page.wait_for_function(
        "document.querySelector('#act-update').getBoundingClientRect().top < window.innerHeight"
    )
    page.locator("#act-update").screenshot(path=str(world["shots"] / "room-update-form-phone.png"))
    page.context.close()


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_sign_in_setup_code_and_account_pages_fit(world: dict[str, Any], size: str) -> None:
    too_wide: dict[str, list[str]] = {}
    base, shots = world["base"], world["shots"]

    def check(page: Any, name: str) -> None:
        page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
        if not page.evaluate(FITS):
            too_wide[name] = _wide_elements(page)

    page = _page(world, size, logged_in=False)
    assert page.goto(f"{base}/setup/{world['setup']}").status == 200
    check(page, "setup")
    _sign_in(page, base, "dave")
    page.wait_for_url(f"{base}/login/code?next=%2F")
    check(page, "login-code")
    page.context.close()
    page = _page(world, size, logged_in=False)
    _sign_in(page, base, "carol")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/account")
    check(page, "account")
    page.click("main button[type=submit]")
    page.wait_for_selector(".qr svg")
    check(page, "account-totp")
    page.context.close()
    assert too_wide == {}
