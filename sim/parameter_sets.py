"""Plausible parameter sets from a calibration, and drawing one for each replication.

A fit leaves some parameters well pinned down by the report's figures and others loosely.
:mod:`sim.calibration` saves the fitted values and a sample of plausible parameter sets (a
CSV with one column per fitted parameter, ``section.name``, a row "fit" and one row per
drawn set) in ``calibration/fits/``, and the calibrated scenario names it in
``[calibration] parameter_sets``.  With
``[calibration] parameter_uncertainty = true`` every replication runs with one of those sets,
chosen from the scenario seed and the replication number alone, so the 90% intervals show
what the reports leave uncertain as well as chance, and serial and parallel runs still agree.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.parameters import PARAMETER_SECTIONS, SECTIONS, Scenario
from sim.scenario_file import ScenarioError

PROJECT_DIR = Path(__file__).resolve().parent.parent
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
        if (base / p).is_file():
            return base / p
    return PROJECT_DIR / p


def save_parameter_sets(fit: dict[str, float], draws: list[dict[str, float]], path: str | Path) -> Path:
    """Write the sets as CSV: a ``set`` column ("fit" for the fitted values, then 1, 2, ...),
    then one column per parameter (``section.name``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(fit)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["set", *names])
        w.writerow(["fit", *(repr(float(fit[n])) for n in names)])
        for i, row in enumerate(draws, 1):
            w.writerow([i, *(repr(float(row[n])) for n in names)])
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
    except OSError:
        raise ParameterSetsError(f"{path}: parameter sets file not found") from None
    return _load(str(p), stamp)


@lru_cache(maxsize=8)
def _load(path: str, _stamp: int) -> ParameterSets:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "set" not in rows[0]:
        raise ParameterSetsError(f"{path}: no parameter sets (expected a 'set' column and one row per set)")
    names = [n for n in rows[0] if n != "set"]
    for name in names:
        section, _, field = name.removeprefix(TREND_PREFIX).partition(".")
        if section not in PARAMETER_SECTIONS or field not in SECTIONS[section].model_fields:
            raise ParameterSetsError(f"{path}: column {name!r} is not a parameter (write 'section.name', or "
                                     f"'trend.section.name' for a trend's yearly growth factor)")
    fit, draws = None, []
    for i, row in enumerate(rows, 2):
        try:
            values = {n: float(row[n]) for n in names}
        except (TypeError, ValueError):
            raise ParameterSetsError(f"{path}: line {i}: every value must be a number") from None
        if not all(math.isfinite(v) for v in values.values()):
            raise ParameterSetsError(f"{path}: line {i}: every value must be finite")
        if row["set"] == "fit":
            fit = values
        else:
            draws.append(values)
    if not draws:
        raise ParameterSetsError(f"{path}: no drawn parameter sets, only the fit")
    return ParameterSets(fit=fit or {}, draws=draws)


def set_index(seed: int, replication: int, n_sets: int) -> int:
    """Which of ``n_sets`` sets replication ``replication`` uses: a function of the seed only."""
    seq = np.random.SeedSequence(seed, spawn_key=(replication, _SET_KEY))
    return int(seq.generate_state(1, dtype=np.uint64)[0] % n_sets)


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
                                      "anchor": f"{run.start_year}-{(run.start_year + 1) % 100:02d}"})
            else:  # keep the trend's anchor and span; set its rate
                entry.update(percent_per_year=percent, by_year=None)
            continue
        section, _, name = key.partition(".")
        default = SECTIONS[section].model_fields[name].default
        data[section][name] = int(round(value)) if isinstance(default, int) and not isinstance(default, bool) \
            else float(value)
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
    chosen = sets.draws[set_index(scenario.scenario.seed, replication, len(sets.draws))]
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
