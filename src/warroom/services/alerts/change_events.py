"""Change events (CloudEvents deploys, flag flips, config pushes) from the ``changes`` webhook.

:func:`record_change_events` validates every change of a body first, then stores them all
in one transaction, deduplicated on (source, id): a redelivery stores nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence

from warroom.domain.alerts.formats import ChangeSignal
from warroom.domain.incidents.changes import FUTURE_SLACK, Change, ChangeKind
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.text import require_text
from warroom.domain.shared.timefmt import iso
from warroom.services.shared.context import Context

MAX_DEDUP = 600  # the changes.dedup column


def record_change_events(
    ctx: Context, signals: Sequence[ChangeSignal], actor: str, *, source: str = "cloudevents"
) -> list[tuple[Change, bool]]:
    """Validate every change first, then store them all in one transaction (dedup on key).

    ``source`` is recorded with each change: ``cloudevents`` (``/hooks/changes``) or
    ``pagerduty`` (the Change Events API)."""
    now = ctx.clock.now()
    unique = list({s.dedup_key: s for s in signals}.values())
    items = []
    for signal in unique:
        at = signal.at or now
        if len(signal.dedup_key) > MAX_DEDUP:
            raise ValidationError("id", f"source and id together must be shorter than {MAX_DEDUP} characters")
        if at > now + FUTURE_SLACK:
            raise ValidationError("time", f"{iso(at)} is in the future (now is {iso(now)})")
        items.append(
            Change(
                service=require_text(signal.service, "data.service", limit=100),
                kind=ChangeKind(signal.kind),
                at=at,
                summary=require_text(signal.summary, "summary", limit=ctx.policy.max_text),
                actor=require_text(actor, "actor", limit=120),
                source=source,
                dedup=signal.dedup_key,
                details=dict(signal.details),
            )
        )
    with ctx.uow() as uow:
        stored = uow.alerts.add_changes(items)
        uow.commit()
    return stored
