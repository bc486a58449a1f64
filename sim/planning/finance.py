"""The finance view: interagency spend by year and provider, income, net, and what a
recruitment campaign saves.

The model books each interagency fee when a child is placed (plus monthly fees after 12
months without an order) and counts placements by provider (VAA or another LA/RAA); it
does not keep fees by provider.  The split of the fees paid between VAA and LA/RAA shown
here is therefore an *estimate*: each year's fees shared in proportion to that year's
placements with each provider, weighted by the provider's one-child fee in that year.

Fees follow the scenario's dated changes: the schedule shows the fees in force in each year
(a row more for the part of a year after a change that starts mid-year), as the model
charges them.  Savings against the baseline are paired by year, so they are zero in the
years before a what-if's first change.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.model.interagency_fee import LA, VAA, fee_schedule, placement_fee
from sim.model.timeline import Timeline
from sim.planning.comparison import (
    by_replication,
    change_by_year,
    describe,
    format_estimate,
    paired_differences,
    paired_values,
    round_to_uncertainty,
    total_change,
)
from sim.run.runner import Results
from sim.scenario.calendar import financial_year_label, month_label
from sim.scenario.parameters import Fees

MONEY_KPIS = ("interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp")


def _years(results: Results) -> list[int]:
    run = results.scenario.scenario
    return [run.start_year + i for i in range(run.years)]


def fees_by_month(results: Results) -> list[Fees]:
    """The fees in force in each month of the reported years (after the scenario's dated changes)."""
    scenario = results.scenario
    run = scenario.scenario
    months = range(run.warm_up_years * 12, (run.warm_up_years + run.years) * 12)
    if not (scenario.change or scenario.trend):
        return [scenario.fees for _ in months]
    timeline = Timeline(scenario)
    return [timeline.in_month(m).fees for m in months]


def schedule_table(results: Results) -> pd.DataFrame:
    """The fee schedule over the horizon: one row per financial year and provider, and a row
    more for the part of a year after fees change mid-year ("2024-25 from 2024-10")."""
    run = results.scenario.scenario
    by_month = fees_by_month(results)
    first_year = run.start_year - run.warm_up_years
    rows = []
    for i, year in enumerate(_years(results)):
        previous = None
        for k in range(12):
            fees = by_month[i * 12 + k]
            if fees == previous:
                continue
            label = financial_year_label(year) if k == 0 else \
                f"{financial_year_label(year)} from {month_label((run.warm_up_years + i) * 12 + k, first_year)}"
            rows += [dict(row, financial_year=label) for row in fee_schedule(fees, range(year, year + 1))]
            previous = fees
    return pd.DataFrame(rows)


def spend_by_year(results: Results) -> pd.DataFrame:
    """Per financial year: placements by provider, fees paid (and the estimated split by
    provider), fees received and net spend, each as a mean with its 90% interval."""
    by_month = fees_by_month(results)
    paid = by_replication(results, "interagency_fees_gbp")
    n_vaa = by_replication(results, "interagency_placements_vaa")
    n_la = by_replication(results, "interagency_placements_la")
    labels = dict(zip(results.summary["year"], results.summary["financial_year"]))
    rows = []
    for i, year in enumerate(paid.columns):
        calendar_year = _years(results)[i]
        fees = by_month[i * 12]  # in force at the start of the year
        w_vaa = n_vaa[year] * placement_fee(fees, VAA, 1, calendar_year)
        w_la = n_la[year] * placement_fee(fees, LA, 1, calendar_year)
        weight = (w_vaa + w_la).where(lambda w: w > 0)
        est_vaa = (paid[year] * w_vaa / weight).fillna(0.0)
        est_la = (paid[year] * w_la / weight).fillna(0.0)
        row = {"year": int(year), "financial_year": labels[year]}
        for name, values in (("placements_vaa", n_vaa[year]), ("placements_la", n_la[year]),
                             ("fees_paid_gbp", paid[year]), ("fees_paid_vaa_gbp_est", est_vaa),
                             ("fees_paid_la_gbp_est", est_la),
                             ("fees_received_gbp", by_replication(results, "interagency_income_gbp")[year]),
                             ("net_spend_gbp", by_replication(results, "interagency_net_gbp")[year])):
            d = describe(values)
            row[name] = d["mean"]
            row[f"{name}_p5"] = d["p5"]
            row[f"{name}_p95"] = d["p95"]
        rows.append(row)
    return pd.DataFrame(rows)


def cumulative_spend(results: Results, kpi: str = "interagency_net_gbp") -> pd.DataFrame:
    """Spend cumulated from the first year, mean and 90% interval (per-replication sums)."""
    table = by_replication(results, kpi).cumsum(axis=1)
    labels = dict(zip(results.summary["year"], results.summary["financial_year"]))
    return pd.DataFrame([{"year": int(y), "financial_year": labels[y], **describe(table[y])} for y in table.columns])


def savings(base: Results, scenario: Results) -> pd.DataFrame:
    """What the scenario saves against the baseline, per year and over the horizon: the paired
    change in fees paid, fees received and net spend, as *savings* (baseline minus scenario)."""
    rows = []
    for kpi, what in (("interagency_fees_gbp", "fees paid"), ("interagency_income_gbp", "fees received"),
                      ("interagency_net_gbp", "net spend")):
        sign = -1.0 if kpi != "interagency_income_gbp" else 1.0  # saving = less paid, or more received
        for r in change_by_year(base, scenario, kpi).itertuples():
            rows.append({"measure": what, "financial_year": r.financial_year, "saving_gbp": sign * r.mean,
                         "saving_p5": min(sign * r.p5, sign * r.p95), "saving_p95": max(sign * r.p5, sign * r.p95)})
        t = total_change(base, scenario, kpi)
        rows.append({"measure": what, "financial_year": "whole horizon", "saving_gbp": sign * t["mean"],
                     "saving_p5": min(sign * t["p5"], sign * t["p95"]),
                     "saving_p95": max(sign * t["p5"], sign * t["p95"])})
    return pd.DataFrame(rows)


SPEND_MEASURES = (("fees paid", "interagency_fees_gbp", -1.0), ("fees received", "interagency_income_gbp", 1.0),
                  ("net spend", "interagency_net_gbp", -1.0))  # measure, KPI, sign of a saving


def window_years(results: Results, first: str, last: str) -> list[int]:
    """The reported years (1 = the base year) from financial year ``first`` to ``last`` inclusive,
    in either order; a year outside the run is refused with the years that are allowed."""
    labels = list(results.years)
    for label in (first, last):
        if label not in labels:
            raise ValueError(f"{label} is not a year of the run: choose from {labels[0]} to {labels[-1]}")
    a, b = sorted((labels.index(first), labels.index(last)))
    return list(range(a + 1, b + 2))


def _rounded(d: dict[str, float]) -> dict[str, float]:
    width = d["p95"] - d["p5"]
    return {k: round_to_uncertainty(d[k], width) for k in ("mean", "p5", "p95")}


def spend_table(base: Results, scenario: Results, years: list[int] | None = None) -> pd.DataFrame:
    """Baseline and scenario side by side, per financial year in ``years`` (all if None) and
    their total: fees paid, fees received and net spend, each a mean with its 90% interval,
    and the paired saving (from scenario minus baseline, replication by replication: less paid
    or more received is a saving), all in pounds rounded to what each interval supports
    (:func:`sim.planning.comparison.round_to_uncertainty`).

    The total sums each replication over the years before the mean and interval are taken, so
    its interval is that of a total, not a sum of intervals."""
    years = years or list(range(1, len(scenario.years) + 1))
    labels = dict(zip(scenario.summary["year"], scenario.summary["financial_year"]))
    total = f"total {labels[years[0]]} to {labels[years[-1]]}" if len(years) > 1 else None
    rows = []
    for measure, kpi, sign in SPEND_MEASURES:
        b, s = by_replication(base, kpi)[years], by_replication(scenario, kpi)[years]
        periods = [(labels[y], b[y], s[y]) for y in years]
        if total:
            periods.append((total, b.sum(axis=1), s.sum(axis=1)))
        for period, bv, sv in periods:
            pair = paired_values({"base": bv, "scenario": sv})  # the replications both runs have
            bv, sv = pair["base"], pair["scenario"]
            diff = paired_differences(bv, sv) * sign
            base_d, scen_d, save_d = _rounded(describe(bv)), _rounded(describe(sv)), _rounded(describe(diff))
            rows.append({"period": period, "measure": measure,
                         "baseline_gbp": base_d["mean"], "baseline_p5": base_d["p5"], "baseline_p95": base_d["p95"],
                         "scenario_gbp": scen_d["mean"], "scenario_p5": scen_d["p5"], "scenario_p95": scen_d["p95"],
                         "saving_gbp": save_d["mean"], "saving_p5": min(save_d["p5"], save_d["p95"]),
                         "saving_p95": max(save_d["p5"], save_d["p95"])})
    order = [labels[y] for y in years] + ([total] if total else [])
    table = pd.DataFrame(rows)
    table["period"] = pd.Categorical(table["period"], order, ordered=True)
    return table.sort_values(["period"], kind="stable").reset_index(drop=True).assign(
        period=lambda t: t["period"].astype(str))


def spend_text(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`spend_table` as a reader sees it: each figure a mean with its 90% interval in pounds,
    '£1,450,000 [£1,200,000 to £1,700,000]', the saving signed; the same rounding as the table."""
    def cell(row, name: str, signed: bool = False) -> str:
        return format_estimate(row[f"{name}_gbp"], row[f"{name}_p5"], row[f"{name}_p95"], "£", signed=signed)

    return pd.DataFrame({"period": table["period"], "measure": table["measure"],
                         "baseline": [cell(r, "baseline") for _, r in table.iterrows()],
                         "scenario": [cell(r, "scenario") for _, r in table.iterrows()],
                         "saving": [cell(r, "saving", signed=True) for _, r in table.iterrows()]})


# Report figures that drive interagency spend: why, and which spend they move (a fit report's rows).
SPEND_DRIVERS = {
    "interagency_placements": ("each interagency placement is a fee paid", "fees paid"),
    "interagency_placements_vaa": ("VAA fees are higher than LA/RAA fees", "fees paid"),
    "external_placements": ("each of the agency's adopters placed by another agency is a fee received",
                            "fees received"),
}
MISS_SD = 0.5  # assumption: half a standard deviation is where a reader of the spend should be told


def fit_notes(report_csv: Path | None, threshold_sd: float = MISS_SD) -> list[str]:
    """Where the baseline misses a report figure that drives spend, read from its calibration
    fit report (``calibration/reports/NAME.csv``: figure, year, label, observed, sd, mean,
    distance in sd, source): one sentence for each such figure at least ``threshold_sd`` off.
    No report, or no figure that far off: no notes."""
    if report_csv is None or not Path(report_csv).is_file():
        return []
    fit = pd.read_csv(report_csv)
    notes = []
    for r in fit[fit["figure"].isin(list(SPEND_DRIVERS))].itertuples():
        if not abs(r.distance) >= threshold_sd:
            continue
        why, spend = SPEND_DRIVERS[r.figure]
        side, effect = ("above", "overstate") if r.distance > 0 else ("below", "understate")
        fitted = "used in the fit" if str(r.used) == "True" else "not used in the fit"
        label = r.label[0].lower() + r.label[1:]
        notes.append(f"The baseline simulates {r.mean:.1f} {label} in {r.year} against the report's {r.observed:g} "
                     f"({abs(r.distance):.1f} sd {side}, {r.mean / r.observed - 1:+.0%}; {r.source}, {fitted}). "
                     f"As {why}, its {spend} may {effect} what the agency would see.")
    return notes
