"""The HTTP server: the REST API, the web room and the operations endpoints in one app.

:func:`create_app` composes them around an already built :class:`~warroom.bootstrap.App`
(stored on ``fastapi_app.state.warroom``); :func:`serve` builds everything from settings
and runs uvicorn. It seeds nothing: a demo incident in the real database would take the
first real alerts of its services (``make demo`` plays one into its own database).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from warroom.bootstrap import App, build
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.settings import Settings

if TYPE_CHECKING:
    from warroom.api.balance import SharedLoad

log = logging.getLogger("warroom.server")

DEMO_ACTOR = "warroom-demo"
ADMIN_TOKEN_NAME = "admin"


def create_app(app: App, *, with_web: bool = True, balance: SharedLoad | None = None) -> FastAPI:
    """The ASGI application over ``app``; ``balance``: this process's share of the connections
    of ``serve --workers N`` (see :mod:`warroom.api.balance`)."""
    from warroom.api.setup import install

    @asynccontextmanager
    async def lifespan(fastapi_app: FastAPI) -> AsyncIterator[None]:
        feed = _start_live_feed(fastapi_app, app) if with_web else None
        try:
            yield
        finally:
            if feed is not None:
                feed.stop()

    fastapi_app = FastAPI(
        lifespan=lifespan,
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
    from warroom.api.xray import build_xray_router

    fastapi_app.include_router(build_xray_router())  # OTLP/HTTP traces in, and the X-ray
    from warroom.api.pagerduty import build_pagerduty_router

    fastapi_app.include_router(build_pagerduty_router())  # PagerDuty's own clients, unchanged
    fastapi_app.add_middleware(HookLane)
    if with_web:
        from warroom.web.public import PublicLane

        fastapi_app.add_middleware(PublicLane)  # the public page ahead of the router, too
    install(fastapi_app)
    from warroom.api.learning import build_learning_router

    fastapi_app.include_router(build_learning_router())
    from warroom.api.device import build_device_router

    fastapi_app.include_router(build_device_router())
    if with_web:
        router = _web_router()
        if router is not None:
            fastapi_app.include_router(router)
        from warroom.web.feeds import build_feeds_router
        from warroom.web.learning import build_learning_web_router
        from warroom.web.oncall import build_oncall_web_router
        from warroom.web.outbox_admin import build_outbox_admin_router
        from warroom.web.subscriptions import build_subscriptions_router

        fastapi_app.include_router(build_learning_web_router())
        from warroom.web.xray import build_xray_web_router

        fastapi_app.include_router(build_xray_web_router())
        fastapi_app.include_router(build_oncall_web_router())
        fastapi_app.include_router(build_subscriptions_router())
        fastapi_app.include_router(build_feeds_router())
        fastapi_app.include_router(build_outbox_admin_router())
    if balance is not None:  # outermost: it only counts connections and may close one
        from warroom.api.balance import ConnectionBalance

        fastapi_app.add_middleware(ConnectionBalance, load=balance)
    return fastapi_app


def _start_live_feed(fastapi_app: FastAPI, app: App) -> Any:
    """On PostgreSQL, open rooms wake when any replica changes their incident."""
    from warroom.bootstrap import start_change_feed
    from warroom.web.live import LiveSignal

    signal = LiveSignal()
    feed = start_change_feed(app, signal.notify)
    if feed is not None:
        signal.feed_connected = feed.connected.is_set
        fastapi_app.state.live = signal
    return feed


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
    try:
        plain, _ = auth.create_token(app.context, ADMIN_TOKEN_NAME, "admin")
    except Exception:
        # Replicas started together: another one created it first (the name is unique).
        if auth.list_tokens(app.context):
            return None
        raise
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


SETTINGS_ENV = "WARROOM_SERVE_SETTINGS"  # the parent's settings, for its server processes


GC_YOUNG = 10_000  # container objects allocated (net) before the youngest generation is collected


def settle_heap() -> None:
    """Tune the garbage collector for serving, once the process has built its app: what
    start-up made (modules, routes, models, the catalog) is frozen out of the collector's
    way, since it lives as long as the process and each full collection walked all of it
    (20-80 ms); and the youngest generation is collected after :data:`GC_YOUNG` objects instead
    of 700, so a body's short-lived objects (signals, label maps, rows) die by reference
    count before a collection looks at them. Under an ingest storm the default thresholds
    spent about a tenth of a server process's CPU in collections (measured: ~550 young and
    ~50 middle collections per 30,000 alerts); with these, one or two.

    Only the server's entry points call this: it is process-wide, and a test process that
    builds many apps must not freeze them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    workers: int = 1,
    access_log: bool = True,
    echo: Callable[[str], None] = print,
) -> None:
    """Build from ``settings``, print the URL and the first admin token, run uvicorn.

    With ``workers`` > 1, uvicorn starts that many server processes on one listening
    socket (the kernel spreads connections over them); each builds its own App from the
    same settings. The background jobs run once, in this parent process."""
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
    # One process serves it all: its app is built, and the collector settled, before the
    # jobs' threads start (what they hold in flight must not be frozen with start-up).
    asgi = create_app(app) if workers == 1 else None
    if asgi is not None:
        settle_heap()
    jobs = _start_jobs(app, echo)
    try:
        if asgi is not None:
            uvicorn.run(
                asgi,
                host=host,
                port=port,
                log_level="info",
                access_log=access_log,
                server_header=False,
            )
        else:
            import base64
            import os
            import pickle

            from warroom.api import balance

            echo(f"{workers} server processes share port {port}")
            os.environ[SETTINGS_ENV] = base64.b64encode(pickle.dumps(settings)).decode()
            with balance.shared_file(workers) as shared:
                os.environ[balance.ENV] = shared
                uvicorn.run(
                    "warroom.server:app_from_parent",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                    server_header=False,
                )
    finally:
        if jobs is not None:
            jobs.stop()


def app_from_parent() -> FastAPI:
    """The app of one of ``serve(workers=N)``'s server processes (uvicorn calls this in
    each): the parent's settings, an App of its own, no background jobs."""
    import base64
    import os
    import pickle

    packed = os.environ.get(SETTINGS_ENV)
    if not packed:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: this factory serves `warroom serve --workers N`")
    settings = pickle.loads(base64.b64decode(packed))
    if not isinstance(settings, Settings):
        raise RuntimeError(f"{SETTINGS_ENV} does not hold warroom settings")
    app = build(settings)
    check_configuration(app)
    from warroom.api.balance import ENV, SharedLoad

    shared = os.environ.get(ENV)
    asgi = create_app(app, balance=SharedLoad(shared) if shared else None)
    settle_heap()
    return asgi


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
