"""The impact probe's use cases: measure an incident, check mitigations, gate resolve.
May import ``incidents`` and below; never ``alerts`` or ``learning``."""
