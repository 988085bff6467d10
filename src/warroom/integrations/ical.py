"""On-call shifts as an iCalendar feed (RFC 5545, written with the ``icalendar`` library).

One VEVENT per shift: a stable UID (schedule, person, start), start and end in UTC, the
person and the schedule in the summary, "override" in the description when it is one.
Calendar apps poll the feed; a changed rotation shows on their next poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event

from warroom.domain.oncall.schedules import Shift

PRODID = "-//warroom//on call//EN"


def shifts_calendar(name: str, shifts: Sequence[tuple[str, Shift]], now: datetime) -> bytes:
    """``shifts`` as (schedule, shift) pairs; ``name`` titles the calendar."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"On call: {name}")
    for schedule, shift in shifts:
        event = Event()
        event.add("uid", f"{schedule}.{shift.person}.{shift.start:%Y%m%dT%H%M%SZ}@warroom")
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("summary", f"On call: {shift.person} ({schedule})")
        note = f"layer {shift.source}" if not shift.override else "override"
        event.add("description", f"{shift.person} is on call for {schedule} ({note}).")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
