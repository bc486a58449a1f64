"""Results as files a finance officer or a board paper can use: CSV, Excel and TOML.

Every function returns bytes, ready for a download button or for writing to disk.
"""

from __future__ import annotations

import io
import re

import pandas as pd

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


def _sheet_name(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "sheet"
    candidate, i = base, 2
    while candidate.lower() in used:
        suffix = f" ({i})"
        candidate, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(candidate.lower())
    return candidate


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Several tables as one Excel workbook (openpyxl), one sheet each, header row frozen."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets.items():
            sheet = _sheet_name(name, used)
            table.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for column in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
                ws.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    return buffer.getvalue()


def results_excel(runs: dict[str, Results], extra: dict[str, pd.DataFrame] | None = None) -> bytes:
    """A workbook with, for each scenario, its summary and its parameters (and its dated changes,
    if it has any), plus any extra tables."""
    sheets: dict[str, pd.DataFrame] = {}
    for name, results in runs.items():
        sheets[f"summary {name}"] = results.summary
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
