"""Charts with their uncertainty: the mean as a line, the 90% interval (5th-95th
percentiles over replications) as a shaded band, thresholds as dashed rules, and a dotted
vertical rule, labelled, at the financial year in which a scenario's first dated change
starts (before it every what-if runs as its baseline).

The functions take tidy frames and return altair charts, so the app only places them and the
charts can be checked without a browser.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from sim.model.kpis import KPI_BY_NAME, THRESHOLDS_DAYS
from sim.planning.comparison import by_replication, change_year, describe, first_change
from sim.run.runner import Results

FLOW_KPIS = ["enquiries", "registrations", "stage2_starts", "approvals", "placement_orders", "matches",
             "placements", "adoption_orders"]
GAP_KPIS = ["adopters_waiting", "children_waiting_with_po"]
WAIT_KPIS = ["a10_days", "a2_days"]
SPEND_KPIS = ["interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp"]


def band_frame(runs: dict[str, Results], kpis: list[str], cumulative: bool = False) -> pd.DataFrame:
    """Tidy rows (scenario, kpi, label, financial_year, mean, p5, p95, threshold, series).

    ``series`` names a line: the measure when there is one scenario, the scenario when there is
    one measure, otherwise both.  ``cumulative`` sums each replication from the first year
    before taking the mean and interval.
    """
    rows = []
    for name, results in runs.items():
        for kpi in kpis:
            if cumulative:
                table = by_replication(results, kpi).cumsum(axis=1)
                labels = dict(zip(results.summary["year"], results.summary["financial_year"]))
                for year in table.columns:
                    d = describe(table[year])
                    rows.append({"scenario": name, "kpi": kpi, "year": int(year), "financial_year": labels[year],
                                 "mean": d["mean"], "p5": d["p5"], "p95": d["p95"]})
            else:
                for r in results.kpi(kpi).itertuples():
                    rows.append({"scenario": name, "kpi": kpi, "year": int(r.year), "financial_year": r.financial_year,
                                 "mean": r.mean, "p5": r.p5, "p95": r.p95})
    frame = pd.DataFrame(rows, columns=["scenario", "kpi", "year", "financial_year", "mean", "p5", "p95"])
    frame["label"] = frame["kpi"].map(lambda k: KPI_BY_NAME[k].label)
    frame["threshold"] = frame["kpi"].map(lambda k: THRESHOLDS_DAYS.get(k))
    if len(runs) == 1:
        frame["series"] = frame["label"]
    elif len(kpis) == 1:
        frame["series"] = frame["scenario"]
    else:
        frame["series"] = frame["scenario"] + ": " + frame["label"]
    return frame


SCHEME = "tableau10"


def legend() -> alt.Legend:
    """A legend under the chart, one entry a line and none cut short, so that every scenario's
    full title shows however many are compared and however narrow the chart."""
    return alt.Legend(orient="bottom", direction="vertical", columns=1, labelLimit=0, title=None)
CHANGE_COLOUR = "dimgray"


def change_marks(runs: dict[str, Results]) -> pd.DataFrame:
    """Where the changes start: one row per financial year (financial_year, text) in which a
    run's first dated change starts, the first run's own, the others' where they differ from
    the first run; years outside the horizon are left out."""
    runs = dict(runs)
    reference = next(iter(runs.values())).scenario if runs else None
    starts: dict[str, list[str]] = {}
    for i, results in enumerate(runs.values()):
        other = None if i == 0 else reference
        year = change_year(results.scenario, other)
        if year is None or not 1 <= year <= len(results.years):
            continue
        text = first_change(results.scenario, other).start
        starts.setdefault(results.years[year - 1], [])
        if text not in starts[results.years[year - 1]]:
            starts[results.years[year - 1]].append(text)
    rows = [{"financial_year": fy, "text": "changes from " + ", ".join(texts)} for fy, texts in starts.items()]
    return pd.DataFrame(rows, columns=["financial_year", "text"])


def _change_layers(marks: pd.DataFrame) -> list:
    """A dotted rule at each change's financial year, and its label at the top."""
    if marks.empty:
        return []
    x = alt.X("financial_year:O", sort=None)
    rule = alt.Chart(marks).mark_rule(color=CHANGE_COLOUR, strokeDash=[2, 3], strokeWidth=1.5).encode(
        x=x, tooltip=[alt.Tooltip("text:N", title="dated change")])
    text = alt.Chart(marks).mark_text(align="left", baseline="top", dx=4, dy=2, color=CHANGE_COLOUR).encode(
        x=x, y=alt.value(0), text="text:N")
    return [rule, text]


def with_changes(frame: pd.DataFrame, runs: dict[str, Results]) -> pd.DataFrame:
    """``frame`` with a column ``change``: the change mark's label on rows of a year where a change
    starts (for charts in panels, whose layers share one data set)."""
    marks = change_marks(runs)
    out = frame.copy()
    out["change"] = out["financial_year"].map(dict(zip(marks["financial_year"], marks["text"])))
    return out


def _encodings(frame: pd.DataFrame) -> tuple[alt.Color, alt.StrokeDash | None]:
    """Colour by measure (dashes by scenario) when there are several measures, else by scenario."""
    several_measures = frame["label"].nunique() > 1
    several_scenarios = frame["scenario"].nunique() > 1
    field = "label:N" if several_measures or not several_scenarios else "scenario:N"
    color = alt.Color(field, scale=alt.Scale(scheme=SCHEME), legend=legend(),
                      sort=list(dict.fromkeys(frame[field[:-2]])))
    dash = alt.StrokeDash("scenario:N", legend=legend(), sort=list(dict.fromkeys(frame["scenario"]))) \
        if several_measures and several_scenarios else None
    return color, dash


def _layers(frame: pd.DataFrame, y_title: str, money: bool = False):
    fmt = ",.0f"  # d3 formats have no pound sign; the axis title says £
    x = alt.X("financial_year:O", title="Financial year", sort=None, axis=alt.Axis(labelAngle=0))
    color, dash = _encodings(frame)
    base = alt.Chart(frame)
    band = base.mark_area(opacity=0.15).encode(x=x, y=alt.Y("p5:Q"), y2="p95:Q", color=color,
                                               detail="series:N")
    line_enc = dict(x=x, y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format=fmt)), color=color,
                    tooltip=["scenario:N", "label:N", "financial_year:O",
                             alt.Tooltip("mean:Q", format=fmt, title="mean"),
                             alt.Tooltip("p5:Q", format=fmt, title="5th percentile"),
                             alt.Tooltip("p95:Q", format=fmt, title="95th percentile")])
    if dash is not None:
        line_enc["strokeDash"] = dash
    line = base.mark_line(point=True).encode(**line_enc)
    return band, line


def band_chart(frame: pd.DataFrame, title: str, y_title: str, thresholds: dict[str, float] | None = None,
               money: bool = False, height: int = 320, changes: pd.DataFrame | None = None) -> alt.LayerChart:
    """One panel: a line and band per series, a dashed rule per threshold, and a dotted rule
    where each change starts (``changes``: :func:`change_marks`)."""
    band, line = _layers(frame, y_title, money)
    layers = [band, line]
    if thresholds:
        rules = pd.DataFrame({"threshold": list(thresholds.values()), "what": list(thresholds)})
        rule = alt.Chart(rules).mark_rule(strokeDash=[6, 4], color="firebrick").encode(
            y="threshold:Q", tooltip=["what:N", "threshold:Q"])
        text = alt.Chart(rules).mark_text(align="left", dx=4, dy=-6, color="firebrick").encode(
            y="threshold:Q", text="what:N", x=alt.value(0))
        layers += [rule, text]
    if changes is not None:
        layers += _change_layers(changes)
    return alt.layer(*layers).properties(title=title, height=height, width="container")


def facet_chart(frame: pd.DataFrame, title: str, columns: int = 4, height: int = 150) -> alt.FacetChart:
    """Small multiples, one panel per measure with its own scale; thresholds drawn where set, and
    a dotted rule where a change starts (the frame's ``change`` column, :func:`with_changes`)."""
    x = alt.X("financial_year:O", title=None, sort=None)
    color = alt.Color("scenario:N", title=None, legend=legend(),
                      scale=alt.Scale(scheme=SCHEME), sort=list(dict.fromkeys(frame["scenario"])))
    band = alt.Chart().mark_area(opacity=0.18).encode(x=x, y=alt.Y("p5:Q", title=None), y2="p95:Q", color=color)
    line = alt.Chart().mark_line(point=True).encode(
        x=x, y=alt.Y("mean:Q", title=None), color=color,
        tooltip=["scenario:N", "financial_year:O", alt.Tooltip("mean:Q", format=",.1f"),
                 alt.Tooltip("p5:Q", format=",.1f"), alt.Tooltip("p95:Q", format=",.1f")])
    layers = [band, line]
    if frame["threshold"].notna().any():
        layers.append(alt.Chart().mark_rule(strokeDash=[6, 4], color="firebrick").encode(y="threshold:Q"))
    if "change" in frame and frame["change"].notna().any():
        layers.append(alt.Chart().transform_filter("isValid(datum.change)").transform_aggregate(
            n="count()", groupby=["label", "financial_year", "change"]).mark_rule(
            color=CHANGE_COLOUR, strokeDash=[2, 3], strokeWidth=1.5).encode(
            x=x, tooltip=[alt.Tooltip("change:N", title="dated change")]))
    if "change" in frame and frame["change"].notna().any():
        title = f"{title} · dotted line: {', '.join(dict.fromkeys(frame['change'].dropna()))}"
    return alt.layer(*layers, data=frame).properties(height=height, width=180).facet(
        facet=alt.Facet("label:N", title=None, sort=list(dict.fromkeys(frame["label"]))), columns=columns,
    ).resolve_scale(y="independent").properties(title=title)


def gap_chart(runs: dict[str, Results]) -> alt.LayerChart:
    """Approved adopters waiting against children with an order waiting (the adopter gap)."""
    return band_chart(band_frame(runs, GAP_KPIS), "Adopters waiting and children waiting at 31 March",
                      "households / children", changes=change_marks(runs))


def waits_chart(runs: dict[str, Results]) -> alt.FacetChart:
    """A10 and A2 against their scorecard thresholds (426 and 121 days)."""
    return facet_chart(with_changes(band_frame(runs, WAIT_KPIS), runs), "Children's waits against the scorecard thresholds (days)",
                       columns=2, height=220)


def spend_chart(runs: dict[str, Results], cumulative: bool = False) -> alt.LayerChart:
    """Interagency spend per year, or cumulated over the horizon."""
    kpis = ["interagency_net_gbp"] if cumulative or len(runs) > 1 else SPEND_KPIS
    title = "Net interagency spend, cumulative" if cumulative else "Interagency spend per year"
    return band_chart(band_frame(runs, kpis, cumulative=cumulative), title, "£", money=True,
                      changes=change_marks(runs))


def flows_chart(runs: dict[str, Results]) -> alt.FacetChart:
    """Flows through each stage a year: enquiries to adoption orders."""
    return facet_chart(with_changes(band_frame(runs, FLOW_KPIS), runs), "Flows through each stage a year")


def target_chart(table: pd.DataFrame, limit: float, measure_label: str, levels: dict[str, float | None],
                 today: float | None = None) -> alt.LayerChart:
    """The measure against enquiries a month from the finder's runs, with the limit, the answers
    and today's level (the enquiries a month of the scenario searched, a dotted rule)."""
    x = alt.X("enquiries_per_month:Q", title="Enquiries per month")
    base = alt.Chart(table)
    band = base.mark_area(opacity=0.2).encode(x=x, y="p5:Q", y2="p95:Q")
    line = base.mark_line(point=True).encode(x=x, y=alt.Y("mean:Q", title=measure_label),
                                             tooltip=["enquiries_per_month:Q", "mean:Q", "p5:Q", "p95:Q",
                                                      "approvals_mean:Q"])
    rule = alt.Chart(pd.DataFrame({"limit": [limit]})).mark_rule(strokeDash=[6, 4], color="firebrick").encode(
        y="limit:Q")
    marks = pd.DataFrame([{"answer": k, "level": v} for k, v in levels.items() if v is not None])
    layers = [band, line, rule]
    if not marks.empty:
        layers.append(alt.Chart(marks).mark_rule(color="seagreen").encode(x="level:Q", tooltip=["answer:N", "level:Q"]))
    if today is not None:
        now = pd.DataFrame({"level": [today], "text": [f"today: {today:.1f} a month"]})
        layers.append(alt.Chart(now).mark_rule(color=CHANGE_COLOUR, strokeDash=[2, 3], strokeWidth=1.5).encode(
            x="level:Q", tooltip=["text:N"]))
        layers.append(alt.Chart(now).mark_text(align="left", baseline="top", dx=4, dy=2, color=CHANGE_COLOUR).encode(
            x="level:Q", y=alt.value(0), text="text:N"))
    return alt.layer(*layers).properties(height=280, width="container",
                                         title=f"{measure_label} by enquiries a month (mean and 90% interval)")
