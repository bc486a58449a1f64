"""Results as files a finance officer or a board paper can use: CSV, Excel and TOML.

Every function returns bytes, ready for a download button or for writing to disk.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from sim.planning.comparison import round_estimate, side_by_side
from sim.run.runner import Results
from sim.scenario.files import to_toml
from sim.scenario.parameters import Scenario, parameter_table

EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV (no index)."""
    return table.to_csv(index=False).encode("utf-8")


def results_csv(results: Results, scenario_name: str | None = None) -> bytes:
    """The summary (mean and 90% interval by year and KPI) as CSV, labelled with the scenario."""
    table = results.summary.copy()
    table.insert(0, "scenario", scenario_name or results.scenario.scenario.name)
    return csv_bytes(table)


SHEET_LIMIT = 31  # characters: Excel's limit on a sheet's name


def sheet_name(name: str, used: set[str]) -> str:
    """A readable Excel sheet name: none of []:*?/\\, at most 31 characters, unique.

    The naming rule: a longer name keeps its whole words that fit (never cut mid-word; only a
    single word longer than 31 characters is cut); a name already taken gets ' (2)', ' (3)'
    and so on, again after whole words.  The workbook's 'contents' sheet gives each sheet's
    full title.
    """
    words = re.sub(r"[\[\]:*?/\\]", " ", name).split()

    def fit(limit: int) -> str:
        text = ""
        for word in words:
            candidate = f"{text} {word}".strip()
            if len(candidate) > limit:
                break
            text = candidate
        return text or (words[0][:limit] if words else "sheet")

    candidate, i = fit(SHEET_LIMIT), 2
    while candidate.lower() in used:
        suffix = f" ({i})"
        candidate, i = fit(SHEET_LIMIT - len(suffix)) + suffix, i + 1
    used.add(candidate.lower())
    return candidate


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Several tables as one Excel workbook (openpyxl), one sheet each, header row frozen, and a
    first sheet, 'contents', naming every sheet with its full title (names are cut to 31
    characters by :func:`sheet_name`)."""
    buffer = io.BytesIO()
    used: set[str] = {"contents"}
    names = {title: sheet_name(title, used) for title in sheets}
    contents = pd.DataFrame({"sheet": list(names.values()), "what it holds": list(names)})
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, table in [("contents", contents)] + [(names[t], table) for t, table in sheets.items()]:
            table.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for column in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
                ws.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    return buffer.getvalue()


def rounded(table: pd.DataFrame, groups: tuple[tuple[str, str, str], ...] = (("mean", "p5", "p95"),),
            unit: str = "unit", change: bool = False) -> pd.DataFrame:
    """A table with each (mean, 5th, 95th percentile) group of columns rounded as the app shows
    them (:func:`sim.planning.comparison.round_estimate`, by each row's unit)."""
    out = table.copy()
    for group in groups:
        values = [round_estimate(*(getattr(r, c) for c in group), getattr(r, unit), change or group[0] == "change")
                  for r in out[list(group) + [unit]].itertuples()]
        for i, column in enumerate(group):
            out[column] = [v[i] for v in values]
    return out


def comparison_frame(runs: dict[str, Results], kpis: list[str], reference: str | None = None) -> pd.DataFrame:
    """Scenarios side by side for a spreadsheet: every financial year and the average over the
    horizon, one row per year, measure and scenario, with its mean and 90% interval and the
    paired change against ``reference`` (the first if not given), rounded as the app shows them."""
    first = next(iter(runs.values()))
    periods = [(i + 1, fy) for i, fy in enumerate(first.years)]
    periods.append((None, f"average {first.years[0]} to {first.years[-1]}"))
    frames = []
    for year, label in periods:
        table = side_by_side(runs, kpis, year, reference)
        table.insert(0, "financial_year", label)
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table = rounded(table, (("mean", "p5", "p95"), ("change", "change_p5", "change_p95")))
    return table[["financial_year", "label", "unit", "scenario", "mean", "p5", "p95", "change", "change_p5",
                  "change_p95", "n", "kpi"]].rename(columns={"label": "measure"})


def results_excel(runs: dict[str, Results], extra: dict[str, pd.DataFrame] | None = None) -> bytes:
    """A workbook with, for each scenario, its summary (rounded as the app shows it) and its
    parameters (and its dated changes, if it has any), plus any extra tables."""
    sheets: dict[str, pd.DataFrame] = {}
    for name, results in runs.items():
        sheets[f"summary {name}"] = rounded(results.summary)
    sheets.update(extra or {})
    for name, results in runs.items():
        sheets[f"parameters {name}"] = parameters_frame(results.scenario)
        if results.scenario.change or results.scenario.trend:
            sheets[f"changes {name}"] = changes_frame(results.scenario)
    return excel_bytes(sheets)


def parameters_frame(scenario: Scenario) -> pd.DataFrame:
    """Every parameter of a scenario with its unit, range and source."""
    table = pd.DataFrame(parameter_table(scenario))
    table["value"] = table["value"].map(str)
    table["default"] = table["default"].map(str)
    return table


def changes_frame(scenario: Scenario) -> pd.DataFrame:
    """A scenario's dated changes and trends, one row each: what moves, from when, by how much, why."""
    rows = [{"kind": "change", "parameter": c.parameter, "start": c.start, "end": c.end or "",
             "what": c.describe(), "note": c.note} for c in scenario.change]
    rows += [{"kind": "trend", "parameter": t.parameter, "start": t.start or "", "end": t.until or "",
              "what": t.describe(), "note": t.note} for t in scenario.trend]
    return pd.DataFrame(rows, columns=["kind", "parameter", "start", "end", "what", "note"])


def scenario_toml(scenario: Scenario, name: str | None = None, description: str | None = None,
                  replications: int | None = None, years: int | None = None) -> bytes:
    """The complete scenario as TOML (every parameter written out, so the file stands alone)."""
    data = scenario.model_dump()
    for key, value in (("name", name), ("description", description), ("replications", replications),
                       ("years", years)):
        if value is not None:
            data["scenario"][key] = value
    return to_toml(Scenario.model_validate(data)).encode("utf-8")


def file_stem(name: str) -> str:
    """A safe file name from a scenario name: 'Campaign +30%' -> 'campaign-30'."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return stem or "scenario"
