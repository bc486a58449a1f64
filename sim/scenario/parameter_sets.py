"""Plausible parameter sets from a calibration, and drawing one for each replication.

A fit leaves some parameters well pinned down by the report's figures and others loosely.
:mod:`sim.calibration.fit` saves the fitted values and a sample of plausible parameter sets (a
CSV with one column per fitted parameter, ``section.name``, a row "fit" and one row per
drawn set) in ``calibration/fits/``, and the calibrated scenario names it in
``[calibration] parameter_sets``.  With
``[calibration] parameter_uncertainty = true`` every replication runs with one of those sets,
chosen from the scenario seed and the replication number alone, so the 90% intervals show
what the reports leave uncertain as well as chance, and serial and parallel runs still agree.

The file is checked when it is read, before any replication uses it: every column a numeric
model parameter, every value a finite number inside that parameter's range (a problem is
reported with the file, line, column and what is allowed), UTF-8 text (a leading byte order
mark accepted).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.scenario import atomic_write
from sim.scenario.bounded_read import InputFileError, read_input
from sim.scenario.calendar import financial_year_label
from sim.scenario.changes import CHANGEABLE_SECTIONS, Trend
from sim.scenario.files import ScenarioError
from sim.scenario.parameters import PARAMETER_SECTIONS, SECTIONS, Scenario, field_info

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: Spawn key that keeps the choice of parameter set apart from every activity's random stream.
_SET_KEY = 1_000_003


class ParameterSetsError(ScenarioError):
    """A parameter-sets file that cannot be used."""


def resolve_sets_path(path: str | Path) -> Path:
    """A parameter-sets path as written in a scenario: absolute, or relative to the project
    folder (as the calibrate command writes it), or to the working directory."""
    p = Path(path)
    if p.is_absolute():
        return p
    for base in (PROJECT_DIR, Path.cwd()):
        try:
            if (base / p).is_file():
                return base / p
        except (OSError, ValueError):  # a name too long for the system
            pass
    return PROJECT_DIR / p


def save_parameter_sets(fit: dict[str, float], draws: list[dict[str, float]], path: str | Path) -> Path:
    """Write the sets as CSV: a ``set`` column ("fit" for the fitted values, then 1, 2, ...),
    then one column per parameter (``section.name``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(fit)
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(["set", *names])
    w.writerow(["fit", *(repr(float(fit[n])) for n in names)])
    for i, row in enumerate(draws, 1):
        w.writerow([i, *(repr(float(row[n])) for n in names)])
    atomic_write.write_bytes(path, text.getvalue().encode("utf-8"))
    return path


@dataclass(frozen=True)
class ParameterSets:
    """The fitted values and the plausible sets drawn around them."""

    fit: dict[str, float]
    draws: list[dict[str, float]]


def load_parameter_sets(path: str | Path) -> ParameterSets:
    """Read and check a parameter-sets CSV (cached by path and modification time)."""
    p = resolve_sets_path(path)
    try:
        stamp = p.stat().st_mtime_ns
    except (OSError, ValueError):
        raise ParameterSetsError(f"{path}: parameter sets file not found") from None
    return _load(str(p), stamp)


@lru_cache(maxsize=8)
def _load(path: str, _stamp: int) -> ParameterSets:
    try:
        data = read_input(path, "parameter sets file")
    except InputFileError as exc:
        raise ParameterSetsError(str(exc)) from None
    try:
        text = data.decode("utf-8-sig")  # a leading byte order mark is dropped
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParameterSetsError(f"{path}: line {line}, byte {column} of the line: not UTF-8 text ({exc.reason}); "
                                 "allowed: a CSV file in UTF-8, as the calibration writes it") from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise ParameterSetsError(f"{path}: line {reader.line_num}: not a readable CSV file ({exc})") from None
    if not rows or "set" not in rows[0][1]:
        raise ParameterSetsError(f"{path}: no parameter sets (expected a 'set' column and one row per set)")
    first, header = rows[0]
    columns = [(j, name, _column_range(path, first, j, name)) for j, name in enumerate(header, 1) if name != "set"]
    if len(set(header)) < len(header):
        twice = sorted({n for n in header if header.count(n) > 1})
        raise ParameterSetsError(f"{path}: line {first}: column {_short(twice[0])} appears twice; allowed: each "
                                 "parameter once")
    at = header.index("set")
    fit, draws = None, []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise ParameterSetsError(f"{path}: line {line}: {len(row)} values for {len(header)} columns; allowed: "
                                     "one value for each column")
        values = {name: _value(path, line, j, name, row[j - 1], bounds) for j, name, bounds in columns}
        if row[at] == "fit":
            fit = values
        else:
            draws.append(values)
    if not draws:
        raise ParameterSetsError(f"{path}: no drawn parameter sets, only the fit")
    return ParameterSets(fit=fit or {}, draws=draws)


def _column_range(path: str, line: int, column: int, name: str) -> tuple[float, float, str, bool]:
    """The range, unit and integer-ness of the parameter a column holds (for a trend's column, of
    its yearly growth factor); a column that is not a numeric model parameter is refused."""
    trend = name.startswith(TREND_PREFIX)
    section, _, field = name.removeprefix(TREND_PREFIX).partition(".")
    if section not in PARAMETER_SECTIONS or field not in SECTIONS[section].model_fields:
        raise ParameterSetsError(f"{path}: line {line}, column {column}: {_short(name)} is not a parameter; allowed: "
                                 "'section.name', e.g. 'adopters.stage1_days', or 'trend.section.name' for a trend's "
                                 "yearly growth factor")
    info = field_info(section, field)
    default = info["default"]
    if section == "scenario" or isinstance(default, bool) or not isinstance(default, (int, float)) or (
            trend and section not in CHANGEABLE_SECTIONS):
        raise ParameterSetsError(f"{path}: line {line}, column {column}: {name!r} is not a numeric model parameter; "
                                 f"allowed: the numeric parameters of [adopters], [children], [panel], [matching], "
                                 "[placement] and [fees]")
    if trend:
        lo = hi = 0.0
        for meta in Trend.model_fields["percent_per_year"].metadata:  # -90% to +500% a year
            lo, hi = getattr(meta, "ge", lo), getattr(meta, "le", hi)
        return 1.0 + lo / 100.0, 1.0 + hi / 100.0, "yearly growth factor", False
    return info["min"], info["max"], info["unit"], isinstance(default, int)


def _value(path: str, line: int, column: int, name: str, text: str, bounds: tuple) -> float:
    """One value of a parameter set, checked as a scenario would check it."""
    lo, hi, unit, whole = bounds
    where = f"{path}: line {line}, column {column} ({name})"
    allowed = f"allowed: a number from {lo:g} to {hi:g} {unit}".rstrip()
    try:
        value = float(text)
    except ValueError:
        raise ParameterSetsError(f"{where}: {_short(text)} is not a number; {allowed}") from None
    if not math.isfinite(value):
        raise ParameterSetsError(f"{where}: {text.strip()} is not a finite number; {allowed}")
    if not lo <= (round(value) if whole else value) <= hi:
        raise ParameterSetsError(f"{where}: {value:g} is out of range; {allowed}")
    return value


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "...")


def set_index(seed: int, replication: int, n_sets: int) -> int:
    """Which of ``n_sets`` sets replication ``replication`` uses: a function of the seed only.

    Each block of ``n_sets`` consecutive replications uses every set once, in an order drawn from
    the seed and the block, so that a run's mean over replications averages the sets evenly (chosen
    independently, some sets would weigh twice and others not at all, which moves the mean by
    chance); serial and parallel engines and a what-if and its baseline agree set for set."""
    block, place = divmod(replication, n_sets)
    return int(_block_order(seed, block, n_sets)[place])


@lru_cache(maxsize=256)
def _block_order(seed: int, block: int, n_sets: int) -> tuple[int, ...]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, _SET_KEY)))
    return tuple(int(i) for i in rng.permutation(n_sets))


#: A parameter-set key for a trend's yearly growth factor: "trend.section.name".
TREND_PREFIX = "trend."


def trend_factor(scenario: Scenario, parameter: str) -> float:
    """The yearly growth factor of ``parameter``'s percentage trend in ``scenario`` (1 for none)."""
    for t in scenario.trend:
        if t.parameter == parameter and t.percent_per_year is not None:
            return 1.0 + t.percent_per_year / 100.0
    return 1.0


def with_parameters(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with some parameters (``section.name`` keys) replaced, validated.

    A key ``trend.section.name`` sets that parameter's trend to a yearly growth factor (1.2 =
    +20% a year): the rate of the trend the scenario has (its anchor and span kept), or a new
    trend anchored on year 1."""
    data = scenario.model_dump()
    for key, value in values.items():
        if key.startswith(TREND_PREFIX):
            parameter = key.removeprefix(TREND_PREFIX)
            percent = round(100.0 * (float(value) - 1.0), 2)
            entry = next((t for t in data["trend"] if t["parameter"] == parameter), None)
            if entry is None:
                run = scenario.scenario
                data["trend"].append({"parameter": parameter, "percent_per_year": percent,
                                      "anchor": financial_year_label(run.start_year)})
            else:  # keep the trend's anchor and span; set its rate
                entry.update(percent_per_year=percent, by_year=None)
            continue
        section, _, name = key.partition(".")
        default = SECTIONS[section].model_fields[name].default
        data[section][name] = int(round(value)) if isinstance(default, int) and not isinstance(default, bool) \
            else float(value)
    return Scenario.model_validate(data)


def drawing_sets(scenario: Scenario, sets: str | Path) -> Scenario:
    """The scenario with parameter uncertainty on, drawing its sets from the file ``sets``."""
    data = scenario.model_dump()
    data["calibration"].update(parameter_sets=str(sets), parameter_uncertainty=True)
    return Scenario.model_validate(data)


def replication_scenario(scenario: Scenario, replication: int) -> Scenario:
    """The scenario replication ``replication`` runs.

    With parameter uncertainty switched on, one plausible parameter set is chosen from the
    seed and the replication number.  A parameter the scenario itself has moved away from the
    fitted value (a what-if extending a calibrated baseline) keeps the scenario's value.
    Otherwise the scenario runs as it is.
    """
    cal = scenario.calibration
    if not cal.parameter_uncertainty:
        return scenario
    sets = load_parameter_sets(cal.parameter_sets)
    return _with_set(scenario, sets, sets.draws[set_index(scenario.scenario.seed, replication, len(sets.draws))])


def _with_set(scenario: Scenario, sets: ParameterSets, chosen: dict[str, float]) -> Scenario:
    """The scenario with one plausible set's values, but for the parameters the scenario has moved
    away from the fit."""
    values = {}
    for key, value in chosen.items():
        if key.startswith(TREND_PREFIX):
            current = trend_factor(scenario, key.removeprefix(TREND_PREFIX))
        else:
            section, _, name = key.partition(".")
            current = float(getattr(getattr(scenario, section), name))
        fitted = sets.fit.get(key)
        if fitted is None or math.isclose(current, fitted, rel_tol=1e-9, abs_tol=1e-12):
            values[key] = value
    return with_parameters(scenario, values) if values else scenario


def check_under_every_set(scenario: Scenario, source: str) -> None:
    """Refuse, when a file is read, a scenario whose dated changes cannot apply under one of
    its baseline's plausible parameter sets (a change taking a parameter outside its range for that
    set), naming the file, the set and the problem: never after a run has started."""
    cal = scenario.calibration
    if not cal.parameter_uncertainty or all(c.value is not None for c in scenario.change):
        return  # a new value is the same under every set; a baseline's own trends come with its calibration
    sets = load_parameter_sets(cal.parameter_sets)
    _check_sets(scenario.model_dump_json(), cal.parameter_sets, id(sets), source)


@lru_cache(maxsize=64)
def _check_sets(scenario_json: str, sets_path: str, _sets_id: int, source: str) -> None:
    from pydantic import ValidationError

    scenario = Scenario.model_validate_json(scenario_json)
    sets = load_parameter_sets(sets_path)
    # only a set's values (or trend) of a parameter that a relative change moves can take it out of range
    moved = {c.parameter for c in scenario.change if c.value is None}
    moved |= {TREND_PREFIX + m for m in moved}
    seen = set()
    for number, chosen in enumerate(sets.draws, 1):
        relevant = {k: v for k, v in chosen.items() if k in moved}
        key = tuple(sorted(relevant.items()))
        if not relevant or key in seen:
            continue
        seen.add(key)
        try:
            _with_set(scenario, sets, relevant)
        except ValidationError as exc:
            why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise ScenarioError(f"{source}: under plausible parameter set {number} of {sets_path} (the baseline's "
                                f"calibration), {why}; allowed: changes that keep every parameter in its range "
                                "for each plausible set (a percent change of a share acts on its odds and always "
                                "does; give a smaller change, or a 'value')") from None
