"""``warroom demo --live``: a real fault, measured by a real Prometheus, end to end.

It starts demo-shop, Prometheus and Alertmanager on 127.0.0.1 (``warroom.devstack``) and
warroom's own server in a thread, so Alertmanager's webhook reaches ``/hooks/alertmanager``
and the alert declares the incident. demo-shop exports its checkout traces to the same
server over OTLP/HTTP (when the OpenTelemetry SDK is installed), so after triage the X-ray
names the failing hop (payments → adyen, timing out and retried) and pins it as a fact.
Then: triage points at the faulty region, the prepared feature-flag mitigation is applied, the impact probe verifies it, and the
incident resolves once its indicators are back at baseline. Everything it started is
stopped at the end (by PID), and the ingest token it made is revoked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.cli import render
from warroom.domain.impact.probe import ProbePolicy

# Windows sized for the shop's 1 s scrapes and 5 s rates, so the demo takes about a minute.
DEMO_PROBE = ProbePolicy(
    step=timedelta(seconds=1),
    baseline_window=timedelta(seconds=5),
    baseline_search=timedelta(minutes=2),
    trend_lookback=timedelta(seconds=15),
    verdict_window=timedelta(seconds=3),
    resolve_window=timedelta(seconds=8),
    chart_window=timedelta(minutes=3),
    chart_points=90,
    stale_after=timedelta(seconds=5),
    timeout=3.0,
)
ALERT = "DemoHighErrorRatio"
FLAG = "new_payment_flow"


class DemoFailed(Exception):
    """A step of the live demo did not happen in time; the message says which."""


def live_context(ctx: Any, prometheus_url: str) -> Any:
    """``ctx`` reading demo-shop's catalog and the stack's Prometheus with the demo's windows."""
    from warroom.devstack import shop_dir
    from warroom.integrations.catalog_file import read_catalog
    from warroom.integrations.prometheus_metrics import PrometheusMetrics

    catalog = read_catalog(shop_dir() / "catalog.yaml")
    return dataclasses.replace(
        ctx,
        metrics=PrometheusMetrics(prometheus_url, DEMO_PROBE.timeout),
        probe=DEMO_PROBE,
        load_catalog=lambda: catalog,
    )


@contextmanager
def _server(app: Any, port: int) -> Iterator[str]:
    """warroom's HTTP server (API, hooks, web room) in a thread, stopped on exit."""
    import uvicorn

    from warroom.server import create_app

    config = uvicorn.Config(
        create_app(app), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="warroom-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoFailed(f"warroom's server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _wait(what: str, seconds: float, check: Callable[[], Any], *, every: float = 0.5) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise DemoFailed(f"{what} did not happen within {seconds:g} s")


def tracing_available() -> str:
    """Why demo-shop cannot export traces ("" when it can): the OpenTelemetry SDK and its
    OTLP/HTTP exporter are the ``demo`` extra, not needed by warroom itself."""
    from importlib.util import find_spec

    for module in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"):
        try:
            if find_spec(module) is None:
                raise ImportError(module)
        except ImportError:
            return f"{module} is not installed (pip install 'warroom[demo]')"
    return ""


def _hooks_available() -> bool:
    try:
        from warroom.api.hooks import build_hooks_router  # noqa: F401
    except ImportError:
        return False
    return True


class LiveDemo:
    def __init__(self, settings: Any, actor: str, *, as_json: bool) -> None:
        self.settings = settings
        self.actor = actor
        self.as_json = as_json
        self.said: list[str] = []
        self.no_traces = ""  # why demo-shop exports no traces ("" when it does)

    def say(self, text: str, style: str = "") -> None:
        self.said.append(text)
        if not self.as_json:
            render.console.print(text, style=style)

    def step(self, title: str) -> None:
        if not self.as_json:
            render.console.rule(f"[bold]{title}")

    def play(self) -> dict[str, Any]:
        from warroom.bootstrap import App, build
        from warroom.devstack import PromStack, free_port
        from warroom.services.identity import auth

        hooks = _hooks_available()
        port = free_port()
        base = build(self.settings)
        token_name = f"alertmanager-demo-{os.getpid()}-{int(time.time())}"
        token = auth.create_token(base.context, token_name, "ingest", "alertmanager")[0] if hooks else ""
        webhook = f"http://127.0.0.1:{port}/hooks/alertmanager?token={token}" if hooks else None
        traced = ""
        self.no_traces = tracing_available() if hooks else "the server cannot be started in this build"
        if not self.no_traces:
            traced = auth.create_token(base.context, f"{token_name}-otlp", "ingest", "otlp")[0]
        self.step("Start demo-shop, Prometheus and Alertmanager on 127.0.0.1")
        try:
            with PromStack(
                webhook_url=webhook,
                otlp_endpoint=f"http://127.0.0.1:{port}/v1/traces" if traced else None,
                otlp_token=traced or None,
            ) as stack:
                self.say(
                    f"shop {stack.shop_url}  prometheus {stack.prometheus_url}  alertmanager {stack.alertmanager_url}"
                )
                ctx = live_context(base.context, stack.prometheus_url)
                app = App(settings=self.settings, context=ctx)
                if not hooks:
                    return self._run(ctx, stack, None)
                with _server(app, port) as url:
                    self.say(f"warroom server {url} (Alertmanager posts to {url}/hooks/alertmanager)")
                    return self._run(ctx, stack, url)
        finally:
            for name in (token_name, f"{token_name}-otlp") if token else ():
                with suppress(Exception):
                    auth.revoke_token(base.context, name)

    def _run(self, ctx: Any, stack: Any, url: str | None) -> dict[str, Any]:
        from warroom.cli.triage import checks, measurement
        from warroom.services import operations as ops

        self.step("A healthy stretch, for the baseline")
        time.sleep(DEMO_PROBE.baseline_window.total_seconds() + 3)

        self.step("Fault: new_payment_flow fails 40% of eu-west checkouts")
        before = {row["id"] for row in ops.list_incidents(ctx, {"service": "demo-shop", "limit": 1000})}
        stack.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4, flag=FLAG)
        ops.add_change(
            ctx,
            self.actor,
            {"service": "demo-shop", "kind": "flag", "summary": f"{FLAG} turned on", "source": "demo"},
        )
        self.say(f"injected at {datetime.now(UTC):%H:%M:%S}Z; waiting for {ALERT} to fire (for: 10s)")
        ref = self._declared(ctx, stack, before, url is not None)
        room = ops.show(ctx, ref)
        if not self.as_json:
            render.declared(room)
            render.console.print(
                f"detected_at {room['milestones']['detected_at']['at']} ({room['milestones']['detected_at']['evidence']})"
            )
            if url:
                render.console.print(f"room: {url}/incidents/{ref}")

        self.step("Triage: measure impact against the last healthy baseline")
        ops.assign_role(ctx, self.actor, ref, {"role": "commander", "person": "alice"})
        triage = ops.triage(ctx, self.actor, ref, {})
        if not self.as_json:
            measurement(triage)
        self._localized(triage)
        xray = self._xray(ctx, ref)

        self.step("Mitigate: the prepared, lowest-risk action")
        room = ops.propose(ctx, self.actor, ref, {"prepared": 1})
        mitigation = room["mitigations"][-1]
        if mitigation.get("authority"):
            ops.approve(ctx, self.actor, ref, {"mitigation": mitigation["ref"]})
        ops.apply(ctx, self.actor, ref, {"mitigation": mitigation["ref"]})
        stack.set_flag(FLAG, enabled=False)
        wait = mitigation["expected_minutes"] * 60
        self.say(f"{mitigation['ref']} applied: {mitigation['title']}; the probe re-checks in {wait:g} s")
        time.sleep(wait)

        self.step("Verify: the impact probe re-checks the metrics")
        check = ops.mitigation_check(ctx, self.actor, ref, {"mitigation": mitigation["ref"]})
        if not self.as_json:
            checks(check)
        verdicts = [c["verdict"] for c in check.get("checks", [])]
        if verdicts != ["effective"]:
            raise DemoFailed(f"the mitigation was judged {verdicts or check['summary']}, not effective")
        ops.mitigated(ctx, self.actor, ref, {"evidence": check["checks"][0]["note"]})

        self.step("Resolve: only once the indicators are back at baseline")
        final = self._resolve(ctx, ref)
        verified = ops.verify(ctx, ref)
        if self.as_json:
            print(
                json.dumps(
                    {"incident": final, "triage": triage, "xray": xray, "check": check, "verify": verified},
                    indent=2,
                    sort_keys=True,
                )
            )
        else:
            render.room(final)
            render.verified(verified)
            render.console.print(f"\nNext: warroom timeline {ref} | warroom triage {ref} --last")
        return dict(final)

    def _declared(self, ctx: Any, stack: Any, before: set[str], hooked: bool) -> str:
        from warroom.services import operations as ops

        def new_incident() -> str | None:
            rows = ops.list_incidents(ctx, {"service": "demo-shop", "open": True, "limit": 1000})
            fresh = [row["id"] for row in rows if row["id"] not in before]
            return fresh[0] if fresh else None

        def firing() -> dict[str, Any] | None:
            active = [a for a in stack.alerts(ALERT) if a.get("status", {}).get("state") == "active"]
            return active[0] if active else None

        alert = _wait(f"{ALERT} firing in Alertmanager", 40, firing)
        self.say(f"{ALERT} firing since {alert['startsAt']}: {alert['annotations'].get('summary', '')}")
        if hooked:
            found = _wait_quietly(20, new_incident)
            if found:
                self.say("the alert declared the incident through /hooks/alertmanager")
                return str(found)
            self.say(
                "the alert declared nothing (check [[alerts.declare]]); declaring from it by hand", "yellow"
            )
        else:
            self.say(
                "alert ingestion is not available in this build: declaring from Alertmanager's API", "yellow"
            )
        return self._declare_from(ctx, alert)

    def _declare_from(self, ctx: Any, alert: dict[str, Any]) -> str:
        from warroom.domain.incidents.commands import Declaration
        from warroom.domain.incidents.severity import IncidentKind
        from warroom.domain.shared.timefmt import parse_time
        from warroom.services.incidents import commands as cases

        labels = alert["labels"]
        decl = Declaration(
            title=alert["annotations"].get("summary") or "demo-shop failing",
            kind=IncidentKind.AVAILABILITY,
            services=["demo-shop"],
            scope=f"{labels.get('region', '?')}, {labels.get('route', '?')}",
            symptom=alert["annotations"].get("description", ""),
            detected_at=parse_time(alert["startsAt"], "startsAt"),
            detected_evidence=f"Alertmanager alert {ALERT} startsAt",
        )
        return cases.declare_incident(ctx, decl, self.actor).ref

    def _localized(self, triage: dict[str, Any]) -> None:
        if triage.get("status") not in ("measured", "partial"):
            raise DemoFailed(f"triage measured nothing: {triage['summary']}")
        for service in triage["services"]:
            for ind in service["indicators"]:
                for radius in ind.get("blast_radius", []):
                    if radius["dimension"] == "region" and radius["localized"]:
                        worst = radius["deviating"][0]["slice"]
                        self.say(f"triage points at {worst}", "bold")
                        return
        self.say("triage found no single faulty region", "yellow")

    def _xray(self, ctx: Any, ref: str) -> dict[str, Any]:
        """The X-ray of the checkout traces: the failing hop, retries vs timeouts; the verdict
        is pinned as a fact. Without traces it says why in one line and the demo goes on."""
        from warroom.cli.xray import report
        from warroom.services import operations as ops

        self.step("X-ray: where do the failed checkouts fail, retries or timeouts?")
        if self.no_traces:
            self.say(f"X-ray skipped: demo-shop exports no traces ({self.no_traces})", "yellow")
            return {"status": "degraded", "verdict": f"degraded: {self.no_traces}"}

        def failing_hop() -> dict[str, Any] | None:
            view = ops.xray(ctx, ref)
            return view if view["status"] == "ok" and view.get("origins") else None

        # The shop's batch exporter sends every second; the first failed traces are there
        # within a few seconds of the fault.
        view = _wait_quietly(15, failing_hop) or ops.xray(ctx, ref)
        if not self.as_json:
            report(view)
        if view["status"] == "ok" and view.get("findings"):
            pinned = ops.xray_pin(ctx, self.actor, ref, {"finding": 0})
            self.say(f"pinned as fact {pinned['fact']}: {pinned['text']}", "bold")
        else:
            self.say(f"the X-ray found nothing to pin: {view['verdict']}", "yellow")
        return dict(view)

    def _resolve(self, ctx: Any, ref: str) -> dict[str, Any]:
        from warroom.domain.shared.errors import InvalidTransition
        from warroom.services import operations as ops

        body = {
            "summary": f"{FLAG} turned off; the fix ships before it is turned on again",
            "impact_stopped": True,
            "risk_controlled": True,
            "final_update": "Resolved: the shop works normally again.",
        }
        deadline = time.monotonic() + DEMO_PROBE.resolve_window.total_seconds() + 20
        while True:
            try:
                return dict(ops.resolve(ctx, self.actor, ref, body))
            except InvalidTransition as refused:
                if time.monotonic() > deadline:
                    raise
                self.say(f"refused: {refused.message}", "yellow")
                time.sleep(DEMO_PROBE.resolve_window.total_seconds() / 2)


def _wait_quietly(seconds: float, check: Callable[[], Any]) -> Any:
    try:
        return _wait("", seconds, check)
    except DemoFailed:
        return None


def play(settings: Any, actor: str, *, as_json: bool = False) -> dict[str, Any]:
    """Run the live demo; raises ``DemoFailed`` or ``StackError`` when a step fails."""
    return LiveDemo(settings, actor, as_json=as_json).play()
