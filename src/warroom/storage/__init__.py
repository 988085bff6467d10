"""Storage: SQLAlchemy Core tables, the unit of work, Alembic migrations.

The only package that imports SQLAlchemy. SQLite pragmas live in ``db.py``. The reads the
CLI's cold start needs are written once (``queries.py``, ``reads.py``); ``sqlite_read.py``
runs them with sqlite3 from their generated SQLite text (``read_sql.py``, see ``readgen.py``).
"""
