"""Plain-text tables for the terminal: KPIs by year, and scenarios side by side (with the
paired change of each against the first)."""

from __future__ import annotations

import math

import pandas as pd

from sim.model.kpis import KPI_BY_NAME, MONEY, PERCENT


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


#: Units a printed row names beside its label (counts are plain numbers of what the label says).
SHOWN_UNITS = ("days", "£", "%")


def row_label(kpi: str) -> str:
    """A KPI's label for a printed table, with its unit where the figure is not a plain count:
    'A2: order to match (days)', 'Interagency fees paid (£)', 'A3: moved in within 14 months (%)'."""
    k = KPI_BY_NAME[kpi]
    return f"{k.label} ({k.unit})" if k.unit in SHOWN_UNITS else k.label


def years_table(summary: pd.DataFrame, kpis: list[str]) -> str:
    """Rows of KPIs; for each, a line of means and a line of 90% intervals, by year."""
    years = list(dict.fromkeys(summary["financial_year"]))
    label_width = max(len(row_label(k)) for k in kpis) + 2
    col = max(15, max(len(y) for y in years) + 2)
    lines = ["".ljust(label_width) + "".join(y.rjust(col) for y in years)]
    for kpi in kpis:
        rows = summary[summary["kpi"] == kpi]
        means = [fmt(v, kpi) for v in rows["mean"]]
        ranges = [f"{fmt(lo, kpi)}–{fmt(hi, kpi)}" for lo, hi in zip(rows["p5"], rows["p95"])]
        lines.append(row_label(kpi).ljust(label_width) + "".join(m.rjust(col) for m in means))
        lines.append("  90% interval".ljust(label_width) + "".join(r.rjust(col) for r in ranges))
    return "\n".join(lines)


def fmt_change(value: float, kpi: str) -> str:
    """A change as a planner would quote it: '+2.0', '−£35k', '+5 points' (for a percentage)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if KPI_BY_NAME[kpi].kind == PERCENT or KPI_BY_NAME[kpi].unit == "%":
        text = f"{abs(value):.0f} points"
    else:
        text = fmt(abs(value), kpi)
    zero = not any(ch in "123456789" for ch in text)
    return ("-" if value < 0 and not zero else "+") + text


def paired_side_by_side(runs: dict, kpis: list[str], year: int | None) -> str:
    """KPIs in rows, scenarios in columns: mean and 90% interval in ``year`` (None: the average
    over the horizon), and under each KPI the change of each scenario against the first, paired
    replication by replication (:func:`sim.planning.comparison.change_table`), with its 90% interval."""
    from sim.planning.comparison import change_table, describe, period_values

    names = list(runs)
    reference = runs[names[0]]
    changes = {name: change_table(reference, runs[name], kpis, year).set_index("kpi") for name in names[1:]}
    rows = []
    for kpi in kpis:
        cells = []
        for name in names:
            d = describe(period_values(runs[name], kpi, year))
            cells.append(f"{fmt(d['mean'], kpi)} [{fmt(d['p5'], kpi)}–{fmt(d['p95'], kpi)}]")
        rows.append((row_label(kpi), cells))
        if changes:
            cells = [""] + [f"{fmt_change(r['change'], kpi)} [{fmt_change(r['change_p5'], kpi)} to "
                            f"{fmt_change(r['change_p95'], kpi)}]"
                            for r in (changes[name].loc[kpi] for name in names[1:])]
            rows.append(("  change (paired)", cells))
    label_width = max(len(label) for label, _ in rows) + 2
    col = max(26, max(len(n) for n in names) + 2, max(len(c) for _, cells in rows for c in cells) + 2)
    lines = ["".ljust(label_width) + "".join(n.rjust(col) for n in names)]
    lines += [label.ljust(label_width) + "".join(c.rjust(col) for c in cells) for label, cells in rows]
    return "\n".join(lines)
