"""What every use case needs: the ``Context`` (unit of work, clock, policy, catalog) and
idempotent POSTs. Imports only ``ports`` and the domain."""
