"""The room's attached alerts: each with its state, labels, runbook and generator links.

The incident's own timeline says which alerts are attached and whether each still fires
(``state.alerts``); the alert store adds what the source sent with them: labels,
annotations (``runbook_url``, ``description``) and the link back to the rule
(``generatorURL``). Links come from outside, so only ``http(s)`` URLs become links: a
``javascript:`` runbook must not run in a responder's browser. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from warroom.services.ports.alerts import AlertDetail

RUNBOOK_KEYS = ("runbook_url", "runbook", "playbook_url", "playbook")
MAX_URL = 2000


def safe_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL of sane length, else None."""
    if not isinstance(value, str) or len(value) > MAX_URL:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(c) < 33 for c in text):
        return None
    return text


def alert_rows(
    links: Mapping[str, Mapping[str, Any]], details: Sequence[AlertDetail]
) -> list[dict[str, Any]]:
    """One row per attached alert (``links``: the room view's ``alerts``), firing first."""
    by_fingerprint = {(d.record.source, d.record.fingerprint): d for d in details}
    rows = []
    for fingerprint, link in links.items():
        detail = by_fingerprint.get((str(link.get("source")), fingerprint))
        annotations = detail.annotations if detail else {}
        runbook = next((safe_url(annotations.get(key)) for key in RUNBOOK_KEYS if annotations.get(key)), None)
        rows.append(
            {
                "name": link.get("name"),
                "status": link.get("status"),
                "source": link.get("source"),
                "fingerprint": fingerprint,
                "service": link.get("service"),
                "starts_at": link.get("starts_at"),
                "ended_at": link.get("ended_at"),
                "summary": detail.record.summary if detail else "",
                "description": annotations.get("description", ""),
                "severity": detail.record.severity if detail else None,
                "labels": sorted(detail.record.labels.items()) if detail else [],
                "runbook": runbook,
                "generator": safe_url(detail.generator_url) if detail else None,
            }
        )
    rows.sort(key=lambda r: (r["status"] != "firing", r["starts_at"] or ""))
    return rows
