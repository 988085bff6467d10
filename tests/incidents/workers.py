"""Code that runs in child processes of the concurrency tests (importable, picklable)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class BarrierClock:
    """A clock whose first ``now()`` waits until every process has reached it.

    ``services.incidents.execute`` reads the clock after loading the incident and before
    appending, so every process holds the same loaded version when the appends race.
    """

    def __init__(self, barrier: Any) -> None:
        self._barrier = barrier
        self._waited = False

    def now(self) -> datetime:
        if not self._waited:
            self._waited = True
            self._barrier.wait(timeout=60)
        return datetime.now(UTC)


def hand_off_commander(url: str, person: str, barrier: Any, results: Any) -> None:
    """Hand the commander role of INC-1 to ``person``; report ``(person, outcome, message)``."""
    from warroom.bootstrap import build
    from warroom.domain.incidents.state import Role
    from warroom.domain.shared.errors import ConcurrencyConflict
    from warroom.services.incidents import commands as cases
    from warroom.settings import Settings

    app = build(Settings(database_url=url), migrate=False, clock=BarrierClock(barrier))
    try:
        cases.hand_off_role(app.context, "INC-1", person, Role.COMMANDER, person, f"{person} takes over")
        results.put((person, "won", ""))
    except ConcurrencyConflict as exc:
        results.put((person, "conflict", exc.message))
    except Exception as exc:  # reported, so the test fails with the reason instead of hanging
        results.put((person, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
