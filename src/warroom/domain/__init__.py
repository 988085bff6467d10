"""The domain: what warroom decides, one package per context.

Standard library only. It decides and never fetches: no I/O, no clock, no environment;
time always comes in as an argument.

- ``shared``: time, free text, errors, plain-data round trips. Knows no context.
- ``incidents``: the core. Lifecycle, severity, roles, the ledger and its hash chain,
  mitigations, changes near an incident, the service catalog.
- ``alerts``: webhook formats, routing, per-alert transitions, declaration rules.
- ``impact``: the probe's arithmetic (baselines, trends, blast radius) and verdicts.
- ``comms``: notifications, stakeholders, prefilled updates, reminders.
- ``learning``: postmortems, the blameless lint, follow-ups, the reliability review.

``alerts``, ``impact``, ``comms`` and ``learning`` may import ``incidents`` and
``shared``, never each other (import-linter contract "Domain contexts" in pyproject.toml).
A new capability is a new context package here, not more files in an existing one.
"""
