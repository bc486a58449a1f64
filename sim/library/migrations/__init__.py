"""Alembic migrations of the library's schema, run by :func:`sim.library.database.open_engine`."""
