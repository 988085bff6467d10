"""Settings: ``warroom.toml`` plus environment overrides, read once by the entry points.

Nothing is read at import time. Relative paths in the file are relative to the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "warroom.toml"
DEFAULT_DB = "warroom.db"

# Every setting, with its meaning: the docs are generated from this and a test fails when
# a key read below is missing here.
DOCUMENTED: dict[str, str] = {
    "database_url": "SQLAlchemy URL; default sqlite:///warroom.db next to warroom.toml. Env: WARROOM_DATABASE_URL.",
    "catalog": "Path of the service catalog (catalog.yaml).",
    "database.pool_size": "PostgreSQL connections each process keeps open (5); replicas x server processes x (pool_size + max_overflow + 1) must stay under max_connections (docs/deploy.md).",
    "database.max_overflow": "PostgreSQL connections a process may open beyond pool_size under load, closed when returned (10).",
    "actor": "Default actor name for embedded CLI use. Env: WARROOM_ACTOR, else $USER.",
    "secret_key": "Signs web session cookies; set it so sessions survive restarts and work across replicas (warroom init writes a random one).",
    "severity.sev1_customer_share": "Customer impact share at or above which an incident is SEV1 (0.25).",
    "severity.sev2_customer_share": "Customer impact share for SEV2 (0.05).",
    "severity.sev1_financial_per_hour": "Financial loss per hour for SEV1 (100000).",
    "severity.sev2_financial_per_hour": "Financial loss per hour for SEV2 (10000).",
    "cadence.sev1_minutes": "Status update cadence of SEV1 incidents (15).",
    "cadence.sev2_minutes": "Status update cadence of SEV2 incidents (30).",
    "cadence.sev3_minutes": "Status update cadence of SEV3 incidents (60).",
    "cadence.sev4_minutes": "Status update cadence of SEV4 incidents (0 = none).",
    "roles.rotation_hours": "Hours after which a role holder is nudged to hand off (4).",
    "changes.window_hours": "How far before impact start changes are listed (6).",
    "readiness.threshold": "Lowest acceptable playbook readiness score (0-100) for `warroom readiness`; below it the command exits 1 (100).",
    "impact.prometheus_url": "Prometheus the impact probe reads indicators from (none: the probe is off, except for services with their own `prometheus_url` in the catalog).",
    "impact.timeout_seconds": "The longest one command (triage, a mitigation check, resolve) waits for all its Prometheus queries together (5).",
    "impact.step_seconds": "Resolution of the range queries, in seconds (15); raised automatically to stay under Prometheus's 11,000 points.",
    "impact.resolution_seconds": "How finely the probe looks again at the step before an indicator first left its SLO, in seconds (1), so `left_slo_at` is found at the resolution of the data rather than of `impact.step_seconds`.",
    "impact.baseline_window_minutes": "Length of the healthy window a baseline is taken from (10).",
    "impact.baseline_search_hours": "How far before impact start the probe looks for the last healthy window (6); failing that, the same window a day earlier.",
    "impact.trend_minutes": "How far back the trend (growing, stable, recovering) is fitted (10).",
    "impact.trend_noise": "A fitted change smaller than this share of the indicator's level reads as stable (0.1).",
    "impact.deviation_share": "A value deviates from its baseline when it is worse by more than this share of the gap between baseline and SLO (0.5); an indicator's `deviation` overrides it.",
    "impact.min_improvement_share": "A mitigation is effective when it closes at least this share of the SLO breach, or ends it (0.5); a breach growing by as much is worse.",
    "impact.verdict_window_seconds": "The window averaged before a mitigation and before its check (60).",
    "impact.resolve_window_minutes": "How long the indicators must have been back at baseline before resolve is allowed without --force (10).",
    "impact.chart_minutes": "How much history the room's impact charts show (60).",
    "impact.check_every_seconds": "How often the job runner looks for applied mitigations whose expected time to effect has passed, to check them against the metrics (30).",
    "alerts.declare": 'Declaration rules, `[[alerts.declare]]`, first match wins: name, matchers (label matchers such as `env!="staging"`), alert_severity (critical, error, warning, info), tier (the service tier or a more critical one), severity (SEV1..SEV4, required) and kind. Default: one rule, a critical alert on a tier-1 service declares SEV2. `declare = []` never declares; alerts then wait in `warroom signals`.',
    "alerts.scope_labels": 'Alert labels whose values make up the scope of an incident declared from alerts (["region", "route"]).',
    "hooks.pagerduty_rate_per_minute": "Events a minute each PagerDuty integration key (or token) may send to `/hooks/pagerduty/v2/...` before the answer is 429 with Retry-After, as PagerDuty's own limit (120); 0 = no limit.",
    "notify.base_url": "Public URL of warroom, for the incident links in notifications (none: no links).",
    "notify.channels": "Notification channels, `[[notify.channels]]`: name, type (slack, webhook, email), url, to, secret. See docs/notifications.md.",
    "notify.routes": "Routes, `[[notify.routes]]`: channels, and the filters max_severity, services, teams, kinds.",
    "notify.smtp.host": "SMTP server for email channels and email stakeholders (`[notify.smtp]`).",
    "notify.smtp.port": "SMTP port (25).",
    "notify.smtp.sender": "The From address (warroom@localhost).",
    "notify.smtp.timeout": "Seconds per SMTP operation (10).",
    "notify.smtp.starttls": "Upgrade the SMTP connection with STARTTLS (false).",
    "notify.smtp.username": "SMTP AUTH user (with password; use STARTTLS or a local relay).",
    "notify.smtp.password": "SMTP AUTH password.",
    "notify.timeout_seconds": "The most one webhook delivery attempt may take, connect to answer; later counts as failed and is retried (10).",
    "notify.channel_concurrency": "Attempts one channel may have in flight per worker; channels never wait on each other (2).",
    "notify.circuit_failures": "Consecutive failed attempts that open a channel's circuit: nothing is sent to it until the cool-down is over (5).",
    "notify.circuit_cooldown_seconds": "How long an open circuit waits before one probe attempt tries the channel again (60).",
    "notify.lease_seconds": "How long a worker owns a delivery it is sending; must exceed the slowest send (60).",
    "notify.max_attempts": "Delivery attempts before a notification is dead-lettered (8).",
    "notify.retry_base_seconds": "Wait after the first failed attempt; doubles per attempt (5).",
    "notify.retry_max_seconds": "Longest wait between attempts (600).",
    "jobs.in_server": "Run the background jobs inside `warroom serve` (true); false when `warroom worker` processes run them.",
    "jobs.interval_seconds": "How often the job runner wakes up and delivers due notifications (1). A runner inside `warroom serve` also wakes at once when an alert or a person opens a page; a separate `warroom worker` finds one within `jobs.poll_seconds`.",
    "jobs.poll_seconds": "Between rounds, how often the job runner reads whether a page step is due and, if so, runs the escalation tick and delivery at once (0.25): one indexed read, so a separate `warroom worker` pages within a fraction of a second.",
    "jobs.reminders_seconds": "How often overdue updates and due rotations are checked (30).",
    "jobs.followups_minutes": "How often overdue follow-ups are checked (10).",
    "jobs.lease_seconds": "How long one worker owns a scheduled job run before another may take over (300).",
    "jobs.oncall_seconds": "How often the escalation tick fires due page steps and delayed notifications (1); a page just opened in this process fires at once, whatever this says.",
    "oncall.commander": "When a page of an incident without a commander is acknowledged: `offer` the role to the person who acknowledged (default), `make` them commander, or `off`.",
    "oncall.ack_link_hours": "How long the one-tap acknowledgement link in a page stays valid (24). Links need `secret_key` and `notify.base_url`.",
    "subscribers.confirm_link_hours": "How long the status page's subscription confirmation link stays valid (48). Subscriptions need `secret_key` and `notify.base_url`; email ones also `[notify.smtp]`.",
    "subscribers.allow_private_webhooks": "Let subscriber webhook URLs name loopback or private addresses (false: only public hosts, against server-side request forgery).",
    "xray.source": "Where the X-ray reads traces: `embedded` (the OTLP receiver's own store, default), `off`, or a name under `[xray.sources]`.",
    "xray.sources": "Trace stores a team already runs, `[xray.sources.<name>]`: kind (jaeger or tempo) and url (Jaeger's query service, Tempo's HTTP API). See docs/xray.md.",
    "xray.ingest": "Accept OTLP/HTTP traces on `POST /v1/traces` into the embedded store (true).",
    "xray.timeout_seconds": "The longest one X-ray waits for its trace source, both windows together (5).",
    "xray.window_minutes": "The most of an incident's window the X-ray reads, its latest minutes (30).",
    "xray.baseline_minutes": "Length of the baseline window just before the incident's window (30).",
    "xray.client_timeout_ms": "A failed call this long counts as a timeout (5000): the clients' timeout.",
    "xray.amplification": "Calls per request at this multiple of the baseline's or more are retry amplification (1.5).",
    "xray.slow_ms": "Tail sampling keeps every trace with a span longer than this (2000), and every error trace.",
    "xray.baseline_percent": "Share of healthy traces tail sampling keeps, in percent (10); each stands for 100/percent traces.",
    "xray.decision_wait_seconds": "A trace is judged this long after its last span arrived (30).",
    "xray.retention_hours": "Spans older than this are deleted (24).",
    "xray.sample_every_seconds": "How often the job runner runs tail sampling and retention (30).",
    "xray.max_body_bytes": "Largest OTLP body after gzip is undone, in bytes (4194304); larger is 413.",
    "xray.max_spans_per_request": "Most spans one OTLP export may carry (10000); more is 413 and nothing is stored.",
    "xray.max_attribute_bytes": "Longest attribute value a span may carry (16384); longer is 400 and nothing is stored.",
    "accounts.password_profile": "Argon2 parameters of local account passwords: RFC_9106_LOW_MEMORY (default, 64 MiB), RFC_9106_HIGH_MEMORY (2 GiB) or CHEAPEST (tests only).",
    "oidc.issuer": "OpenID Connect provider's issuer URL; its `/.well-known/openid-configuration` is read. Setting it shows 'Sign in with <label>' on /login (docs/identity.md).",
    "oidc.client_id": "The client id registered at the provider (redirect URI `https://<warroom>/oidc/callback`).",
    "oidc.client_secret": "The client secret registered at the provider (confidential client; PKCE S256 too).",
    "oidc.label": "The sign-in button's label: 'Sign in with <label>' (SSO).",
    "oidc.allowed_domains": 'Email domains that may sign in, e.g. ["example.com"]; empty lets any verified address in.',
    "oidc.groups_claim": "The ID token claim holding the user's groups (groups; GitLab: groups_direct).",
    "oidc.roles": 'Groups mapped to roles, the highest wins: {admin = ["ops-admins"], responder = ["oncall"]}.',
    "oidc.default_role": "The role of a user in no mapped group (viewer).",
    "oidc.redirect_uri": "The callback URL registered at the provider when warroom sits behind a proxy (default: this request's /oidc/callback).",
    "oidc.scopes": "Scopes asked for (openid email profile; add groups where the provider needs it).",
    "followups.remind_every_hours": "Repeat a follow-up's overdue reminder this often until it is done (24).",
}


class SettingsError(Exception):
    """The configuration file is unreadable or holds a wrong value; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path | None = None
    catalog_path: Path | None = None
    actor: str = "cli"
    raw: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise SettingsError(f"[{name}] in {self.config_path} must be a table")
        return value

    def number(self, section: str, key: str, default: float) -> float:
        value = self.section(section).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SettingsError(f"{section}.{key} in {self.config_path} must be a number >= 0, not {value!r}")
        return float(value)


def find_config(start: Path, env: Mapping[str, str]) -> Path | None:
    explicit = env.get("WARROOM_CONFIG")
    if explicit:
        return Path(explicit)
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = find_config(cwd, env)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SettingsError(f"config file {path} does not exist (WARROOM_CONFIG)") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path} is not valid TOML: {exc}") from None
    base = path.parent if path else cwd
    url = env.get("WARROOM_DATABASE_URL") or raw.get("database_url") or f"sqlite:///{DEFAULT_DB}"
    if not isinstance(url, str):
        raise SettingsError(f"database_url in {path} must be a string")
    if not url.startswith(DATABASE_SCHEMES):
        where = "WARROOM_DATABASE_URL" if env.get("WARROOM_DATABASE_URL") else f"database_url in {path}"
        raise SettingsError(
            f"{where} must be a sqlite:///PATH or postgresql+psycopg://USER@HOST/DB URL, not {url[:60]!r}"
        )
    url = _absolute_sqlite(url, base)
    catalog = raw.get("catalog", "catalog.yaml")
    catalog_path = (base / catalog) if isinstance(catalog, str) else None
    actor = env.get("WARROOM_ACTOR") or raw.get("actor") or env.get("USER") or "cli"
    return Settings(database_url=url, config_path=path, catalog_path=catalog_path, actor=str(actor), raw=raw)


# The databases warroom runs on (DESIGN: SQLite embedded, PostgreSQL for an organization).
DATABASE_SCHEMES = ("sqlite://", "postgresql://", "postgresql+psycopg://")


def _absolute_sqlite(url: str, base: Path) -> str:
    """``sqlite:///warroom.db`` means next to the config file, not wherever the shell is."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url
