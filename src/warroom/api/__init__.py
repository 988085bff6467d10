"""The REST API under ``/api/v1`` and the operations endpoints; see :func:`install`."""
