"""The scenario library: scenarios, their runs' results and comparisons kept in a database, so that
what one planner saved the next one finds, with the same figures (SQLite in a file by default; any
SQLAlchemy URL for a shared server)."""
