"""On-call use cases: the directory, schedules, policies, pages and heartbeats.

Pages open from declared incidents (:func:`warroom.services.oncall.pages.page_incident`,
called inside the declaring transaction), by hand, or when a heartbeat falls silent; the
escalation tick (a job in the job runner) fires their due steps, each exactly once across
workers, and writes the notifications into the transactional outbox. May import
``incidents``, ``comms`` and ``shared``.
"""
