"""Outbox operations with plain inputs and JSON views out, for the CLI (both modes) and
the API: ``warroom outbox list`` is ``GET /api/v1/outbox``, ``warroom outbox retry`` is
``POST /api/v1/outbox/retry``, and both answer the same document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import iso
from warroom.services.comms import outbox
from warroom.services.ports.comms import Delivery
from warroom.services.shared.context import Context

View = dict[str, Any]
MAX_ID = 2**63 - 1


def delivery_view(d: Delivery) -> View:
    n = d.notification
    return {
        "id": d.id,
        "status": d.status,
        "channel": d.channel,
        "kind": n.kind,
        "incident": n.incident,
        "key": n.key,
        "title": n.headline,
        "attempts": d.attempts,
        "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending" else None,
        "last_error": d.last_error,
        "created_at": iso(d.created_at),
        "delivered_at": iso(d.delivered_at) if d.delivered_at else None,
    }


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValidationError(field, f"must be {low}..{high}")
    return number


def outbox_list(ctx: Context, body: Mapping[str, Any]) -> list[View]:
    """Deliveries, newest first: ``status`` dead (default), pending, delivered or all."""
    status = str(body.get("status") or "dead").strip().lower()
    limit = _int(body.get("limit", 100), "limit", 1, 10_000)
    return [delivery_view(d) for d in outbox.list_deliveries(ctx, status, limit)]


def outbox_retry(ctx: Context, body: Mapping[str, Any]) -> View:
    """Make dead deliveries (``ids``, or every one with ``all_dead``) due again."""
    raw = body.get("ids") or []
    if not isinstance(raw, list | tuple):
        raise ValidationError("ids", "must be a list of delivery ids")
    ids = [_int(value, "ids", 1, MAX_ID) for value in raw]
    return {"retried": outbox.retry_deliveries(ctx, ids, all_dead=bool(body.get("all_dead")))}


def subscriber_list(ctx: Context, body: Mapping[str, Any]) -> list[View]:
    """The status page's subscribers, oldest first."""
    from warroom.services.comms import subscribers

    return subscribers.list_subscribers(ctx, _int(body.get("limit", 1000), "limit", 1, 10_000))


def subscriber_remove(ctx: Context, body: Mapping[str, Any]) -> View:
    """Remove a subscriber by id (nothing about it is kept)."""
    from warroom.services.comms import subscribers

    return subscribers.remove_subscriber(ctx, _int(body.get("id"), "id", 1, MAX_ID))


Handler = Callable[[Context, str, Mapping[str, Any]], Any]

# The CLI's embedded backend: operation name -> handler(ctx, actor, body).
EMBEDDED: dict[str, Handler] = {
    "outbox_list": lambda ctx, actor, body: outbox_list(ctx, body),
    "outbox_retry": lambda ctx, actor, body: outbox_retry(ctx, body),
    "subscriber_list": lambda ctx, actor, body: subscriber_list(ctx, body),
    "subscriber_remove": lambda ctx, actor, body: subscriber_remove(ctx, body),
}
