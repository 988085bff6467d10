"""The incident: its events, the state folded from them, the commands that validate
against that state, severity from impact, roles, mitigations, changes, the catalog and
the hash chain that makes the timeline tamper-evident.

The core every other context reads. May import ``shared`` only.
"""
