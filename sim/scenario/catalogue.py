"""The scenario files on offer, as ``python -m sim list`` shows them: title, agency, years.

A planner choosing a scenario wants to know what it is (its title), whose figures it rests on
(the agency of the calibrated baseline it is, or extends) and which financial years it
reports; and which files are the calibrated baselines themselves, as against what-ifs on
them.  A calibrated baseline is a file that extends nothing and names the targets file it was
fitted to (``[calibration] targets_file``); the agency is that targets file's
``[agency] name``.  A file that cannot be read is listed with its problem, not skipped.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sim.scenario.calendar import financial_year_label
from sim.scenario.files import BUILT_IN_FILE, SCENARIO_DIR, ScenarioError, load_scenario, scenario_names

#: Where the paths a scenario names (targets files) are relative to: the repository.
ROOT = SCENARIO_DIR.parent


@dataclass(frozen=True)
class Entry:
    name: str  # the file's name without .toml, as the command line takes it
    title: str
    agency: str
    years: str  # "2022-23 to 2026-27"
    calibrated_baseline: bool
    built_in: bool
    problem: str = ""  # why the file cannot be used, if it cannot


def _agency(targets_file: str) -> str:
    """The agency named in a targets file, or what is known of it."""
    if not targets_file:
        return "none (uncalibrated defaults)"
    try:
        data = tomllib.loads((ROOT / targets_file).read_text(encoding="utf-8"))
        return str(data["agency"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"unknown ({targets_file} cannot be read)"


def _extends(path: Path) -> bool:
    try:
        return "extends" in tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False


def catalogue(folder: Path = SCENARIO_DIR) -> list[Entry]:
    """Every scenario file in ``folder``, in name order."""
    entries = []
    for name in scenario_names(folder):
        path = folder / f"{name}.toml"
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            entries.append(Entry(name, "", "", "", False, False, problem=str(exc)))
            continue
        run, targets = scenario.scenario, scenario.calibration.targets_file or ""
        years = f"{financial_year_label(run.start_year)} to {financial_year_label(run.start_year + run.years - 1)}"
        entries.append(Entry(name, run.name, _agency(targets), years,
                             calibrated_baseline=bool(targets) and not _extends(path),
                             built_in=name == BUILT_IN_FILE and folder == SCENARIO_DIR))
    return entries


def listing(entries: list[Entry]) -> str:
    """The catalogue as text: one block per file, calibrated baselines marked."""
    lines = []
    for e in entries:
        if e.problem:
            lines.append(f"{e.name}\n    cannot be used: {e.problem}")
            continue
        mark = ("  [calibrated baseline; the built-in baseline]" if e.built_in
                else "  [calibrated baseline]" if e.calibrated_baseline else "")
        lines.append(f"{e.name}{mark}\n    {e.title}\n    agency: {e.agency}; years: {e.years}")
    return "\n".join(lines)
