"""Comms: what people are told and when. Notifications and channels, the announcement
each event makes, stakeholders, prefilled updates and due reminders.

May import ``incidents`` and ``shared``; never ``alerts``, ``impact`` or ``learning``.
"""
