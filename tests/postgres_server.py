"""A throwaway PostgreSQL server for the library's tests: a new cluster in a temporary folder,
listening on the loopback address only, stopped and removed at the end of the test session.

``ADOPTION_TEST_POSTGRES`` (a server URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
uses a server already running instead.  Without either, the PostgreSQL half of the library's tests
is skipped with the reason — unless ``ADOPTION_TEST_POSTGRES_REQUIRED`` is set (as the CI sets it),
when it fails, so that a CI machine that lost its server is noticed.  PostgreSQL refuses to run as
root: as root, the server runs as the ``postgres`` user the distribution's package makes."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

URL_ENV = "ADOPTION_TEST_POSTGRES"
REQUIRED_ENV = "ADOPTION_TEST_POSTGRES_REQUIRED"


class NoPostgres(RuntimeError):
    """No PostgreSQL server can be had here, and why."""


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """A PostgreSQL cluster of the tests' own: :meth:`start`, :meth:`stop` (``immediate`` as a
    crash would), :meth:`remove`."""

    def __init__(self) -> None:
        bindir = _bin_dir()
        if bindir is None:
            raise NoPostgres("no PostgreSQL server programs (pg_ctl, initdb) here; on Debian or Ubuntu: "
                             "apt-get install postgresql")
        self.bindir = bindir
        self.as_user: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="library-postgres-"))
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise NoPostgres("running as root and no runuser to start PostgreSQL as another user")
            try:
                shutil.chown(self.folder, "postgres", "postgres")
            except (LookupError, PermissionError) as exc:
                raise NoPostgres(f"running as root and no 'postgres' user to run the server as ({exc})") from None
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bindir / program), *args], capture_output=True, text=True,
                              timeout=120)
        if done.returncode:
            raise NoPostgres(f"{program} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(NoPostgres):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[str, LocalServer | None]]:
    """The server's URL (and the server, when it is the tests' own)."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given, None
        return
    server = LocalServer()
    try:
        server.start()
        yield server.url, server
    finally:
        server.remove()


def new_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"library_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            db.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
