"""Charts with their uncertainty: the mean as a line, the 90% interval (5th-95th
percentiles over replications) as a shaded band, thresholds as dashed rules, and a dotted
vertical rule, labelled, at the financial year in which a scenario's first dated change
starts (before it every what-if runs as its baseline).

The functions take tidy frames and return Vega-Lite specifications (plain dictionaries, the
format the browser draws), so the app only places them, the board pack draws the same ones
to PNG, and the charts can be checked without a browser (the tests check each against the
Vega-Lite schema).  They are written as data rather than built with a chart library's
objects because building and checking those took about half a second of every click, and a
planner waits for it (docs/background/performance.md).
"""

from __future__ import annotations

import math

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
    return labelled(frame, several_runs=len(runs) > 1, several_kpis=len(kpis) > 1)


def labelled(frame: pd.DataFrame, several_runs: bool, several_kpis: bool,
             labels: dict[str, str] | None = None) -> pd.DataFrame:
    """A frame of (scenario, kpi, ..., mean, p5, p95) rows with what the charts draw from: each
    measure's ``label`` (its name, or ``labels[kpi]``), its scorecard ``threshold`` and the
    ``series`` each line is (see :func:`band_frame`)."""
    frame = frame.copy()
    frame["label"] = frame["kpi"].map(lambda k: (labels or {}).get(k) or KPI_BY_NAME[k].label)
    frame["threshold"] = frame["kpi"].map(lambda k: THRESHOLDS_DAYS.get(k))
    if not several_runs:
        frame["series"] = frame["label"]
    elif not several_kpis:
        frame["series"] = frame["scenario"]
    else:
        frame["series"] = frame["scenario"] + ": " + frame["label"]
    return frame


SCHEME = "tableau10"
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
CHANGE_COLOUR = "dimgray"
THRESHOLD_COLOUR = "firebrick"
Spec = dict


def _records(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as JSON-ready records (a missing value as null)."""
    def clean(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        return v.item() if hasattr(v, "item") else v

    columns = list(frame.columns)
    return [{c: clean(v) for c, v in zip(columns, row)} for row in frame.itertuples(index=False, name=None)]


def _field(name: str, kind: str, **more) -> dict:
    types = {"N": "nominal", "O": "ordinal", "Q": "quantitative"}
    return {"field": name, "type": types[kind], **more}


def _tooltip(name: str, kind: str, title: str | None = None, fmt: str | None = None) -> dict:
    t = _field(name, kind)
    if title is not None:
        t["title"] = title
    if fmt is not None:
        t["format"] = fmt
    return t


def legend() -> dict:
    """A legend under the chart, one entry a line and none cut short, so that every scenario's
    full title shows however many are compared and however narrow the chart."""
    return {"orient": "bottom", "direction": "vertical", "columns": 1, "labelLimit": 0, "title": None,
            "symbolOpacity": 1}  # each scenario's colour in full, not its band's pale shade


def _top(spec: dict) -> dict:
    return {"$schema": SCHEMA, **spec}


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


def _change_layers(marks: pd.DataFrame) -> list[dict]:
    """A dotted rule at each change's financial year, and its label at the top."""
    if marks.empty:
        return []
    data = {"values": _records(marks)}
    x = _field("financial_year", "O", sort=None)
    rule = {"data": data, "mark": {"type": "rule", "color": CHANGE_COLOUR, "strokeDash": [2, 3], "strokeWidth": 1.5},
            "encoding": {"x": x, "tooltip": [_tooltip("text", "N", "dated change")]}}
    text = {"data": data, "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 2,
                                   "color": CHANGE_COLOUR},
            "encoding": {"x": x, "y": {"value": 0}, "text": _field("text", "N")}}
    return [rule, text]


def with_changes(frame: pd.DataFrame, runs: dict[str, Results]) -> pd.DataFrame:
    """``frame`` with a column ``change``: the change mark's label on rows of a year where a change
    starts (for charts in panels, whose layers share one data set)."""
    return with_marks(frame, change_marks(runs))


def with_marks(frame: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a column ``change``: the label of ``marks`` (financial_year, text) on rows of
    a year where a change starts."""
    out = frame.copy()
    out["change"] = out["financial_year"].map(dict(zip(marks["financial_year"], marks["text"])))
    return out


def _encodings(frame: pd.DataFrame) -> tuple[dict, dict | None]:
    """Colour by measure (dashes by scenario) when there are several measures, else by scenario."""
    several_measures = frame["label"].nunique() > 1
    several_scenarios = frame["scenario"].nunique() > 1
    field = "label" if several_measures or not several_scenarios else "scenario"
    color = _field(field, "N", scale={"scheme": SCHEME}, legend=legend(), sort=list(dict.fromkeys(frame[field])))
    dash = _field("scenario", "N", legend=legend(), sort=list(dict.fromkeys(frame["scenario"]))) \
        if several_measures and several_scenarios else None
    return color, dash


def _layers(frame: pd.DataFrame, y_title: str) -> tuple[dict, dict]:
    fmt = ",.0f"  # d3 formats have no pound sign; the axis title says £
    data = {"values": _records(frame)}
    x = _field("financial_year", "O", title="Financial year", sort=None, axis={"labelAngle": 0})
    color, dash = _encodings(frame)
    band = {"data": data, "mark": {"type": "area", "opacity": 0.15},
            "encoding": {"x": x, "y": _field("p5", "Q"), "y2": {"field": "p95"}, "color": color,
                         "detail": _field("series", "N")}}
    line_enc = {"x": x, "y": _field("mean", "Q", title=y_title, axis={"format": fmt}), "color": color,
                "tooltip": [_tooltip("scenario", "N"), _tooltip("label", "N"), _tooltip("financial_year", "O"),
                            _tooltip("mean", "Q", "mean", fmt), _tooltip("p5", "Q", "5th percentile", fmt),
                            _tooltip("p95", "Q", "95th percentile", fmt)]}
    if dash is not None:
        line_enc["strokeDash"] = dash
    line = {"data": data, "mark": {"type": "line", "point": True}, "encoding": line_enc}
    return band, line


def band_chart(frame: pd.DataFrame, title: str, y_title: str, thresholds: dict[str, float] | None = None,
               height: int = 320, changes: pd.DataFrame | None = None) -> Spec:
    """One panel: a line and band per series, a dashed rule per threshold, and a dotted rule
    where each change starts (``changes``: :func:`change_marks`)."""
    band, line = _layers(frame, y_title)
    layers = [band, line]
    if thresholds:
        rules = {"values": [{"threshold": v, "what": k} for k, v in thresholds.items()]}
        layers.append({"data": rules, "mark": {"type": "rule", "strokeDash": [6, 4], "color": THRESHOLD_COLOUR},
                       "encoding": {"y": _field("threshold", "Q"),
                                    "tooltip": [_tooltip("what", "N"), _tooltip("threshold", "Q")]}})
        layers.append({"data": rules, "mark": {"type": "text", "align": "left", "dx": 4, "dy": -6,
                                               "color": THRESHOLD_COLOUR},
                       "encoding": {"y": _field("threshold", "Q"), "text": _field("what", "N"), "x": {"value": 0}}})
    if changes is not None:
        layers += _change_layers(changes)
    return _top({"layer": layers, "title": title, "height": height, "width": "container"})


def facet_chart(frame: pd.DataFrame, title: str, columns: int = 4, height: int = 150) -> Spec:
    """Small multiples, one panel per measure with its own scale; thresholds drawn where set, and
    a dotted rule where a change starts (the frame's ``change`` column, :func:`with_changes`)."""
    x = _field("financial_year", "O", title=None, sort=None)
    color = _field("scenario", "N", title=None, legend=legend(), scale={"scheme": SCHEME},
                   sort=list(dict.fromkeys(frame["scenario"])))
    band = {"mark": {"type": "area", "opacity": 0.18},
            "encoding": {"x": x, "y": _field("p5", "Q", title=None), "y2": {"field": "p95"}, "color": color}}
    line = {"mark": {"type": "line", "point": True},
            "encoding": {"x": x, "y": _field("mean", "Q", title=None), "color": color,
                         "tooltip": [_tooltip("scenario", "N"), _tooltip("financial_year", "O"),
                                     _tooltip("mean", "Q", fmt=",.1f"), _tooltip("p5", "Q", fmt=",.1f"),
                                     _tooltip("p95", "Q", fmt=",.1f")]}}
    layers = [band, line]
    if frame["threshold"].notna().any():
        layers.append({"mark": {"type": "rule", "strokeDash": [6, 4], "color": THRESHOLD_COLOUR},
                       "encoding": {"y": _field("threshold", "Q")}})
    changed = "change" in frame and frame["change"].notna().any()
    if changed:
        layers.append({"transform": [{"filter": "isValid(datum.change)"},
                                     {"aggregate": [{"op": "count", "as": "n"}],
                                      "groupby": ["label", "financial_year", "change"]}],
                       "mark": {"type": "rule", "color": CHANGE_COLOUR, "strokeDash": [2, 3], "strokeWidth": 1.5},
                       "encoding": {"x": x, "tooltip": [_tooltip("change", "N", "dated change")]}})
        title = f"{title} · dotted line: {', '.join(dict.fromkeys(frame['change'].dropna()))}"
    return _top({"data": {"values": _records(frame)},
                 "facet": _field("label", "N", title=None, sort=list(dict.fromkeys(frame["label"]))),
                 "spec": {"layer": layers, "height": height, "width": 180}, "columns": columns,
                 "resolve": {"scale": {"y": "independent"}}, "title": title})


def gap_chart(runs: dict[str, Results]) -> Spec:
    """Approved adopters waiting and children with an order waiting (the adopter gap's two sides):
    a panel each, with its own scale, a colour per scenario, so that every scenario's line can be
    told apart and neither count is flattened by the other's scale."""
    return facet_chart(with_changes(band_frame(runs, GAP_KPIS), runs),
                       "Adopters waiting and children waiting at 31 March", columns=2, height=220)


def waits_chart(runs: dict[str, Results]) -> Spec:
    """A10 and A2 against their scorecard thresholds (426 and 121 days)."""
    return facet_chart(with_changes(band_frame(runs, WAIT_KPIS), runs),
                       "Children's waits against the scorecard thresholds (days)", columns=2, height=220)


def spend_chart(runs: dict[str, Results], cumulative: bool = False) -> Spec:
    """Interagency spend per year, or cumulated over the horizon."""
    kpis = ["interagency_net_gbp"] if cumulative or len(runs) > 1 else SPEND_KPIS
    title = "Net interagency spend, cumulative" if cumulative else "Interagency spend per year"
    return band_chart(band_frame(runs, kpis, cumulative=cumulative), title, "£", changes=change_marks(runs))


def flows_chart(runs: dict[str, Results]) -> Spec:
    """Flows through each stage a year: enquiries to adoption orders."""
    return facet_chart(with_changes(band_frame(runs, FLOW_KPIS), runs), "Flows through each stage a year")


def target_chart(table: pd.DataFrame, limit: float, measure_label: str, levels: dict[str, float | None],
                 today: float | None = None) -> Spec:
    """The measure against enquiries a month from the finder's runs, with the limit, the answers
    and today's level (the enquiries a month of the scenario searched, a dotted rule)."""
    data = {"values": _records(table)}
    x = _field("enquiries_per_month", "Q", title="Enquiries per month")
    layers = [
        {"data": data, "mark": {"type": "area", "opacity": 0.2},
         "encoding": {"x": x, "y": _field("p5", "Q"), "y2": {"field": "p95"}}},
        {"data": data, "mark": {"type": "line", "point": True},
         "encoding": {"x": x, "y": _field("mean", "Q", title=measure_label),
                      "tooltip": [_tooltip(n, "Q") for n in ("enquiries_per_month", "mean", "p5", "p95",
                                                              "approvals_mean")]}},
        {"data": {"values": [{"limit": limit}]}, "mark": {"type": "rule", "strokeDash": [6, 4],
                                                          "color": THRESHOLD_COLOUR},
         "encoding": {"y": _field("limit", "Q")}},
    ]
    answers = [{"answer": k, "level": v} for k, v in levels.items() if v is not None]
    if answers:
        layers.append({"data": {"values": answers}, "mark": {"type": "rule", "color": "seagreen"},
                       "encoding": {"x": _field("level", "Q"),
                                    "tooltip": [_tooltip("answer", "N"), _tooltip("level", "Q")]}})
    if today is not None:
        now = {"values": [{"level": today, "text": f"today: {today:.1f} a month"}]}
        layers.append({"data": now, "mark": {"type": "rule", "color": CHANGE_COLOUR, "strokeDash": [2, 3],
                                             "strokeWidth": 1.5},
                       "encoding": {"x": _field("level", "Q"), "tooltip": [_tooltip("text", "N")]}})
        layers.append({"data": now, "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 2,
                                             "color": CHANGE_COLOUR},
                       "encoding": {"x": _field("level", "Q"), "y": {"value": 0}, "text": _field("text", "N")}})
    return _top({"layer": layers, "height": 280, "width": "container",
                 "title": f"{measure_label} by enquiries a month (mean and 90% interval)"})


def fee_flow_chart(flows: pd.DataFrame) -> Spec:
    """A grid of payers (rows) by providers (columns) in a market, shaded by fees a year, with the
    figures in £ thousands, the legend in the same unit, and every payer and provider labelled: who
    pays whom at a glance (``flows``: :func:`sim.planning.market_tables.fee_flows`)."""
    data = {"values": _records(flows.assign(fees_k=(flows["fees_gbp_a_year"] / 1000).round(0)))}
    every = {"labelOverlap": False, "labelLimit": 0}
    axes = {"x": _field("provider", "N", title="Provider (receives the fee)", axis={"labelAngle": -40, **every}),
            "y": _field("payer", "N", title="Payer (places a child)", axis=every)}
    cells = {"mark": {"type": "rect"},
             "encoding": {**axes, "color": _field("fees_k", "Q", title="£ thousands a year",
                                                   scale={"scheme": "blues"}),
                          "tooltip": [_tooltip("payer", "N"), _tooltip("provider", "N"),
                                      _tooltip("fees_gbp_a_year", "Q", "fees, £ a year", ",.0f"),
                                      _tooltip("children_a_year", "Q", "children a year", ".1f")]}}
    text = {"mark": {"type": "text", "fontSize": 10},
            "encoding": {**axes, "text": _field("fees_k", "Q", format=",.0f")}}
    return _top({"data": data, "layer": [cells, text], "width": {"step": 28}, "height": {"step": 18},
                 "title": "Interagency fees a year, £ thousands (mean over the horizon)"})
