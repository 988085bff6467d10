"""On call: who is told when something breaks, and until when they are told again.

Owns the directory of people (contact methods, notification rules, time zones), the
schedules (rotations with hand-offs in a zone, layers, overrides), escalation policies
(ordered steps, repeats, the organization-wide fallback), pages (triggered ->
acknowledged -> resolved, re-triggered after an ack timeout), heartbeats and the load
figures of the report.

Standard library only (``zoneinfo`` for zones); decides, never fetches: every function
takes the time it needs as an argument. May import ``incidents`` and ``shared``; never
``alerts``, ``impact``, ``comms`` or ``learning``.
"""
