"""Storage: SQLAlchemy Core tables, the unit of work, Alembic migrations.

The only package that imports SQLAlchemy. SQLite pragmas live in ``db.py``.
"""
