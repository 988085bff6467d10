"""Alerts: the normalized signal, the webhook formats that become it (``formats``),
label matchers, and what an alert sets off: ``routing`` (alert to service and team),
``transitions`` (per-alert), ``policy`` (the declaration rules), ``declaring`` (the
declaration and events from alerts) and ``records`` (stored alerts and silences).

May import ``incidents`` and ``shared``; never ``impact``, ``comms`` or ``learning``.
"""
