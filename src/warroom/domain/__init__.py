"""The domain: incidents, severity, roles, the ledger and mitigations.

Standard library only. It decides and never fetches: no I/O, no clock, no environment.
Time always comes in as an argument.
"""
