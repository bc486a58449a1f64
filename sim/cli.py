"""The command line: run a scenario, compare scenarios, list parameters.

    python -m sim run [SCENARIO] [--years N] [--reps R] [--seed S] [--json PATH|-] [--csv DIR]
                      [--engine serial|processes|dask] [--scheduler tcp://HOST:8786]
    python -m sim compare A B ... [--year K | --horizon]
    python -m sim list
    python -m sim params [SCENARIO]
    python -m sim bench [--json PATH] [--quick] [--market]
    python -m sim calibrate TARGETS.toml [--out scenarios/NAME.toml] [--reps R] [--force] [--report-dir DIR]
    python -m sim warmup [SCENARIO] [--reps R] [--years N]
    python -m sim backtest TARGETS.toml ... [--reps R] [--csv PATH]
    python -m sim market FILE [--years N] [--reps R] [--workers W] [--csv DIR] [--ledger agencies|regions]

Errors in a scenario or an option are reported in one clear message and exit status 2,
never a traceback, before anything runs: among them a run beyond the size limit of
:mod:`sim.run.cost` (unless ``--force``) and outputs that could not be written.  Ctrl-C or
SIGTERM stops a run, its worker processes with it, in one line and exit status 130 or 143;
outputs are written whole or not at all (:mod:`sim.scenario.atomic_write`).  ``calibrate``
exits with status 3 when its fit does not reproduce the figures it was fitted to (the misses
are named; see ``sim.calibration.fit_report.verdict``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from sim.library.command import add_parser as add_library_parser
from sim.library.command import cmd_library
from sim.library.database import LibraryError
from sim.model.kpis import KPI_BY_NAME, KPI_NAMES
from sim.planning.budget_window import default_horizon, window_end_year, window_reached
from sim.planning.comparison import comparability_warnings, default_year, is_paired
from sim.planning.report_table import paired_side_by_side, years_table
from sim.run.cost import check_cost, check_workers, estimate, estimate_market
from sim.run.dask_engine import SCHEDULER_ENV, scheduler_problem
from sim.run.interrupts import Stopped, stop_on_signals
from sim.run.options import ENGINES, RunOptions
from sim.run.replications import at_least as at_least_rule
from sim.run.replications import run_to_precision, why
from sim.run.runner import run_scenario
from sim.scenario import atomic_write
from sim.scenario.files import ScenarioError, load_scenario, scenario_from_dict
from sim.scenario.parameters import parameter_table, parameters_markdown

HEADLINE = ["enquiries", "registrations", "approvals", "adopters_waiting", "plans_for_adoption",
            "placement_orders", "matches", "placements", "early_permanence_placements", "adoption_orders",
            "disruptions", "interagency_placements", "interagency_fees_gbp", "children_waiting_with_po",
            "adopter_gap", "a1_days", "a10_days", "a2_days", "a20_days"]


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--years", type=int, help="financial years to report (default: the scenario's, lengthened to "
                                             "reach the end of the next three financial years, as in the app)")
    p.add_argument("--reps", type=int, help="replications (default: as many as the stated precision needs, "
                                            "see docs/background/model.md, 'Replications')")
    p.add_argument("--seed", type=int, help="root random seed (default: the scenario's)")
    p.add_argument("--workers", type=int, help="processes to use (default: all cores; more than the cores only with "
                                                "--force)")
    p.add_argument("--engine", choices=ENGINES,
                   help="where replications run (default: processes, or serial with --workers 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help=f"Dask scheduler for --engine dask, e.g. tcp://host:8786 (default: ${SCHEDULER_ENV}, "
                        "else a local cluster)")
    p.add_argument("--kpis", help="comma-separated KPI names to show (default: the headline set; 'all' for all)")
    p.add_argument("--force", action="store_true",
                   help="run beyond the size limit (see docs/background/performance.md) and with more --workers than cores; for run and market, "
                        "also overwrite files that --json or --csv would replace (market: --csv)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(prog="python -m sim", description="Adoption pipeline simulation.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one scenario and print a year-by-year table")
    run.add_argument("scenario", nargs="?", help="scenario name in scenarios/ or a TOML path "
                                                 "(default: the built-in baseline)")
    _add_run_options(run)
    run.add_argument("--json", metavar="PATH", help="write results as JSON to PATH ('-' for standard output)")
    run.add_argument("--csv", metavar="DIR", help="write the tidy tables as CSV files into DIR")
    run.add_argument("--event-log", action="store_true", help="with --csv, also write the per-entity event log")
    cmp_ = sub.add_parser("compare", help="run scenarios and show them side by side")
    cmp_.add_argument("scenarios", nargs="+", help="scenario names or TOML paths ('baseline' for the built-in)")
    _add_run_options(cmp_)
    when = cmp_.add_mutually_exclusive_group()
    when.add_argument("--year", type=int, help="which reported year to compare, 1 = the base year (default: the "
                                               "first year a change can show, the financial year in which the "
                                               "earliest change against the first scenario starts; without one, "
                                               "year 2, the first forecast year)")
    when.add_argument("--horizon", action="store_true", help="compare each replication's average over the years")
    sub.add_parser("list", help="the scenario files in scenarios/: title, agency and years, calibrated baselines marked")
    add_library_parser(sub)
    params = sub.add_parser("params", help="list every parameter with its value, unit, range and source")
    params.add_argument("scenario", nargs="?", help="scenario (default: the built-in baseline)")
    params.add_argument("--markdown", action="store_true", help="print a Markdown table (as in docs/reference/parameters.md)")
    bench = sub.add_parser("bench", help="measure speed, parallel speed-up, memory and scaling on this machine")
    bench.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    bench.add_argument("--quick", action="store_true", help="a reduced workload (seconds, for tests)")
    bench.add_argument("--force", action="store_true", help="overwrite the --json file if it exists")
    bench.add_argument("--market", action="store_true", help="instead, time markets of 5 to 40 agencies and England")
    bench.add_argument("--against", metavar="FILE", help="also print this run's figures beside an earlier run's "
                                                         "--json file (e.g. benchmarks/0.4.0.json), with the ratios")
    bench.add_argument("--scheduler", metavar="ADDRESS", help="with --market: time England's replications on the Dask "
                                                              "cluster at ADDRESS (tcp://host:8786): replication-years "
                                                              "per second per worker, peak memory, and the workers "
                                                              "England x 100 x 10 needs for 60 s")
    warm = sub.add_parser("warmup", help="how many warm-up years a scenario needs to settle (Welch's method on "
                                         "yearly means)")
    warm.add_argument("scenario", nargs="?", help="scenario (default: the built-in baseline)")
    warm.add_argument("--reps", type=int, default=100, help="replications (default 100)")
    warm.add_argument("--years", type=int, default=12, help="years to run with no warm-up (default 12)")
    warm.add_argument("--force", action="store_true", help="run beyond the size limit (see docs/background/performance.md)")
    back = sub.add_parser("backtest", help="fit to a report's earlier years, forecast the last year of each series, "
                                           "and print the errors")
    back.add_argument("targets", nargs="+", help="targets files with series (figures for earlier years)")
    back.add_argument("--reps", type=int, default=40, help="replications per fit evaluation (default 40)")
    back.add_argument("--iterations", type=int, default=40, help="most iterations of the fit (default 40)")
    back.add_argument("--workers", type=int, help="processes to use (default: all cores)")
    back.add_argument("--csv", metavar="PATH", help="also write the table as CSV to PATH (refused if it exists)")
    back.add_argument("--leave-out", action="store_true",
                      help="instead, fit to the figures most agencies publish and predict the report's others")
    calib = sub.add_parser("calibrate", help="fit a baseline scenario to an agency's targets file, with a fit report")
    calib.add_argument("targets", help="targets file, e.g. calibration/targets/rotherham-2017-18.toml")
    calib.add_argument("--out", help="scenario file to write (default: scenarios/<targets file name>.toml)")
    calib.add_argument("--reps", type=int, default=40, help="replications per fit evaluation (default 40)")
    calib.add_argument("--report-reps", type=int, default=200, help="replications for the fit report (default 200)")
    calib.add_argument("--workers", type=int, help="processes to use (default: all cores)")
    calib.add_argument("--force", action="store_true",
                       help="overwrite an existing --out file and its fit report and parameter sets")
    calib.add_argument("--max-iterations", type=int, default=40,
                       help="most least-squares iterations of the fit (default 40; fewer for a quick look)")
    calib.add_argument("--design", type=int, default=600,
                       help="parameter sets simulated to fit the posterior's emulator (default 600)")
    calib.add_argument("--candidates", type=int, default=300,
                       help="sets from the posterior simulated to balance the saved sets' means on the fit's "
                            "(default 300; at least the 100 sets saved)")
    calib.add_argument("--start-from", metavar="SCENARIO",
                       help="start the fit from the values of a scenario calibrated to the same targets before "
                            "(a refit after a model change); the priors are unchanged")
    calib.add_argument("--report-dir", help="folder for the fit report and parameter sets (default: "
                       "calibration/reports and calibration/fits for a scenario in scenarios/, else beside --out)")
    market = sub.add_parser("market", help="run many agencies in one market: a table by agency and the ledger of "
                                           "interagency fees (who pays whom, by year)")
    market.add_argument("file", help="market file: a name in scenarios/markets/ or a TOML path")
    _add_run_options(market)
    market.add_argument("--csv", metavar="DIR", help="write the agency, ledger and replication tables as CSV into DIR")
    market.add_argument("--ledger", choices=("agencies", "regions"),
                        help="print the ledger agency by agency, or region by region (default: by agency for up "
                             "to 15 agencies)")
    market.add_argument("--against", metavar="BASE",
                        help="also run the market BASE (a name or path) at the same seed, replications and years, "
                             "and print the what-if's change against it, paired replication by replication")
    return parser


def _kpi_list(arg: str | None) -> list[str]:
    if not arg:
        return HEADLINE
    if arg == "all":
        return list(KPI_NAMES)
    names = [k.strip() for k in arg.split(",") if k.strip()]
    if not names:
        raise ScenarioError(f"--kpis: {arg!r} names no KPI; give names separated by commas (e.g. approvals,a2_days) "
                            f"or 'all'")
    unknown = [k for k in names if k not in KPI_BY_NAME]
    if unknown:
        raise ScenarioError(f"--kpis: unknown KPI {', '.join(unknown)}; known KPIs are {', '.join(KPI_NAMES)}")
    return names


def _check_run_options(args) -> None:
    """Refuse options that cannot work before anything runs (nothing is written yet)."""
    for option, value in (("--reps", args.reps), ("--years", args.years)):
        if value is not None and value < 1:
            raise ScenarioError(f"{option}: must be at least 1, got {value}")
    check_workers(args.workers, args.force)
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed: must be a whole number 0 or more, got {args.seed}")
    if args.scheduler is not None:
        if args.engine not in (None, "dask"):
            raise ScenarioError(f"--scheduler: a Dask scheduler is for --engine dask, not --engine {args.engine}")
        problem = scheduler_problem(args.scheduler)
    elif args.engine == "dask" and os.environ.get(SCHEDULER_ENV) is not None:
        problem = scheduler_problem(os.environ[SCHEDULER_ENV], f"${SCHEDULER_ENV}")
    else:
        problem = None
    if problem:
        raise ScenarioError(problem)


def _engine(args) -> str:
    """The engine asked for, or the one the other options imply."""
    engine, workers = getattr(args, "engine", None), getattr(args, "workers", None)
    return engine or ("dask" if getattr(args, "scheduler", None) else "serial" if workers == 1 else "processes")


def _scenario(name, args):
    """The scenario with the run's --reps, --years and --seed (checked like the file's own values)."""
    scenario = load_scenario(name)
    run = scenario.scenario
    years = args.years if args.years is not None else default_horizon(run.start_year, run.years)
    given = [(option, k, v) for option, k, v in (("--reps", "replications", args.reps), ("--years", "years", years),
                                                ("--seed", "seed", args.seed)) if v is not None]
    if years == run.years:
        given = [g for g in given if g[0] != "--years"]
    if not given:
        return scenario
    data = scenario.model_dump()
    data["scenario"].update({k: v for _, k, v in given})
    return scenario_from_dict(data, " ".join(option for option, _, _ in given))


def _check_cost(scenarios: list, args) -> None:
    """Refuse, before it starts, a run beyond the size limit (unless --force); say what a long one will take.
    ``scenarios`` are (name, scenario) pairs."""
    for name, scenario in scenarios:
        cost = estimate(scenario, getattr(args, "workers", None), _engine(args), getattr(args, "event_log", False))
        what = f"{args.command} {name}" if name else args.command
        if not args.force:
            check_cost(cost, what)
        if max(cost.seconds, cost.busy_seconds or 0) > 60:
            print(f"{what}: {cost.describe()}", file=sys.stderr, flush=True)


def _run(scenario, args, progress=True, at_least: int = 0, share_history: bool = False):
    """Run a scenario (with the run's options set, see :func:`_scenario`): ``--reps`` replications, or
    as many as the stated precision needs (at least ``at_least``, so that a comparison's runs pair up).
    ``share_history``: keep the replications' histories for later scenarios of the same baseline
    (:mod:`sim.run.shared_history`), as a comparison's runs are."""
    options = RunOptions(engine=_engine(args), workers=args.workers, event_log=getattr(args, "event_log", False),
                         progress=_progress if progress else None, scheduler=args.scheduler,
                         share_history=share_history)
    if args.reps is None:
        return run_to_precision(scenario, at_least_rule(at_least), options=options)
    return run_scenario(scenario, options=options)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r  replication {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def _output_files(args) -> list[Path]:
    """The files ``run`` would write (for --json and --csv)."""
    files = [Path(args.json)] if args.json and args.json != "-" else []
    if args.csv:
        names = ["summary.csv", "replications.csv"] + (["events.csv"] if args.event_log else [])
        files += [Path(args.csv) / name for name in names]
    return files


def _check_outputs(args) -> None:
    """Refuse, before the run, outputs that could not be written or would replace saved files."""
    if args.event_log and not args.csv:
        raise ScenarioError("--event-log: the event log is written with the tables; add --csv DIR")
    problems = ([atomic_write.output_problem(args.json, "--json")] if args.json not in (None, "-") else []) + \
               ([atomic_write.output_problem(args.csv, "--csv", folder=True)] if args.csv is not None else [])
    if any(problems):
        raise ScenarioError(next(p for p in problems if p))
    existing = [str(f) for f in _output_files(args) if f.is_file()]  # a saved file, not /dev/null
    if existing and not args.force:
        raise ScenarioError(f"{', '.join(existing)}: already exists; choose another --json path or --csv folder, "
                            f"or add --force to overwrite")


def cmd_run(args) -> int:
    kpis = _kpi_list(args.kpis)
    _check_run_options(args)
    _check_outputs(args)
    scenario = _scenario(args.scenario, args)
    _check_cost([("", scenario)], args)
    results = _run(scenario, args, progress=args.json != "-")
    files = {}
    if args.json == "-":
        print(json.dumps(results.to_json_dict(), indent=1))
    elif args.json:
        text = json.dumps(results.to_json_dict(), indent=1)
        files[Path(args.json)] = lambda path: path.write_text(text, encoding="utf-8")
    if args.csv:
        out = Path(args.csv)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"summary.csv": results.summary, "replications.csv": results.replications,
                  "events.csv": results.events}
        files.update({out / name: lambda path, t=table: t.to_csv(path, index=False)
                      for name, table in tables.items() if table is not None})
    atomic_write.write_files(files)  # all of them, or none
    if args.json != "-":
        run = results.scenario.scenario
        print(f"{run.name}: {why(results)}; seed {run.seed}; mean and 90% interval by financial year")
        print(years_table(results.summary, kpis))
    return 0


def cmd_compare(args) -> int:
    kpis = _kpi_list(args.kpis)
    _check_run_options(args)
    scenarios = [_scenario(name, args) for name in args.scenarios]
    _check_cost(list(zip(args.scenarios, scenarios)), args)
    runs = {}
    for name, scenario in zip(args.scenarios, scenarios):  # the first run sets the least count of the others
        first = next(iter(runs.values()), None)
        results = _run(scenario, args, at_least=first.scenario.scenario.replications if first else 0,
                       share_history=len(scenarios) > 1)
        runs[name if name not in runs else f"{name} ({len(runs) + 1})"] = results
    names = list(runs)
    reference = runs[names[0]]
    years = min(len(r.years) for r in runs.values())
    note = ""
    if args.horizon:
        year = None
    elif args.year is not None:
        if not 1 <= args.year <= years:
            raise ScenarioError(f"--year: must be between 1 and {years}")
        year = args.year
    else:  # as the app: the budget window's last year, or the first a change can show if later
        year = min(default_year(r.scenario, reference.scenario, years) for r in runs.values())
        start = reference.scenario.scenario.start_year
        note = (", the end of the next three financial years" if year == window_end_year(start, years)
                and window_reached(start, years) else ", the last year simulated" if year == years
                else ", the first year a change can show")
    if year is None:
        print("Average over the years of each run: mean [90% interval]", end="")
    else:
        shown = {name: r.years[year - 1] for name, r in runs.items()}
        if len(set(shown.values())) == 1:
            print(f"{next(iter(shown.values()))} (year {year}{note}): mean [90% interval]", end="")
        else:  # scenarios starting in different years: say which financial year each column is
            print(f"Year {year} of each run{note} ({', '.join(f'{n}: {y}' for n, y in shown.items())}): "
                  f"mean [90% interval]", end="")
    print(f"; change against {names[0]}, paired replication by replication, mean [90% interval]"
          if len(names) > 1 else "")
    print(paired_side_by_side(runs, kpis, year))
    for name, results in runs.items():
        print(f"{name}: {why(results)}")
    for name in names[1:]:
        for text in comparability_warnings(names[0], reference, name, runs[name]):
            print(f"note: {text}")
        if not is_paired(reference, runs[name]):
            print(f"note: '{name}' has another seed than '{names[0]}': not paired, so its interval is wider")
    return 0


def cmd_list(args) -> int:
    from sim.scenario.catalogue import catalogue, listing

    print(listing(catalogue()))
    return 0


def cmd_params(args) -> int:
    scenario = load_scenario(args.scenario)
    if args.markdown:
        print(parameters_markdown(scenario))
        return 0
    for row in parameter_table(scenario):
        rng = f"{row['min']:g}–{row['max']:g}" if row["min"] is not None and row["max"] is not None else ""
        print(f"{row['section']}.{row['name']} = {row['value']!r} [{row['unit']}] {rng}\n"
              f"    {row['meaning']}  Source: {row['source']}")
    for entry in [*scenario.trend, *scenario.change]:
        kind = "trend" if entry in scenario.trend else "change"
        print(f"{kind}: {entry.describe()}\n    Source: {entry.note or 'not given'}")
    return 0


def cmd_bench(args) -> int:
    from sim.planning import waiting_time
    from sim.run.bench import QUICK, STANDARD, report, run_benchmark
    from sim.run.replications import Precision

    if args.json is not None and (problem := atomic_write.output_problem(args.json, "--json")):
        raise ScenarioError(problem)
    if args.json and Path(args.json).is_file() and not args.force:
        raise ScenarioError(f"{args.json}: already exists; choose another --json path, or add --force to overwrite")
    if args.scheduler is not None and not args.market:
        raise ScenarioError("--scheduler: times a market on a cluster; use it with --market")
    if args.scheduler is not None and (problem := scheduler_problem(args.scheduler)):
        raise ScenarioError(problem)
    if args.against is not None and args.market:
        raise ScenarioError("--against: compares the standard benchmark's figures; leave out --market")
    earlier = None
    if args.against is not None:
        from sim.run.bench_against import load_figures

        earlier = load_figures(args.against)  # read before the run: a bad file costs no wait
    if args.market:
        from sim.run.market_bench import cluster
        from sim.run.market_bench import main as market_bench

        if args.scheduler:
            return cluster(args.scheduler, args.quick, args.json)
        return market_bench(args.quick, args.json)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    figures = run_benchmark(QUICK if args.quick else STANDARD, say=say)
    if args.quick:  # a reduced workload: two years, a handful of replications, one what-if
        waits = waiting_time.measure(years=2, precision=Precision(minimum=4, maximum=8, batch=4),
                                     what_ifs=waiting_time.WHAT_IFS[:1], targets=waiting_time.TARGETS[:1], say=say)
    else:
        waits = waiting_time.measure(say=say)
    print(report(figures) + waiting_time.report(waits))
    if earlier is not None:
        from sim.run.bench_against import against

        print(against(asdict(figures), earlier, args.against))
    if args.json:
        text = json.dumps({**asdict(figures), **waits.as_dict()}, indent=1)
        atomic_write.write_files({Path(args.json): lambda path: path.write_text(text, encoding="utf-8")})
    return 0


def cmd_warmup(args) -> int:
    from sim.run.warm_up import analyse_warm_up

    if args.reps < 2 or not 4 <= args.years <= 50:
        raise ScenarioError("warmup: --reps must be at least 2 and --years between 4 and 50")
    scenario = load_scenario(args.scenario)
    data = scenario.model_dump()
    data["scenario"].update(replications=args.reps, years=args.years, warm_up_years=0)
    _check_cost([("", scenario_from_dict(data, "--reps --years"))], args)
    print(analyse_warm_up(scenario, replications=args.reps, years=args.years).text())
    return 0


def cmd_backtest(args) -> int:
    import pandas as pd

    from sim.calibration.back_test import back_test, leave_figures_out, summary
    from sim.calibration.fit import CalibrationError
    from sim.calibration.targets import TargetsError

    if args.csv is not None and (problem := atomic_write.output_problem(args.csv, "--csv")):
        raise ScenarioError(problem)
    if args.csv and Path(args.csv).exists():
        raise ScenarioError(f"--csv {args.csv}: already exists; choose another path")
    check_workers(args.workers, forcible=False)
    if args.reps < 2 or args.iterations < 1:
        raise ScenarioError("backtest: --reps must be at least 2 and --iterations at least 1")
    tables = []
    try:
        for path in args.targets:
            test = leave_figures_out if args.leave_out else back_test
            tables.append(test(path, replications=args.reps, max_iterations=args.iterations,
                                    workers=args.workers, say=lambda s: print(s, file=sys.stderr, flush=True)))
    except (TargetsError, CalibrationError) as exc:
        raise ScenarioError(str(exc)) from None
    table = pd.concat(tables, ignore_index=True)
    shown = table.drop(columns="fitted_to").round({"forecast": 1, "p5": 1, "p95": 1, "error_pct": 1})
    print(shown.to_string(index=False))
    print()
    print(summary(table).round(1).to_string(index=False))
    if args.csv:
        atomic_write.write_files({args.csv: lambda path: table.to_csv(path, index=False)})
    return 0


def _quiet_stdout() -> None:
    """Send what is left of standard output nowhere, so that flushing it at exit does not fail on
    the closed pipe again (the recipe of the Python documentation, 'Note on SIGPIPE')."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def cmd_calibrate(args) -> int:
    from sim.calibration.command import command  # SciPy is loaded only when calibrating

    check_workers(args.workers, args.force)
    for option, folder in (("--out", Path(args.out).parent if args.out else None), ("--report-dir", args.report_dir)):
        if folder is not None and (problem := atomic_write.output_problem(folder, option, folder=True)):
            raise ScenarioError(problem)  # before the fit, not after it
    return command(args)


def cmd_market(args) -> int:
    """Run a market file: the table by agency, then the ledger; with --csv, the tables as files."""
    from sim.planning.market_tables import AGENCY_KPIS, agency_text, ledger_text, sufficiency_text
    from sim.run.market_runner import run_market
    from sim.scenario.market_file import load_market

    _check_run_options(args)
    kpis = _kpi_list(args.kpis) if args.kpis else AGENCY_KPIS
    names = ("agencies.csv", "agency_replications.csv", "ledger.csv", "ledger_replications.csv")
    files = [Path(args.csv) / name for name in names] if args.csv else []
    if args.csv is not None and (problem := atomic_write.output_problem(args.csv, "--csv", folder=True)):
        raise ScenarioError(problem)
    existing = [str(f) for f in files if f.is_file()]
    if existing and not args.force:
        raise ScenarioError(f"{', '.join(existing)}: already exists; choose another --csv folder, or add --force")
    market = load_market(args.file)
    base = load_market(args.against) if args.against else None  # refused before any run, if it is wrong
    engine = args.engine or ("dask" if args.scheduler else "serial" if args.workers == 1 else "processes")
    for spec in (market, base) if base is not None else (market,):
        cost = estimate_market(spec.with_run(years=args.years, replications=args.reps), args.workers, engine)
        what = f"market {Path(spec.source).stem}"
        if not args.force:
            check_cost(cost, what)
        if max(cost.seconds, cost.busy_seconds or 0) > 60:
            print(f"{what}: {cost.describe()}", file=sys.stderr, flush=True)
    results = run_market(market, replications=args.reps, years=args.years, seed=args.seed, engine=engine,
                         workers=args.workers, progress=_progress, scheduler=args.scheduler)
    m = results.market
    print(f"{m.name}: {len(m.agencies)} agencies, {m.replications} replications, seed {m.seed}, "
          f"{results.agencies['financial_year'].iloc[0]} to {results.agencies['financial_year'].iloc[-1]}")
    print("\nEach agency's yearly average over the years, mean [90% interval]:")
    print(agency_text(results, kpis))
    by_region = args.ledger == "regions" or (args.ledger is None and len(m.agencies) > 15)
    print(f"\nInteragency placements and fees, payer to provider{' (by region)' if by_region else ''}, "
          "by financial year:")
    print(ledger_text(results, by_region=by_region))
    print("\nInteragency families available: approved adopters waiting anywhere per child waiting with an order,\n"
          "and as an index of the first year's (the 'national sufficiency' lever of a single-agency run):")
    print(sufficiency_text(results))
    if base is not None:
        _print_market_changes(base, results, args, engine)
    if files:
        Path(args.csv).mkdir(parents=True, exist_ok=True)
        tables = (results.agencies, results.agency_replications, results.ledger, results.ledger_replications)
        atomic_write.write_files({f: lambda path, t=table: t.to_csv(path, index=False)
                                  for f, table in zip(files, tables)})  # all of them, or none
    return 0


def _print_market_changes(base, results, args, engine: str) -> None:
    """The what-if ``results`` against the market ``base`` run alike: each measure's change from the
    first year a change of the what-if shows, to the end."""
    from sim.planning.market_tables import first_market_change, market_changes, market_changes_text
    from sim.run.market_runner import run_market

    m = results.market
    against = run_market(base, replications=m.replications, years=m.years, seed=m.seed, engine=engine,
                         workers=args.workers, progress=_progress, scheduler=args.scheduler)
    first = (first_market_change(m, base) or (1, ""))[0]
    labels = sorted(set(results.agencies["financial_year"]))
    print(f"\nChange against {base.name} (same seed, paired by replication): yearly average of the market's "
          f"totals, {labels[first - 1]} to {labels[-1]}, mean [90% interval]:")
    print(market_changes_text(market_changes(against, results, from_year=first)))


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "list": cmd_list, "params": cmd_params, "bench": cmd_bench,
            "calibrate": cmd_calibrate, "warmup": cmd_warmup, "backtest": cmd_backtest, "market": cmd_market,
            "library": cmd_library}


class OneLineErrors(argparse.ArgumentParser):
    """A parser whose mistakes (an unknown option, a number that is not one) are one line on
    standard error, like every other refusal, with where to find the options."""

    def error(self, message: str):
        self.exit(2, f"error: {_one_line(message)} (see {self.prog} --help)\n")


def _one_line(text: str) -> str:
    """A message on one line, whatever the user typed into it."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    try:
        with stop_on_signals():
            args = build_parser().parse_args(argv)
            try:
                status = COMMANDS[args.command](args)
                sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
                return status
            except BrokenPipeError:  # the reader went away (python -m sim params | head): nothing more to say
                _quiet_stdout()
                return 0
            except (ScenarioError, ConnectionError, LibraryError) as exc:
                print(f"error: {_one_line(str(exc))}", file=sys.stderr)
                return 2
            except OSError as exc:
                print(f"error: {_one_line(str(exc.filename or ''))}: {exc.strerror or exc}", file=sys.stderr)
                return 2
    except Stopped as exc:
        held = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}  # a second Ctrl-C
        print(f"{exc}: stopped, with its worker processes; no output was left half written", file=sys.stderr)
        for s, handler in held.items():
            signal.signal(s, handler)
        return exc.status
