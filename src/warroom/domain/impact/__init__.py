"""The impact probe: time series (``series``), their arithmetic (``analysis``: baselines,
blast radius, estimates), where they are heading (``trend``), one reading (``probe``),
the measurement of an incident (``measurement``) and what it concludes about mitigations
and resolve (``checks``).

May import ``incidents`` and ``shared``; never ``alerts``, ``comms`` or ``learning``.
"""
