"""Nothing lost: an upgrade keeps what was saved, a save cut off half-way (the process killed, the
database server stopped, the disk full) leaves the library as it was, and says so.  On SQLite and
on PostgreSQL (tests/postgres_server.py)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from alembic import command
from sqlalchemy import event

from sim.library.database import _alembic_config, open_engine
from sim.library.store import Library, LibraryError
from sim.run.runner import run_scenario
from sim.scenario.files import load_scenario, to_toml
from tests.conftest import small

# A planner's save, stopped in the middle: the comparison's row is written, its scenarios are not.
HALF_SAVE = textwrap.dedent("""
    import sys, time
    from sqlalchemy import event
    from sim.library.store import Library, LibraryError
    library = Library(sys.argv[1])
    ids = [s.id for s in library.scenarios()]

    @event.listens_for(library.engine, "after_cursor_execute")
    def pause(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO COMPARISONS"):
            print("half-way", flush=True)
            time.sleep(float(sys.argv[2]))

    try:
        library.save_comparison("Cut off", ids, ids[0], years=5)
    except LibraryError as exc:
        print(exc, flush=True)
""")


def _start_half_save(url: str, pause_s: float) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HALF_SAVE, url, str(pause_s)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "half-way"
    return child


def _saved_two(url: str) -> Library:
    library = Library(url)
    for title in ("Baseline", "Recruit 65"):
        library.save_scenario(load_scenario(), title)
    return library


def test_a_save_cut_off_by_the_process_stopping_leaves_the_library_as_it_was(library_url):
    _saved_two(library_url)
    child = _start_half_save(library_url, 60)
    child.send_signal(signal.SIGKILL)  # the app's server stopped mid-save
    child.wait(30)
    again = Library(library_url)  # the next start finds a whole library
    assert [s.title for s in again.scenarios()] == ["Recruit 65", "Baseline"]
    assert again.comparisons() == []  # no comparison without its scenarios
    cid = again.save_comparison("Saved after", [1, 2], 1, years=5)
    assert again.comparison(cid).scenario_ids == (1, 2)
    if library_url.startswith("sqlite"):
        with sqlite3.connect(library_url.removeprefix("sqlite:///")) as db:
            assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_a_save_cut_off_by_the_database_server_stopping_is_refused_whole(postgres):
    from tests.postgres_server import new_database

    server_url, server = postgres
    if server is None:
        pytest.skip("the database server is not the tests' own, so it cannot be stopped")
    url = new_database(server_url)
    _saved_two(url)
    child = _start_half_save(url, 3)
    server.stop("immediate")  # the database server stops as in a power cut
    said = child.communicate(timeout=60)[0]
    server.start()
    assert "the comparison was not saved: the library's database server stopped answering" in said
    assert "the library is as it was before" in said
    again = Library(url)
    assert [s.title for s in again.scenarios()] == ["Recruit 65", "Baseline"] and again.comparisons() == []


def test_a_full_disk_saves_nothing_and_says_so(tmp_path):
    path = tmp_path / "library.sqlite3"
    library = _saved_two(f"sqlite:///{path}")
    pages = sqlite3.connect(path).execute("pragma page_count").fetchone()[0]

    @event.listens_for(library.engine, "connect")
    def no_more_room(dbapi_connection, _record):  # the disk fills: SQLite may not grow the file
        dbapi_connection.execute(f"pragma max_page_count = {pages + 2}")

    library.engine.dispose()
    run = run_scenario(small(years=3, reps=40))
    with pytest.raises(LibraryError, match="the run's results was not saved: the disk holding the library is full"):
        library.save_results(run)
    with pytest.raises(LibraryError, match="the disk holding the library is full.*as it was before"):
        library.save_scenario(load_scenario(), "x" * 300, note="y" * 20_000)
    assert [s.title for s in library.scenarios()] == ["Recruit 65", "Baseline"]
    assert library.results_for(run.scenario, 40, 3) is None
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_an_upgrade_keeps_every_saved_scenario_and_comparison(tmp_path):
    url = f"sqlite:///{tmp_path}/library.sqlite3"
    engine = open_engine(url)
    config = _alembic_config()
    with engine.begin() as connection:  # a library made by the first release
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    with sqlite3.connect(tmp_path / "library.sqlite3") as db:
        db.execute("insert into scenarios(id, title, author, note, base, toml, content, created_at, updated_at) "
                   "values (1, 'Kept', '', '', '', ?, 'c', '2026-01-01', '2026-01-01')",
                   (to_toml(load_scenario()),))
        db.execute("insert into comparisons(id, title, author, note, question, reference_id, year, window, "
                   "replications, years, created_at) values (1, 'May', '', '', 'Which?', 1, 5, '', null, 5, "
                   "'2026-01-01')")
        db.execute("insert into comparison_scenarios values (1, 0, 1)")
        assert db.execute("select version_num from alembic_version").fetchone() == ("0001",)
    engine.dispose()
    upgraded = Library(url)  # this release opens it: upgraded, nothing lost
    assert upgraded.scenarios()[0].title == "Kept"
    saved = upgraded.comparison(1)
    assert (saved.title, saved.question, saved.scenario_ids, saved.result_ids) == ("May", "Which?", (1,), (None,))
    with sqlite3.connect(tmp_path / "library.sqlite3") as db:
        assert db.execute("select version_num from alembic_version").fetchone() == ("0002",)


def test_a_database_server_that_does_not_answer_is_refused_in_seconds():
    import socket
    import time

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(LibraryError, match="database server cannot be reached .*; check ADOPTION_LIBRARY"):
        open_engine(f"postgresql+psycopg://planner@127.0.0.1:{port}/adoption")
    assert time.monotonic() - started < 15
