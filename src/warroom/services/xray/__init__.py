"""The X-ray's use cases: take spans in (``ingest``), keep the store bounded
(``retention``: tail sampling and retention), and X-ray an incident (``report``).

May import the ``incidents`` and ``shared`` services and the ports; it sits beside
``alerts``, ``impact`` and ``learning``.
"""
