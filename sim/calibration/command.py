"""Calibrate an agency from its report: one targets file in, a baseline scenario and its fit
report out.

    python -m sim calibrate calibration/targets/FILE.toml [--out scenarios/NAME.toml] [--reps R]
                            [--report-dir DIR]

writes

- the calibrated scenario (default ``scenarios/<targets file name>.toml``; never overwritten
  without ``--force``), with a ``[calibration]`` section naming the targets file, each
  fitted parameter with the figures it was fitted to, and the parameter sets;
- ``NAME-parameter-sets.csv``: the fitted values and plausible sets;
- ``NAME.md``, ``NAME.csv``, ``NAME-parameters.csv`` and ``NAME-checks.csv``: the fit report;

the last two in ``calibration/fits`` and ``calibration/reports`` for a scenario written to
``scenarios/``, beside the scenario for one written anywhere else, or in ``--report-dir``.
It ends with the verdict (:func:`sim.calibration.fit_report.verdict`) and exits with status 3 when the fit
does not reproduce its figures.

See :mod:`sim.calibration.fit` for the method and :mod:`sim.calibration.fit_report` for the report.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import fit as cal
from sim.calibration import fit_report as fr
from sim.calibration.posterior import agency_sets
from sim.calibration.targets import TargetsError, TargetSet, load_targets
from sim.run.runner import run_scenario
from sim.scenario import atomic_write
from sim.scenario.files import SCENARIO_DIR, ScenarioError, load_scenario, to_toml
from sim.scenario.parameter_sets import drawing_sets, save_parameter_sets
from sim.scenario.parameters import Scenario


@dataclass
class Outcome:
    """What one calibration wrote and found."""

    scenario: Scenario
    scenario_path: Path
    report_path: Path
    table: pd.DataFrame
    fit: cal.FitResult
    seconds: float
    sets_path: Path | None = None
    verdict: fr.Verdict | None = None

    @property
    def used(self) -> int:
        return int(self.table["used"].sum())

    @property
    def inside(self) -> int:
        used = self.table[self.table["used"]]
        return int((~used["miss"].astype(bool)).sum())


def calibrate(targets_path: str | Path, out: str | Path | None = None, replications: int = 40,
              report_replications: int = 200, n_sets: int = 100, workers: int | None = None,
              force: bool = False, max_iterations: int = 40, report_dir: Path | None = None,
              fits_dir: Path | None = None, notes_dir: Path | None = None,
              say: Callable[[str], None] = lambda s: None,
              progress: Callable[[int, float], None] | None = None, start_from: str | Path | None = None,
              design: int = 600, candidates: int = 300) -> Outcome:
    """Fit a scenario to ``targets_path`` and write the scenario, parameter sets and fit report."""
    t0 = time.perf_counter()
    for option, value, least in (("--reps", replications, 2), ("--report-reps", report_replications, 20),
                                 ("--design", design, 20), ("--candidates", candidates, n_sets),
                                 ("--workers", 1 if workers is None else workers, 1), ("--max-iterations", max_iterations, 1)):
        if value < least:
            raise cal.CalibrationError(f"{option}: must be at least {least}, got {value}")
    ts = load_targets(targets_path)
    out = Path(out) if out else SCENARIO_DIR / f"{ts.path.stem}.toml"
    if out.suffix != ".toml":
        raise cal.CalibrationError(f"--out {out}: a scenario file name ends in .toml")
    if not cal.fit_targets(ts):
        raise cal.CalibrationError(f"{ts.path.name}: no target has use = true (other than the figures held out as "
                                   f"checks), so there is nothing to fit")
    name = out.stem
    report_dir, fits_dir = output_dirs(out, report_dir, fits_dir)
    written = [out, fits_dir / f"{name}-parameter-sets.csv",
               *(report_dir / f"{name}{end}" for end in (".md", ".csv", "-parameters.csv", "-checks.csv"))]
    existing = [str(path) for path in written if path.exists()]
    if existing and not force:
        raise cal.CalibrationError(f"{', '.join(existing)}: already exists (a scenario named {name!r} was "
                                   f"calibrated before); choose another --out or add --force to overwrite")

    problems = [problem for path in written if (problem := _output_problem(path))]
    if problems:
        raise cal.CalibrationError("; ".join(problems))
    cal.plan_agency(ts)  # refuses, before any simulation, a file that cannot set the agency's size
    begin = load_scenario(start_from) if start_from else None
    say(f"{ts.name} {ts.financial_year}: {len(cal.fit_targets(ts))} targets to fit, with {replications} "
        f"replications an evaluation")
    sets_path = fits_dir / f"{name}-parameter-sets.csv"
    # the sets are kept under a hidden temporary name while the report runs them, and every output is
    # written at the end as one set, or none: a stopped calibration leaves nothing to block its rerun
    pending = sets_path.with_name(f".{sets_path.name}.pending-{os.getpid()}")
    try:
        with cal.Simulator(workers) as sim:
            fitted = cal.fit_agency(ts, sim, replications, max_iterations, progress, start_from=begin)
            start, estimates, priors, left, result = (fitted.start, fitted.estimates, fitted.priors, fitted.left,
                                                      fitted.result)
            before = cal.years_before(ts)
            say(f"fit: {len(ts.inputs)} parameters given, {len(estimates)} estimated directly, "
                f"{len(result.parameters)} fitted; "
                f"{result.evaluations} simulations in {result.seconds:.0f} s, objective {result.objective_start:.1f} "
                f"-> {result.objective:.1f} ({result.message})")
            say("parameter sets: the posterior given the used figures")
            central, posterior = agency_sets(fitted, ts, sim, n_sets, say=say, replications=min(8, replications),
                                             design=design, candidates=candidates,
                                             central_replications=min(200, max(report_replications, 5 * replications)))
            draws = posterior.sets
            fits_dir.mkdir(parents=True, exist_ok=True)
            save_parameter_sets(central, draws, pending)
            scenario = _calibrated_scenario(ts, fitted, sets_path, report_dir / f"{name}.md")
            running = drawing_sets(scenario, pending)
            say(f"report: year 1 over {report_replications} replications, with and without parameter uncertainty")
            values, values_pu = sim.window([_chance_alone(running), running], report_replications, before)

        notes = fr.read_notes(name, Path(notes_dir or fr.NOTES_DIR))
        held = {e.key: (e.value, e.note, cal.CANDIDATE_BY_KEY[e.key].informs)
                for e in estimates if e.key in cal.CANDIDATE_BY_KEY}
        table = fr.target_table(ts, values, cal.columns(ts), result.targets, values_pu, notes,
                                fr.generated_reason(ts, result, held))
        parameters = _parameter_table(ts, result, estimates, left, draws, priors, start, fitted.pooled,
                                      fitted.opening)
        checks = fr.check_table(ts, values, cal.columns(ts), result.targets)
        header = _header(ts, out, result, replications, report_replications, sets_path, scenario,
                         time.perf_counter() - t0)
        header.insert(3, f"- Parameter sets: {posterior.describe()} ({fr.POSTERIOR_METHOD}).")
        verdict = fr.verdict(table, own_interval=ts.level == "national")
        header.append(f"- Verdict: {verdict.summary()}")
        caveats = {k.removeprefix("caveats:"): v for k, v in notes.items() if k.startswith("caveats:")}
        say("projection with no change: 5 years")
        projected = run_scenario(running, replications=report_replications, years=5,
                                 engine="processes" if (workers or 2) > 1 else "serial", workers=workers)
        material = [t.describe() for t in scenario.trend if t.percent_per_year is None or abs(t.percent_per_year) >= 5]
        projection = fr.projection_lines(fr.projection_table(projected.summary), material)
        text = fr.markdown(f"{ts.name}, {ts.financial_year}", header, table, parameters,
                           _unidentified(result, left), checks, caveats, projection)
        report_dir.mkdir(parents=True, exist_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        report_path = report_dir / f"{name}.md"
        sets_bytes = pending.read_bytes()
        atomic_write.write_files({report_path: lambda p: p.write_text(text, encoding="utf-8"),
                                  **{report_dir / f"{name}{end}": lambda p, t=t: t.to_csv(p, index=False)
                                     for end, t in ((".csv", table), ("-parameters.csv", parameters),
                                                    ("-checks.csv", checks))},
                                  sets_path: lambda p: p.write_bytes(sets_bytes),
                                  out: lambda p: p.write_text(to_toml(scenario), encoding="utf-8")})
    finally:
        pending.unlink(missing_ok=True)
    return Outcome(scenario, out, report_path, table, result, time.perf_counter() - t0, sets_path, verdict)


def _output_problem(path: Path) -> str | None:
    """Why a calibration output could not be written at ``path`` (its folders are made as needed)."""
    if path.is_dir():
        return f"{path}: is a folder; a calibration writes a file there"
    return atomic_write.output_problem(path.parent, f"output {path.name}:", folder=True)


def output_dirs(out: Path, report_dir: Path | None = None, fits_dir: Path | None = None) -> tuple[Path, Path]:
    """Where the fit report and the parameter sets go: ``calibration/reports`` and ``calibration/fits``
    for a scenario written to ``scenarios/``; beside the scenario for one written elsewhere (never into
    the repository unasked); ``report_dir`` (both) or ``fits_dir`` when given."""
    if report_dir is not None:
        return Path(report_dir), Path(fits_dir or report_dir)
    if Path(out).resolve().parent == SCENARIO_DIR.resolve():
        return fr.REPORT_DIR, Path(fits_dir or fr.FITS_DIR)
    return Path(out).parent, Path(fits_dir or Path(out).parent)


def _chance_alone(scenario: Scenario) -> Scenario:
    """The scenario with every replication on the central parameter values: chance alone."""
    data = scenario.model_dump()
    data["calibration"]["parameter_uncertainty"] = False
    return Scenario.model_validate(data)


def _calibrated_scenario(ts: TargetSet, fitted: cal.AgencyFit, sets_path: Path, report_path: Path) -> Scenario:
    """The fitted scenario with its name, description and calibration record; parameter uncertainty on,
    so its intervals carry what the figures leave open as well as chance."""
    result = fitted.result
    scenario = fitted.scenario
    data = scenario.model_dump()
    data["scenario"]["name"] = f"{ts.name} {ts.financial_year} (calibrated)"
    data["scenario"]["description"] = (
        f"Calibrated to {cal.relative_to_project(ts.path)} ({ts.report}) with python -m sim calibrate; year 1 is "
        f"{ts.financial_year}. Fit report: {cal.relative_to_project(report_path)}")
    trend_notes = cal.trend_notes(ts, result)
    for trend in data["trend"]:
        trend["note"] = trend_notes.get(trend["parameter"], trend["note"])
    data["calibration"] = {
        "targets_file": cal.relative_to_project(ts.path),
        "fitted": cal.fitted_notes(ts, result, fitted.estimates, fitted.priors, fitted.left, fitted.pooled,
                                   fitted.opening),
        "parameter_sets": cal.relative_to_project(sets_path),
        "parameter_uncertainty": True,
    }
    return Scenario.model_validate(data)


def _parameter_table(ts: TargetSet, result: cal.FitResult, estimates, left, draws, priors,
                     start: Scenario | None = None, pooled: dict | None = None,
                     opening: dict[str, str] | None = None) -> pd.DataFrame:
    baseline = Scenario()
    start = start or baseline
    pooled = pooled or {}
    prior_notes = {e.key: e for e in priors}
    ident = {row["parameter"]: row for row in result.identification()}
    rows = []
    for key, value in ts.inputs.items():
        section, _, pname = key.partition(".")
        rows.append({"parameter": key, "baseline": getattr(getattr(baseline, section), pname), "calibrated": value,
                     "p5": "", "p95": "", "prior_sd": "", "how": "given in the targets file ([inputs])",
                     "identification": "given"})
    for key, note in (opening or {}).items():
        pname = key.partition(".")[2]
        rows.append({"parameter": key, "baseline": None, "calibrated": getattr(start.initial_state, pname), "p5": "",
                     "p95": "", "prior_sd": "", "how": note, "identification": "set by the figures"})
    for e in estimates:
        section, _, pname = e.key.partition(".")
        rows.append({"parameter": e.key, "baseline": getattr(getattr(baseline, section), pname),
                     "calibrated": cal._round(e.value) if isinstance(e.value, float) else e.value,
                     "p5": "", "p95": "", "prior_sd": "", "how": e.note, "identification": "set by the figures"})
    for p in result.parameters:
        vals = np.array([d[p.key] for d in draws])
        i = ident[p.key]
        informs = [t.figure for t in cal.responding_figures(result, p)]
        rows.append({"parameter": p.key, "baseline": cal._round(result.prior_mean(p)),
                     "calibrated": result.values[p.key],
                     "p5": float(np.percentile(vals, 5)), "p95": float(np.percentile(vals, 95)),
                     "prior_sd": round(p.prior_sd, 3), "how": "fitted to " + ", ".join(informs) + (
                         f"; {prior_notes[p.key].note} = {prior_notes[p.key].value:.4g}" if p.key in prior_notes
                         else f"; prior {pooled[p.key].describe()}" if p.key in pooled else ""),
                     "identification": f"{i['verdict']} (posterior sd {i['posterior_sd']:.2f}, "
                                       f"{i['sd_ratio']:.0%} of prior)"})
    for p in left:
        vals = np.array([d[p.key] for d in draws])
        how = pooled[p.key].describe() if p.key in pooled else "the default value and prior"
        rows.append({"parameter": p.key, "baseline": p.value_of(baseline), "calibrated": cal._round(p.value_of(start)),
                     "p5": float(np.percentile(vals, 5)), "p95": float(np.percentile(vals, 95)),
                     "prior_sd": round(p.prior_sd, 3),
                     "how": f"not fitted: no used figure informs it ({', '.join(p.informs)}); centre and spread "
                            f"{how}, drawn per replication",
                     "identification": "open (its prior)"})
    return pd.DataFrame(rows)


def _unidentified(result: cal.FitResult, left) -> list[str]:
    lines = []
    if left:
        lines.append("Not fitted, because no used figure informs them: " + ", ".join(f"`{p.key}`" for p in left) +
                     ". Each is set at the centre of its prior from the other calibrated agencies and drawn from "
                     "that prior's spread in the parameter sets, so the intervals carry what the figures leave open.")
    weak = [r for r in result.identification() if r["verdict"] != "identified"]
    for r in weak:
        lines.append(f"`{r['parameter']}`: {r['verdict']} (posterior sd {r['posterior_sd']:.2f} against prior "
                     f"sd {r['prior_sd']:g}); its prior keeps it plausible and the parameter sets carry nearly "
                     f"the prior's spread.")
    for a, b, rho in result.correlated_pairs():
        lines.append(f"`{a}` and `{b}` are pinned down only together (correlation {rho:+.2f}): the figures fix a "
                     f"combination of the two, not each.")
    lines.append("Every parameter outside this calibration's candidates keeps its default value and "
                 "source (an assumption or another report; `python -m sim params`).")
    return lines


def _header(ts, out, result, reps, report_reps, sets_path, scenario, seconds) -> list[str]:
    run = scenario.scenario
    return [
        f"- Targets: `{cal.relative_to_project(ts.path)}` ({ts.report}); year 1 = {ts.financial_year} "
        f"(start_year {run.start_year}, after {run.warm_up_years} warm-up years).",
        f"- Scenario: `{cal.relative_to_project(out)}`; parameter sets: `{cal.relative_to_project(sets_path)}`.",
        f"- Fit: {len(result.parameters)} parameters to {len(result.targets)} used targets by least squares on "
        f"standardised residuals with priors; {result.evaluations} simulations of {reps} replications "
        f"(common random numbers, seed {run.seed}); objective {result.objective_start:.1f} → {result.objective:.1f}; "
        f"{result.seconds:.0f} s fitting, {seconds:.0f} s in all.",
        f"- Report: year 1 over {report_reps} replications, seed {run.seed}.",
    ]


def command(args) -> int:
    """``python -m sim calibrate``: errors in the targets file or options exit with status 2; a fit
    that does not reproduce its figures (see :func:`sim.calibration.fit_report.verdict`) is written, and exits
    with status 3 (:data:`sim.calibration.fit_report.FAILED_FIT_STATUS`)."""
    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def progress(evaluations: int, objective: float) -> None:
        print(f"  simulations {evaluations:4d}  objective {objective:10.2f}", file=sys.stderr, flush=True)

    report_dir = getattr(args, "report_dir", None)
    try:
        outcome = calibrate(args.targets, out=args.out, replications=args.reps, report_replications=args.report_reps,
                            workers=args.workers, force=args.force, say=say, progress=progress,
                            max_iterations=getattr(args, "max_iterations", 40),
                            start_from=getattr(args, "start_from", None),
                            design=getattr(args, "design", 600), candidates=getattr(args, "candidates", 300),
                            report_dir=Path(report_dir) if report_dir else None)
    except (TargetsError, cal.CalibrationError) as exc:
        raise ScenarioError(str(exc)) from None
    table, verdict = outcome.table, outcome.verdict
    used = table[table["used"]]
    print(f"{outcome.inside} of {outcome.used} used targets inside the simulated 90% interval of year 1 "
          f"({outcome.inside / max(outcome.used, 1):.0%}); {outcome.seconds:.0f} s")
    far = {f for f, _ in verdict.far}
    for _, r in used.iterrows():
        label = r["figure"] if r["year"] == table["year"].max() else f"{r['figure']} {r['year']}"
        if r["miss"] or label in far:
            print(f"  miss {label}: observed {r['observed']:g}, simulated {r['p5']:.4g}-{r['p95']:.4g} "
                  f"(mean {r['mean']:.4g}, {r['distance']:+.1f} sd): {r['why'] or 'inside the interval, but far off'}")
    print(f"wrote {outcome.scenario_path}")
    print(f"wrote {outcome.report_path} (and .csv); parameter sets {outcome.sets_path}")
    print(verdict.summary())
    return 0 if verdict.ok else fr.FAILED_FIT_STATUS
