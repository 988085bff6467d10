"""The HTTP server: the REST API, the web room and the operations endpoints in one app.

:func:`create_app` composes them around an already built :class:`~warroom.bootstrap.App`
(stored on ``fastapi_app.state.warroom``); :func:`serve` builds everything from settings
and runs uvicorn. It seeds nothing: a demo incident in the real database would take the
first real alerts of its services (``make demo`` plays one into its own database).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from warroom.bootstrap import App, build
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.settings import Settings

log = logging.getLogger("warroom.server")

DEMO_ACTOR = "warroom-demo"
ADMIN_TOKEN_NAME = "admin"


def create_app(app: App, *, with_web: bool = True) -> FastAPI:
    from warroom.api.setup import install

    fastapi_app = FastAPI(
        title="warroom",
        version=_version(),
        summary="Incident response from the first alarm to the last follow-up.",
        description="REST API of warroom. Every `/api/v1` route needs `Authorization: Bearer <token>`; "
        "errors are `application/problem+json` naming the offending field.",
    )
    fastapi_app.state.warroom = app
    # Webhooks first: a storm of deliveries should not be matched against every API route.
    # The alert webhooks also get a lane ahead of the router (added before the request guard,
    # so the guard stays outermost: it limits the body and counts the request).
    from warroom.api.hooks import HookLane, build_hooks_router

    fastapi_app.include_router(build_hooks_router())
    from warroom.api.pagerduty import build_pagerduty_router

    fastapi_app.include_router(build_pagerduty_router())  # PagerDuty's own clients, unchanged
    fastapi_app.add_middleware(HookLane)
    install(fastapi_app)
    from warroom.api.learning import build_learning_router

    fastapi_app.include_router(build_learning_router())
    from warroom.api.device import build_device_router

    fastapi_app.include_router(build_device_router())
    if with_web:
        router = _web_router()
        if router is not None:
            fastapi_app.include_router(router)
        from warroom.web.learning import build_learning_web_router
        from warroom.web.oncall import build_oncall_web_router

        fastapi_app.include_router(build_learning_web_router())
        fastapi_app.include_router(build_oncall_web_router())
    return fastapi_app


def _web_router() -> Any:
    try:
        from warroom.web.routes import build_router
    except ImportError as exc:  # the web room is optional until it lands
        log.warning("web room not available: %s", exc)
        return None
    return build_router()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("warroom")
    except PackageNotFoundError:
        return "0"


def seed_demo(app: App) -> str | None:
    """Declare one realistic incident when the database has none; returns its id."""
    ctx = app.context
    if ops.list_incidents(ctx, {"limit": 1}):
        return None
    actor = DEMO_ACTOR
    room = ops.declare(
        ctx,
        actor,
        {
            "title": "Checkout failing for EU customers",
            "kind": "availability",
            "services": ["checkout", "payments"],
            "scope": "EU region, web and mobile checkout",
            "symptom": "HTTP 502 on POST /checkout since 09:58 UTC; payment authorisations dropping",
            "customer_impact": "12%",
        },
    )
    ref = room["id"]
    for role, person in (("commander", "dana"), ("comms", "lee"), ("scribe", "sam")):
        ops.assign_role(ctx, actor, ref, {"role": role, "person": person})
    ops.fact(
        ctx,
        actor,
        ref,
        {"text": "5xx ratio on checkout-eu is 12% (baseline 0.2%)", "source": "Grafana: checkout overview"},
    )
    ops.guess(ctx, actor, ref, {"text": "The 10:02 payments deploy (v2.41) broke the card tokenizer"})
    ops.propose(
        ctx,
        actor,
        ref,
        {
            "title": "Roll back payments to v2.40",
            "kind": "rollback",
            "risk": "low",
            "expected_minutes": 5,
            "changes": "payments deployment image v2.41 -> v2.40",
            "verification": 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m]))',
        },
    )
    ops.update(
        ctx,
        actor,
        ref,
        {
            "text": "We are investigating failed checkouts for some EU customers. "
            "A rollback of a recent payments change is being prepared. Next update in 30 minutes.",
            "audience": "public",
        },
    )
    return str(ref)


def first_admin_token(app: App) -> str | None:
    """Create an admin token when none exists yet; returns its secret (to print once)."""
    if auth.list_tokens(app.context):
        return None
    plain, _ = auth.create_token(app.context, ADMIN_TOKEN_NAME, "admin")
    return plain


def check_configuration(app: App) -> None:
    """Read the catalog and the alert rules now, so a bad one stops the start with one line
    (``CatalogError`` / ``AlertPolicyError``) instead of failing each webhook later."""
    from warroom.api.pagerduty import rate_per_minute
    from warroom.domain.alerts.policy import policy_from_config
    from warroom.domain.alerts.routing import Router

    Router(app.context.catalog)
    policy_from_config(app.settings.section("alerts"))
    rate_per_minute(app.settings)


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    echo: Callable[[str], None] = print,
) -> None:
    """Build from ``settings``, print the URL and the first admin token, run uvicorn."""
    import uvicorn

    app = build(settings)
    check_configuration(app)
    token = first_admin_token(app)
    url = f"http://{host}:{port}"
    echo(f"warroom on {url}  (database: {_safe_url(settings.database_url)})")
    if token:
        echo(f"admin token (shown once, keep it): {token}")
        echo(f"  log in at {url}/login, or: export WARROOM_URL={url} WARROOM_TOKEN={token}")
    else:
        echo("create a token with: warroom token create --role responder --name YOUR_NAME")
    jobs = _start_jobs(app, echo)
    try:
        uvicorn.run(create_app(app), host=host, port=port, log_level="info", server_header=False)
    finally:
        if jobs is not None:
            jobs.stop()


def _start_jobs(app: App, echo: Callable[[str], None]) -> Any:
    """Background jobs beside the server (notification delivery, reminders): see warroom.worker."""
    from warroom.settings import SettingsError
    from warroom.worker import start_in_thread

    try:
        jobs = start_in_thread(app)
    except SettingsError as exc:
        echo(f"error: {exc}")
        raise SystemExit(2) from None
    echo("background jobs: " + ("running in this server" if jobs else "off (jobs.in_server = false)"))
    return jobs


def _safe_url(url: str) -> str:
    """The database URL without its password, for the start-up line."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
