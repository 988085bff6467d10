"""The ports through which use cases talk to the world; adapters implement them.

One module per context (``incidents``, ``alerts``, ``comms``, ``identity``, ``impact``,
``learning``) and ``uow`` for the unit of work that holds every store. Use cases depend on
these Protocols only, so the unit tests run them against honest in-memory fakes and the
product runs them against SQLAlchemy, httpx and SMTP. Ports import only the domain (for
annotations): they sit below every service context.
"""
