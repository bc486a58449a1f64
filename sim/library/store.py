"""What the library keeps, and how: scenarios (their full file, title, author, note, the baseline
they extend, when), runs' results (every replication's yearly figures, so any view, comparison or
download can be redrawn without rerunning, keyed by what the run depends on: the scenario's
content, seed, replications, horizon and the model's version) and comparisons (their scenarios,
reference, year, window and question).

Every change is one transaction: it happens whole or not at all, whoever else is saving at the
same time.  A saved scenario is never overwritten: renaming changes its title only, and a scenario
a comparison uses cannot be deleted before the comparison.

    >>> import tempfile
    >>> from sim.scenario.files import load_scenario
    >>> library = Library(f"sqlite:///{tempfile.mkdtemp()}/library.sqlite3")
    >>> sid = library.save_scenario(load_scenario(), "Our baseline", author="Planner")
    >>> [s.title for s in library.scenarios()]
    ['Our baseline']
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from sim.library.database import LibraryError, open_engine, reason_of, unreachable
from sim.library.tables import comparison_scenarios, comparisons, results, scenarios
from sim.run.runner import Results, summarise
from sim.scenario.files import parse_scenario, run_text, to_toml
from sim.scenario.parameters import Scenario

#: The longest title kept (a longer one is refused, not cut).
TITLE_MAX = 300


def model_version() -> str:
    """The version of the model that made a result (a result from another shows as such)."""
    try:
        return version("adoption-pipeline-sim")
    except PackageNotFoundError:  # pragma: no cover - run from a folder without installing
        return "unknown"


def content_of(scenario: Scenario) -> str:
    """What a run of ``scenario`` depends on, as a hash of its file less its name and description and
    less the run's seed, replications and horizon (kept beside it, as a result's own key)."""
    data = scenario.model_dump()
    data["scenario"].update(seed=0, replications=2, years=1)
    return hashlib.sha256(run_text(Scenario.model_validate(data)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SavedScenario:
    id: int
    title: str
    author: str
    note: str
    base: str
    toml: str
    content: str  # what its runs depend on (see content_of)
    created_at: datetime
    updated_at: datetime

    def scenario(self) -> Scenario:
        """The scenario as saved (checked as any scenario file is)."""
        return parse_scenario(self.toml, f"library scenario {self.id}")


@dataclass(frozen=True)
class SavedComparison:
    id: int
    title: str
    author: str
    note: str
    question: str
    scenario_ids: tuple[int, ...]  # in the order shown
    reference_id: int
    year: int | None  # None: the average over the horizon
    window: str
    replications: int | None  # None: chosen for precision
    years: int
    created_at: datetime
    result_ids: tuple[int | None, ...] = ()  # the run each scenario's figures came from, in order


@dataclass(frozen=True)
class SavedResult:
    """A kept run: its figures, and the version of the model that made them."""
    id: int
    run: Results
    model_version: str
    created_at: datetime

    @property
    def current(self) -> bool:
        """Whether this version of the model made it (else it is shown as older, and can be rerun)."""
        return self.model_version == model_version()


def _now() -> datetime:
    return datetime.now(UTC)


def _saved_result(row) -> SavedResult:
    table = pd.read_csv(io.BytesIO(gzip.decompress(row.table_csv)))
    run = parse_scenario(row.run_toml, f"library result {row.id}")
    return SavedResult(id=row.id, run=Results(scenario=run, summary=summarise(table), replications=table),
                       model_version=row.model_version, created_at=row.created_at)


def _failure(exc: DBAPIError) -> str:
    """What went wrong with the database, in words an administrator can act on."""
    reason = reason_of(exc)
    if "full" in reason.lower() or "no space" in reason.lower():
        return f"the disk holding the library is full ({reason})"
    if unreachable(exc):
        return f"the library's database server stopped answering ({reason})"
    return f"the database refused it ({reason})"


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise LibraryError("a title is needed: give the scenario or comparison a name a colleague will recognise")
    if len(title) > TITLE_MAX:
        raise LibraryError(f"the title is {len(title)} characters long; at most {TITLE_MAX} are allowed")
    return title


class Library:
    """The library at ``url`` (see :func:`sim.library.database.library_url`)."""

    def __init__(self, url: str | None = None, engine: Engine | None = None):
        self.engine = engine or open_engine(url)

    @contextmanager
    def _change(self, what: str) -> Iterator:
        """One transaction: whole or not at all.  A database that fails mid-way (a full disk, a
        server stopped) leaves the library as it was, and the user is told what was not saved."""
        try:
            with self.engine.begin() as db:
                yield db
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise LibraryError(f"{what} was not saved: {_failure(exc)}; the library is as it was before — "
                               "try again once that is put right") from None

    @contextmanager
    def _read(self) -> Iterator:
        try:
            with self.engine.connect() as db:
                yield db
        except DBAPIError as exc:
            raise LibraryError(f"the library cannot be read: {_failure(exc)}") from None

    # --- scenarios ------------------------------------------------------------------------------
    def save_scenario(self, scenario: Scenario | str, title: str, author: str = "", note: str = "",
                      base: str = "") -> int:
        """Keep ``scenario`` (or a scenario file's text, checked first) under ``title``; its id."""
        if isinstance(scenario, str):
            scenario = parse_scenario(scenario, "the scenario to save")
        now = _now()
        with self._change("the scenario") as db:
            return db.execute(insert(scenarios).values(
                title=_title(title), author=author.strip(), note=note.strip(), base=base.strip(),
                toml=to_toml(scenario), content=content_of(scenario), created_at=now, updated_at=now)).inserted_primary_key[0]

    def keep_scenario(self, scenario: Scenario, title: str, author: str = "") -> int:
        """The id of the saved scenario with this title and this very file (the first saved), else of
        ``scenario`` saved now under ``title``: a comparison saved again lists its scenarios once."""
        toml = to_toml(scenario)
        with self._read() as db:
            found = db.execute(select(scenarios.c.id).where(
                scenarios.c.title == _title(title), scenarios.c.content == content_of(scenario),
                scenarios.c.toml == toml).order_by(scenarios.c.id)).first()
        return found[0] if found is not None else self.save_scenario(scenario, title, author)

    def scenarios(self) -> list[SavedScenario]:
        """Every saved scenario, the newest first."""
        with self._read() as db:
            rows = db.execute(select(scenarios).order_by(scenarios.c.updated_at.desc(), scenarios.c.id.desc()))
            return [SavedScenario(**row._mapping) for row in rows]

    def scenario(self, scenario_id: int) -> SavedScenario:
        """One saved scenario; an unknown id is refused saying which ids there are."""
        with self._read() as db:
            row = db.execute(select(scenarios).where(scenarios.c.id == int(scenario_id))).first()
        if row is None:
            raise LibraryError(f"no saved scenario {scenario_id}; {self._ids(scenarios)}")
        return SavedScenario(**row._mapping)

    def rename(self, scenario_id: int, title: str) -> None:
        """Give a saved scenario another title (its file and its results are unchanged)."""
        with self._change("the new title") as db:
            done = db.execute(update(scenarios).where(scenarios.c.id == int(scenario_id))
                              .values(title=_title(title), updated_at=_now())).rowcount
        if not done:
            raise LibraryError(f"no saved scenario {scenario_id}; {self._ids(scenarios)}")

    def delete_scenario(self, scenario_id: int) -> None:
        """Delete a saved scenario; refused while a saved comparison uses it."""
        try:
            with self._change("the deletion") as db:
                done = db.execute(delete(scenarios).where(scenarios.c.id == int(scenario_id))).rowcount
        except IntegrityError:
            raise LibraryError(f"saved scenario {scenario_id} is used by a saved comparison; delete the comparison "
                               "first") from None
        if not done:
            raise LibraryError(f"no saved scenario {scenario_id}; {self._ids(scenarios)}")

    # --- results ---------------------------------------------------------------------------------
    def save_results(self, run: Results) -> int:
        """Keep a run's every replication's yearly figures (once: a run already kept is not kept
        twice); its id."""
        s = run.scenario
        key = self._result_key(s, s.scenario.replications, s.scenario.years)
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
            f.write(run.replications.to_csv(index=False).encode("utf-8"))
        try:
            with self._change("the run's results") as db:
                return db.execute(insert(results).values(**key, run_toml=to_toml(s), table_csv=buffer.getvalue(),
                                                         created_at=_now())).inserted_primary_key[0]
        except IntegrityError:  # kept already (by this session or another): the same figures
            with self._read() as db:
                return db.execute(select(results.c.id).filter_by(**key)).scalar_one()

    def results_for(self, scenario: Scenario, replications: int, years: int,
                    any_version: bool = False) -> SavedResult | None:
        """The kept run of ``scenario`` with these replications and years: by this model only, unless
        ``any_version`` (the newest, perhaps of an older model, to be shown as such and rerun); None if
        none is kept."""
        key = self._result_key(scenario, replications, years)
        query = select(results).where(*(getattr(results.c, k) == v for k, v in key.items()
                                        if k != "model_version" or not any_version))
        with self._read() as db:
            row = db.execute(query.order_by(results.c.created_at.desc(), results.c.id.desc())).first()
        return None if row is None else _saved_result(row)

    def result(self, result_id: int) -> SavedResult:
        """One kept run, by its id."""
        with self._read() as db:
            row = db.execute(select(results).where(results.c.id == int(result_id))).first()
        if row is None:
            raise LibraryError(f"no kept result {result_id}; {self._ids(results)}")
        return _saved_result(row)

    def _result_key(self, scenario: Scenario, replications: int, years: int) -> dict:
        return {"content": content_of(scenario), "seed": scenario.scenario.seed, "replications": int(replications),
                "years": int(years), "model_version": model_version()}

    # --- comparisons -----------------------------------------------------------------------------
    def save_comparison(self, title: str, scenario_ids: list[int], reference_id: int, years: int,
                        year: int | None = None, window: str = "", question: str = "", author: str = "",
                        note: str = "", replications: int | None = None,
                        result_ids: list[int | None] | None = None) -> int:
        """Keep a comparison of saved scenarios (in the order shown) and, where given, the kept run
        whose figures each showed (:meth:`save_results`); its id."""
        ids = [int(i) for i in scenario_ids]
        if not ids or int(reference_id) not in ids:
            raise LibraryError("a comparison needs its scenarios, the reference among them")
        runs = list(result_ids) if result_ids is not None else [None] * len(ids)
        if len(runs) != len(ids):
            raise LibraryError(f"a comparison of {len(ids)} scenarios needs {len(ids)} results (or none); "
                               f"{len(runs)} were given")
        with self._change("the comparison") as db:
            known = set(db.execute(select(scenarios.c.id).where(scenarios.c.id.in_(ids))).scalars())
            missing = [i for i in ids if i not in known]
            if missing:
                raise LibraryError(f"no saved scenario {', '.join(map(str, missing))}; save the scenarios first")
            cid = db.execute(insert(comparisons).values(
                title=_title(title), author=author.strip(), note=note.strip(), question=question.strip(),
                reference_id=int(reference_id), year=year, window=window, replications=replications,
                years=int(years), created_at=_now())).inserted_primary_key[0]
            db.execute(insert(comparison_scenarios), [{"comparison_id": cid, "position": k, "scenario_id": i,
                                                       "result_id": r} for k, (i, r) in enumerate(zip(ids, runs))])
            return cid

    def comparison_results(self, comparison_id: int) -> list[SavedResult | None]:
        """The kept run behind each of a comparison's scenarios, in order (None where none was kept):
        the figures the planner saved, whichever model made them."""
        return [None if r is None else self.result(r) for r in self.comparison(comparison_id).result_ids]

    def renew_results(self, comparison_id: int, result_ids: list[int]) -> None:
        """Point a comparison at new runs of its scenarios (a rerun with this model); the older runs
        are kept."""
        saved = self.comparison(comparison_id)
        if len(result_ids) != len(saved.scenario_ids):
            raise LibraryError(f"comparison {comparison_id} has {len(saved.scenario_ids)} scenarios; "
                               f"{len(result_ids)} results were given")
        with self._change("the rerun's results") as db:
            for position, rid in enumerate(result_ids):
                db.execute(update(comparison_scenarios)
                           .where(comparison_scenarios.c.comparison_id == int(comparison_id),
                                  comparison_scenarios.c.position == position).values(result_id=int(rid)))

    def comparisons(self) -> list[SavedComparison]:
        """Every saved comparison, the newest first."""
        with self._read() as db:
            ids = db.execute(select(comparisons.c.id).order_by(comparisons.c.created_at.desc(),
                                                               comparisons.c.id.desc())).scalars().all()
        return [self.comparison(i) for i in ids]

    def comparison(self, comparison_id: int) -> SavedComparison:
        """One saved comparison; an unknown id is refused saying which ids there are."""
        with self._read() as db:
            row = db.execute(select(comparisons).where(comparisons.c.id == int(comparison_id))).first()
            if row is None:
                raise LibraryError(f"no saved comparison {comparison_id}; {self._ids(comparisons)}")
            members = db.execute(select(comparison_scenarios.c.scenario_id, comparison_scenarios.c.result_id)
                                 .where(comparison_scenarios.c.comparison_id == row.id)
                                 .order_by(comparison_scenarios.c.position)).all()
        return SavedComparison(**row._mapping, scenario_ids=tuple(m.scenario_id for m in members),
                               result_ids=tuple(m.result_id for m in members))

    def delete_comparison(self, comparison_id: int) -> None:
        with self._change("the deletion") as db:
            done = db.execute(delete(comparisons).where(comparisons.c.id == int(comparison_id))).rowcount
        if not done:
            raise LibraryError(f"no saved comparison {comparison_id}; {self._ids(comparisons)}")

    def _ids(self, table) -> str:
        with self._read() as db:
            ids = db.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        return f"the saved ids are {', '.join(map(str, ids))}" if ids else "nothing of that kind is saved yet"
