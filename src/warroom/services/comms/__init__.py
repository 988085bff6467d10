"""Comms: the transactional outbox and its delivery, stakeholders, the job runner and the
reminders it fires. May import ``identity``, ``shared`` and ``ports``; not ``incidents``
(incident use cases call ``outbox.announce``, so comms sits below them)."""
