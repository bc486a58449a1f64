"""Shared helpers: small, fast scenarios built from the baseline."""

from __future__ import annotations

import pytest

from sim.scenario.parameters import Scenario


def scenario(**sections) -> Scenario:
    """The baseline with some parameters changed: scenario(adopters={"stage1_days": 80})."""
    base = Scenario().model_dump()
    for section, values in sections.items():
        base[section].update(values)
    return Scenario.model_validate(base)


def small(years: int = 3, reps: int = 8, warm_up: int = 1, seed: int = 7, **sections) -> Scenario:
    """A short run: few years and replications, for tests that must stay quick."""
    run = {"years": years, "replications": reps, "warm_up_years": warm_up, "seed": seed}
    run.update(sections.pop("scenario", {}))
    return scenario(scenario=run, **sections)


@pytest.fixture(scope="session", autouse=True)
def own_library(tmp_path_factory):
    """Every test's app and command line use a library of the test session's own (a test that
    needs another sets ``ADOPTION_LIBRARY`` itself), never the project's file."""
    import os

    url = f"sqlite:///{tmp_path_factory.mktemp('library')}/library.sqlite3"
    before = os.environ.get("ADOPTION_LIBRARY")
    os.environ["ADOPTION_LIBRARY"] = url
    yield url
    if before is None:
        os.environ.pop("ADOPTION_LIBRARY", None)
    else:
        os.environ["ADOPTION_LIBRARY"] = before


@pytest.fixture
def small_scenario() -> Scenario:
    return small()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (tests/postgres_server.py): its URL and, when the tests
    started it, the server itself; skipped with the reason where none can be had."""
    import os

    from tests.postgres_server import REQUIRED_ENV, NoPostgres, postgres_server

    try:
        with postgres_server() as found:
            yield found
    except NoPostgres as exc:
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(f"PostgreSQL is required here ({REQUIRED_ENV} is set) but cannot be started: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def library_url(request, tmp_path) -> str:
    """A new, empty library's URL: a SQLite file, and a database on a PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/library.sqlite3"
    from tests.postgres_server import new_database

    server_url, _ = request.getfixturevalue("postgres")
    return new_database(server_url)
