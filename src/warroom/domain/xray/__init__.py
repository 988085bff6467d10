"""The X-ray: spans of distributed traces (``spans``), which traces to keep (``sampling``),
and what they say about an incident (``analysis``: the call graph now vs a baseline, the
hop where errors originate, retries vs timeouts, amplification, and ``verdict``: the one
line a responder reads).

Pure: standard library only, no I/O, times as integers (microseconds since the epoch).
May import ``incidents`` and ``shared``; never ``alerts``, ``impact``, ``comms``,
``learning`` or ``oncall``.
"""
