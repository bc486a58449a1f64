"""Plain-text tables for the terminal: KPIs by year, and scenarios side by side (with the
paired change of each against the first).

Every figure is rounded by the same functions as the app, the spreadsheet and the board paper
(:func:`sim.planning.comparison.format_estimate`), and a comparison's means come from the
replications every run shares (:func:`sim.planning.comparison.side_by_side`), so the command line
agrees with the other outputs figure for figure."""

from __future__ import annotations

import pandas as pd

from sim.model.kpis import KPI_BY_NAME
from sim.planning.comparison import estimate_parts, format_change, format_estimate, format_figure, side_by_side

#: The measures of a full table and of the board paper, wherever it is made (app or command line).
TABLE_KPIS = ["enquiries", "approvals", "adopters_waiting", "children_waiting_with_po",
              "children_waiting_over_18_months", "adopter_gap", "placements", "early_permanence_placements",
              "interagency_placements", "adoption_orders", "a1_days", "a10_days", "a2_days", "a20_days",
              "interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp"]

#: Units a printed row names beside its label (counts are plain numbers of what the label says).
SHOWN_UNITS = ("days", "£", "%")


def row_label(kpi: str) -> str:
    """A KPI's label for a printed table, with its unit where the figure is not a plain count:
    'A2: order to match (days)', 'Interagency fees paid (£)', 'A3: moved in within 14 months (%)'."""
    k = KPI_BY_NAME[kpi]
    return f"{k.label} ({k.unit})" if k.unit in SHOWN_UNITS else k.label


def _mean_and_range(mean: float, p5: float, p95: float, unit: str) -> tuple[str, str]:
    """The mean and its 90% interval, rounded together as :func:`format_estimate` rounds them."""
    parts = estimate_parts(mean, p5, p95, unit)
    if parts is None:  # a mean outside its interval, or no figure: said in words
        return format_figure(mean, unit), format_estimate(mean, p5, p95, unit)
    return parts[0], f"{parts[1]} to {parts[2]}"


def _lines(rows: list[tuple[str, list[str]]], header: list[str], least: int) -> str:
    label_width = max(len(label) for label, _ in rows) + 2
    col = max(least, max(len(h) for h in header) + 2, max((len(c) for _, cells in rows for c in cells), default=0) + 2)
    lines = ["".ljust(label_width) + "".join(h.rjust(col) for h in header)]
    lines += [label.ljust(label_width) + "".join(c.rjust(col) for c in cells) for label, cells in rows]
    return "\n".join(lines)


def years_table(summary: pd.DataFrame, kpis: list[str]) -> str:
    """Rows of KPIs; for each, a line of means and a line of 90% intervals, by year."""
    years = list(dict.fromkeys(summary["financial_year"]))
    rows = []
    for kpi in kpis:
        unit = KPI_BY_NAME[kpi].unit
        shown = [_mean_and_range(r.mean, r.p5, r.p95, unit) for r in summary[summary["kpi"] == kpi].itertuples()]
        rows.append((row_label(kpi), [m for m, _ in shown]))
        rows.append(("  90% interval", [r for _, r in shown]))
    return _lines(rows, years, 15)


def paired_side_by_side(runs: dict, kpis: list[str], year: int | None) -> str:
    """KPIs in rows, scenarios in columns: mean and 90% interval in ``year`` (None: the average
    over the horizon), and under each KPI the change of each scenario against the first, paired
    replication by replication, every figure over the replications all the runs share
    (:func:`sim.planning.comparison.side_by_side`)."""
    names = list(runs)
    table = side_by_side(runs, kpis, year).set_index(["kpi", "scenario"])
    rows = []
    for kpi in kpis:
        unit = KPI_BY_NAME[kpi].unit
        cells = [table.loc[(kpi, n)] for n in names]
        rows.append((row_label(kpi), [format_estimate(c["mean"], c["p5"], c["p95"], unit) for c in cells]))
        if len(names) > 1:
            rows.append(("  change (paired)", [""] + [format_change(c["change"], c["change_p5"], c["change_p95"], unit)
                                                      for c in cells[1:]]))
    return _lines(rows, names, 26)
