"""Opening the library's database: SQLite in a file by default, any SQLAlchemy URL (PostgreSQL
with psycopg, for a shared server) through ``ADOPTION_LIBRARY``.

A database is opened only if it is this project's library or empty: its schema is brought up to
date by the migrations (never by dropping a table), and anything else — another program's
database, a file that is not a database, a library newer than this program — is refused with a
message saying what it is and what to do, and left as it was.  SQLite runs with foreign keys on,
write-ahead logging (readers do not wait for a writer) and a busy timeout, so that two sessions
saving at once both succeed, one after the other."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, OperationalError

from sim.library.tables import APPLICATION, library_info

#: The environment variable with the library's SQLAlchemy URL.
LIBRARY_ENV = "ADOPTION_LIBRARY"
PROJECT_DIR = Path(__file__).resolve().parents[2]
#: Where the library lives when no URL is given: a SQLite file in the project's folder (not tracked).
DEFAULT_FILE = PROJECT_DIR / "library" / "adoption-library.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 10


class LibraryError(RuntimeError):
    """The library cannot be opened or used, and why, in words a user can act on."""


def library_url(url: str | None = None) -> str:
    """The URL given, else ``$ADOPTION_LIBRARY``, else the default SQLite file."""
    return url or os.environ.get(LIBRARY_ENV) or f"sqlite:///{DEFAULT_FILE}"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def open_engine(url: str | None = None) -> Engine:
    """An engine on the library at ``url`` (see :func:`library_url`), its schema up to date."""
    url = library_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LibraryError(f"{LIBRARY_ENV}: {url!r} is not a database URL; give one like sqlite:///path/library.sqlite3 "
                           "or postgresql+psycopg://user@host/dbname") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    where = parsed.render_as_string(hide_password=True)
    if sqlite and parsed.database:
        _check_sqlite_file(Path(parsed.database), where)  # read only: a file that is not ours is never touched
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # a server that does not answer is given up on after CONNECT_TIMEOUT_S, not waited for without end
    postgres = parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2")
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else
                           {"connect_timeout": CONNECT_TIMEOUT_S} if postgres else {})
    if sqlite:
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
    try:
        with engine.begin() as connection:
            _check_whose(connection, where)
            config = _alembic_config()
            config.attributes["connection"] = connection
            head = ScriptDirectory.from_config(config).get_current_head()
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current != head and not _known(config, current):
                raise LibraryError(f"{where}: a library made by a newer version of this program (schema {current}); "
                                   "upgrade this program to open it")
            if current != head:
                command.upgrade(config, "head")
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        reason = reason_of(exc)
        if not sqlite and unreachable(exc):
            raise LibraryError(f"{where}: the library's database server cannot be reached ({reason}); check "
                               f"{LIBRARY_ENV} and that the server is running") from None
        raise LibraryError(f"{where}: not a database this program can open ({reason}); it was "
                           f"left as it was — choose another file with {LIBRARY_ENV}") from None
    except LibraryError:
        engine.dispose()
        raise
    return engine


def reason_of(exc: DBAPIError) -> str:
    """The database's own first line about what went wrong (the error's name if it said nothing)."""
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc.orig if exc.orig is not None else exc).__name__


def unreachable(exc: DBAPIError) -> bool:
    """Whether the error says the database server could not be reached, or dropped the connection."""
    reason = reason_of(exc).lower()
    return exc.connection_invalidated or "connect" in reason or "terminat" in reason


def _check_sqlite_file(path: Path, where: str) -> None:
    """Refuse, reading it only, an SQLite file that is not a database or not this project's library."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            names = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
            mark = (db.execute("select value from library_info where key = 'application'").fetchone()
                    if "library_info" in names else None)
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"{where}: not a database this program can open ({exc}); it was left as it was — "
                           f"choose another file with {LIBRARY_ENV}") from None
    if names and "library_info" not in names:
        raise LibraryError(f"{where}: holds other tables ({', '.join(sorted(names)[:5])}), not a library of this "
                           f"program; it was left as it was — choose another file with {LIBRARY_ENV}")
    if names and (mark is None or mark[0] != APPLICATION):
        raise LibraryError(f"{where}: another program's library ({mark[0] if mark else None!r}); it was left as it "
                           f"was — choose another file with {LIBRARY_ENV}")


def _known(config: Config, revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except Exception:  # an unknown revision: the library is newer than this program
        return False


def _check_whose(connection, where: str) -> None:
    """Refuse a database with tables that is not this project's library."""
    names = set(inspect(connection).get_table_names())
    if not names:
        return
    if "library_info" not in names:
        raise LibraryError(f"{where}: holds other tables ({', '.join(sorted(names)[:5])}), not a library of this "
                           f"program; it was left as it was — choose another file with {LIBRARY_ENV}")
    mark = connection.execute(select(library_info.c.value).where(library_info.c.key == "application")).scalar()
    if mark != APPLICATION:
        raise LibraryError(f"{where}: another program's library ({mark!r}); it was left as it was — choose another "
                           f"file with {LIBRARY_ENV}")
