"""Plain-text tables for the terminal: KPIs by year, and scenarios side by side."""

from __future__ import annotations

import math

import pandas as pd

from sim.kpis import KPI_BY_NAME, MONEY, PERCENT


def fmt(value: float, kpi: str) -> str:
    """A figure rounded as a planner would quote it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    kind = KPI_BY_NAME[kpi].kind
    if kind == MONEY:
        return f"£{value / 1000:,.0f}k"
    if kind == PERCENT or KPI_BY_NAME[kpi].unit == "%":
        return f"{value:.0f}%"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def years_table(summary: pd.DataFrame, kpis: list[str]) -> str:
    """Rows of KPIs; for each, a line of means and a line of 90% intervals, by year."""
    years = list(dict.fromkeys(summary["financial_year"]))
    label_width = max(len(KPI_BY_NAME[k].label) for k in kpis) + 2
    col = max(15, max(len(y) for y in years) + 2)
    lines = ["".ljust(label_width) + "".join(y.rjust(col) for y in years)]
    for kpi in kpis:
        rows = summary[summary["kpi"] == kpi]
        means = [fmt(v, kpi) for v in rows["mean"]]
        ranges = [f"{fmt(lo, kpi)}–{fmt(hi, kpi)}" for lo, hi in zip(rows["p5"], rows["p95"])]
        lines.append(KPI_BY_NAME[kpi].label.ljust(label_width) + "".join(m.rjust(col) for m in means))
        lines.append("  90% interval".ljust(label_width) + "".join(r.rjust(col) for r in ranges))
    return "\n".join(lines)


def side_by_side(columns: dict[str, pd.DataFrame], kpis: list[str], year: int) -> str:
    """KPIs in rows, scenarios in columns: mean and 90% interval in the chosen year."""
    label_width = max(len(KPI_BY_NAME[k].label) for k in kpis) + 2
    col = max(26, max(len(n) for n in columns) + 2)
    lines = ["".ljust(label_width) + "".join(n[:col - 2].rjust(col) for n in columns)]
    for kpi in kpis:
        cells = []
        for summary in columns.values():
            row = summary[(summary["kpi"] == kpi) & (summary["year"] == year)].iloc[0]
            cells.append(f"{fmt(row['mean'], kpi)} [{fmt(row['p5'], kpi)}–{fmt(row['p95'], kpi)}]")
        lines.append(KPI_BY_NAME[kpi].label.ljust(label_width) + "".join(c.rjust(col) for c in cells))
    return "\n".join(lines)
