"""Alert ingest and the triage queue of signals. May import ``incidents`` and below;
never ``impact`` or ``learning``."""
