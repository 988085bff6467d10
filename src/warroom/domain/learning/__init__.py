"""Learning: the structured postmortem (draft, timeline, Markdown), the blameless lint,
follow-ups, playbook readiness, history imported from other tools and the reliability
review.

May import ``incidents`` and ``shared``; never ``alerts``, ``impact`` or ``comms``.
"""
