"""Alerts: the normalized signal, the webhook formats that become it (``formats``),
label matchers, and the policy that routes an alert and decides what it sets off.

May import ``incidents`` and ``shared``; never ``impact``, ``comms`` or ``learning``.
"""
