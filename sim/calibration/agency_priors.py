"""Priors from every calibrated agency: what one agency's figures leave open, the others inform.

Most agencies publish a handful of figures, which pin down a few of the pipeline's shares and
durations and leave the rest open.  Those open parameters are not set to one agency's values:
their prior is the spread of the values that every calibrated agency's fit found (the calibrated
scenarios in ``scenarios/``: the seed reports' agencies and any added later), leaving out the
agency being fitted, so that its own figures are never used twice and a leave-figures-out check
is honest.

For each candidate parameter of the fit (:data:`sim.calibration.fit.CANDIDATES`; not the
agency's size, which is its own, nor capacity), on the fit's transformed scale (log for
durations and rates, logit for shares), with ``n`` agencies' values ``x``:

- centre: their mean;
- spread: the predictive sd of a new agency's value, ``sqrt(s2 * (1 + 1/n))``, where ``s2``
  pools the agencies' own scatter with the parameter's default prior sd ``d`` counted as one
  agency's worth of evidence, ``s2 = (d**2 + sum((x - mean)**2)) / n``.  With one agency this is
  ``d`` (scaled by ``sqrt(2)``); as agencies are added the spread between them takes over.
- with no agency: the default value and prior sd of :mod:`sim.scenario.parameters`.

A parameter enters an agency's pool only if that agency's calibration set it from its own figures
(it is in the scenario's ``[calibration] fitted`` table with a note other than :data:`OPEN_NOTE`): a
value left at its prior is not evidence.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.calibration.targets import TargetsError, load_targets
from sim.scenario.files import SCENARIO_DIR, ScenarioError, load_scenario
from sim.scenario.parameter_sets import PROJECT_DIR
from sim.scenario.parameters import Scenario

#: How a calibrated scenario's notes begin for a parameter its figures left open (at its prior centre).
OPEN_NOTE = "not fitted:"


@dataclass(frozen=True)
class CalibratedAgency:
    """One calibrated scenario's fitted values: the evidence it adds to every other agency's priors."""

    name: str
    scenario_file: Path
    targets_file: Path
    values: dict[str, float]  # "section.name" -> value, for the parameters its calibration set


@dataclass(frozen=True)
class PooledPrior:
    """A parameter's prior from the calibrated agencies: centre (natural units) and sd (transformed scale)."""

    key: str
    centre: float
    sd: float
    agencies: tuple[str, ...]

    def describe(self) -> str:
        """How the prior was formed, as the fit report and the scenario's notes say it."""
        if not self.agencies:
            return "the default value and prior (no other calibrated agency sets it)"
        return (f"from the spread across {len(self.agencies)} calibrated "
                f"agenc{'y' if len(self.agencies) == 1 else 'ies'} ({', '.join(self.agencies)})")


def _targets_path(scenario: Scenario) -> Path:
    p = Path(scenario.calibration.targets_file)
    return (p if p.is_absolute() else PROJECT_DIR / p).resolve()


def _is_national(targets: Path) -> bool:
    try:
        return load_targets(targets).level == "national"
    except TargetsError:
        return False  # an unreadable targets file is reported when it is used


def calibrated_agencies(folder: Path = SCENARIO_DIR) -> list[CalibratedAgency]:
    """Every calibrated agency scenario in ``folder`` (a file with a targets file in ``[calibration]``
    that extends no other: what-ifs inherit their parent's calibration and add no evidence; a
    national scenario is left out, as its values are England's averages, not one agency's)."""
    out: dict[Path, CalibratedAgency] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
            if "extends" in raw or not raw.get("calibration", {}).get("targets_file"):
                continue
            scenario = load_scenario(path)
        except (OSError, tomllib.TOMLDecodeError, ScenarioError):
            continue  # a broken file is reported when it is run, not here; it adds no evidence
        values = {}
        for key, note in scenario.calibration.fitted.items():
            if note.startswith(OPEN_NOTE):
                continue
            section, _, name = key.partition(".")
            value = getattr(getattr(scenario, section), name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[key] = float(value)
        targets = _targets_path(scenario)
        if _is_national(targets):
            continue  # England's fit is the sum of every agency's, not one more agency's evidence
        out.setdefault(targets, CalibratedAgency(scenario.scenario.name, path, targets, values))
    return list(out.values())


def pooled_priors(candidates: Sequence, agencies: Sequence[CalibratedAgency],
                  exclude: Path | None = None) -> dict[str, PooledPrior]:
    """Each candidate's prior from ``agencies`` (leaving out the one calibrated to ``exclude``, a
    targets file), keyed by ``section.name``.  ``candidates`` are :class:`sim.calibration.fit.FitParameter`."""
    excluded = Path(exclude).resolve() if exclude is not None else None
    pool = [a for a in agencies if a.targets_file != excluded]
    baseline = Scenario()
    out = {}
    for p in candidates:
        found = [(a.name, p.to_theta(a.values[p.key])) for a in pool if p.key in a.values]
        if not found:
            out[p.key] = PooledPrior(p.key, p.value_of(baseline), p.prior_sd, ())
            continue
        n = len(found)
        thetas = [t for _, t in found]
        mean = sum(thetas) / n
        s2 = (p.prior_sd ** 2 + sum((t - mean) ** 2 for t in thetas)) / n
        sd = math.sqrt(s2 * (1.0 + 1.0 / n))
        out[p.key] = PooledPrior(p.key, p.from_theta(mean), sd, tuple(name for name, _ in found))
    return out
