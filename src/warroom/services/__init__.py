"""Use cases: one function per command, each owning its transaction.

Packages mirror the domain's contexts; each use case talks to the world only through the
Protocols in ``ports``. From the bottom up (import-linter contract "Service contexts"):

- ``ports``: the Protocols adapters implement, one module per context, and the unit of work.
- ``shared``: the use-case context (unit of work, clock, policy, catalog) and idempotent POSTs.
- ``identity``: API tokens and roles.
- ``comms``: the transactional outbox, stakeholders, the job runner and reminders.
- ``incidents``: commands on incidents, changes, JSON views, operational counts.
- ``alerts``, ``impact``, ``learning``: ingest and the triage queue, the impact probe,
  postmortems and the review. Each may use the layers below, never each other.
- ``operations``: the one facade the entry points call for the room (plain inputs, JSON
  views out), across incidents, impact and comms.
"""
