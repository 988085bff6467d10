"""Learning's use cases: postmortems, follow-ups, the reliability review, readiness and
history import, and their JSON operations for the entry points. May import ``incidents``
and below; never ``alerts`` or ``impact``."""
