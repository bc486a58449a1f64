"""``python -m sim bench --against FILE``: this run's figures beside those of an earlier run (a
release's ``--json`` file, such as ``benchmarks/0.4.0.json``), each with the ratio now / then, so a
developer sees before a release whether the model got slower per event, did more events for the
same work, or used more memory.  Figures, not a pass or fail: the machine and its load are printed
with both, and a ratio within a few per cent is noise."""

from __future__ import annotations

import json
from pathlib import Path

from sim.scenario.bounded_read import InputFileError, read_input_text
from sim.scenario.files import ScenarioError

#: (key in the --json file, label, unit, whether higher is better)
COMPARED = (
    ("events_per_replication", "events a replication", "", False),
    ("model_events_per_s", "model events/s", "", True),
    ("event_ratio", "ratio model / bare simpy", "", True),
    ("serial_replications_per_s", "replications/s, 1 process", "", True),
    ("parallel_replications_per_s", "replications/s, all cores", "", True),
    ("standard_workload_wall_s", "standard workload", "s", False),
    ("command_line_wall_s", "command line, end to end", "s", False),
    ("peak_rss_mib", "peak memory", "MiB", False),
)


def load_figures(path: str) -> dict:
    """An earlier ``bench --json`` file; refused, saying why, if it is not one."""
    try:
        text = read_input_text(Path(path), "benchmark figures file")
        figures = json.loads(text)
    except InputFileError as exc:
        raise ScenarioError(f"--against: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"--against {path}: not a JSON file of benchmark figures ({exc})") from None
    missing = [key for key, *_ in COMPARED if not isinstance(figures, dict) or
               not isinstance(figures.get(key), int | float)]
    if missing:
        raise ScenarioError(f"--against {path}: not the figures of `python -m sim bench --json` (no "
                            f"{', '.join(missing[:3])}); give a file that command wrote")
    return figures


def against(now: dict, then: dict, then_name: str) -> str:
    """The figures side by side, with the ratio now / then and whether that is better or worse."""
    lines = ["", f"Against {then_name} ({then.get('scenario', '?')}, {then.get('cores', '?')} cores, load "
                 f"{_load(then)}; now load {_load(now)})",
             f"  {'':<30}{'then':>14}{'now':>14}{'now/then':>10}"]
    for key, label, unit, higher_better in COMPARED:
        a, b = float(then[key]), float(now[key])
        ratio = b / a if a else float("nan")
        verdict = "" if abs(ratio - 1) < 0.03 else ("better" if (ratio > 1) == higher_better else "worse")
        lines.append(f"  {label + (f' ({unit})' if unit else ''):<30}{_figure(a):>14}{_figure(b):>14}"
                     f"{ratio:>9.2f}x  {verdict}".rstrip())
    return "\n".join(lines)


def _figure(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"


def _load(figures: dict) -> str:
    load = figures.get("load_average") or [float("nan")]
    return f"{load[0]:.1f}"
