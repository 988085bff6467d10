"""What every context uses: aware-UTC time, validated free text, the domain's errors and
plain-data round trips.

Imports the standard library only; no other context.
"""
