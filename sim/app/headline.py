"""The headline above every page: what is shown against what, the changes and when they start,
and the headline measures of the year chosen, each a mean with its 90% interval and, against the
baseline, the paired change (its arrow following the sign, its colour whether lower is better)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from sim.app.settings import HEADLINE, HORIZON, TABLE_KPIS
from sim.app.view import View, remember, set_choice
from sim.model.kpis import KPI_BY_NAME, THRESHOLDS_DAYS
from sim.planning import comparison
from sim.planning.levers import changed_levers
from sim.planning.model_notes import plain_text
from sim.run.replications import why
from sim.run.runner import Results

state = st.session_state


def period_choice(results: Results, key: str, default: int, marker: str) -> int | None:
    """A year (1 = the base year) or None for the horizon average; it opens on ``default`` each
    time ``marker`` (what is shown) changes, and keeps the user's choice otherwise."""
    options = results.years + [HORIZON]
    if state.get(f"{key}:for") != marker or state.get(key) not in options:
        set_choice(key, options[min(default, len(results.years)) - 1])
        state[f"{key}:for"] = marker
    choice = st.selectbox("Figures for", options, key=key, on_change=remember, args=(key,),
                          help="A financial year (stocks at its 31 March), or each replication's average over the "
                               "years. It opens on the last of the next three financial years the run reaches (never "
                               "before the year the earliest change starts).")
    return None if choice == HORIZON else options.index(choice) + 1


def draw_headline(v: View) -> None:
    """The headline, for the view's year; the table of every headline measure is kept on the view
    for the downloads."""
    st.subheader(v.label if v.same else f"{v.label} against {v.baseline_label}")
    st.caption(f"{v.years} financial years ({v.base_res.years[0]} to {v.base_res.years[-1]}), seed {v.scenario.scenario.seed}; "
               + (why(v.scen_res) if v.same else f"{why(v.scen_res)}; baseline {why(v.base_res)}") + "."
               + ("" if v.same else " Changes are paired replication by replication (common random numbers) with their "
                                  "90% interval."))
    if v.description:
        st.write(plain_text(v.description))
    moved = changed_levers(v.baseline, v.scenario)
    if moved:
        st.write("Changed: " + "; ".join(ch.text() for ch in moved))
    first_change = comparison.first_change(v.scenario, None if v.same else v.baseline)
    if first_change is not None:
        st.caption(f"Changes start {first_change.start}. History (the warm-up and {v.base_res.years[0]}, the base year) "
                   "runs on the baseline, with the same random numbers, so until a change starts the figures are the "
                   "baseline's (change 0); its effect then shows with the pipeline's lags.")
        if (comparison.change_year(v.scenario, None if v.same else v.baseline) or 0) > len(v.scen_res.years):
            st.warning(f"The changes start ({first_change.start}) after the last year simulated ({v.scen_res.years[-1]}): "
                       "they do not show. Simulate more years (Horizon and replications) or choose an earlier date.")

    year = period_choice(v.scen_res, "period",
                         comparison.default_year(v.scenario, None if v.same else v.baseline, len(v.scen_res.years)),
                         marker=v.marker)
    table = comparison.change_table(v.base_res, v.scen_res, [k for k, _, _ in HEADLINE], year)
    cols = st.columns(len(HEADLINE))
    for col, (kpi, short, lower_better), row in zip(cols, HEADLINE, table.itertuples()):
        unit = row.unit
        threshold = THRESHOLDS_DAYS.get(kpi)
        parts = comparison.estimate_parts(row.scenario, row.scenario_p5, row.scenario_p95, unit)
        value = parts[0] if parts else comparison.format_figure(row.scenario, unit)
        change_parts = None if v.same else comparison.estimate_parts(row.change, row.change_p5, row.change_p95, unit,
                                                                   signed=True)
        delta = None if v.same or np.isnan(row.change) else (
            change_parts[0] if change_parts else comparison.format_change(row.change, row.change, row.change, unit))
        no_change = delta is not None and not any(ch in "123456789" for ch in delta)  # a change that rounds to 0
        col.metric(short, value, comparison.metric_delta(delta),
                   delta_color="off" if no_change else "inverse" if lower_better else "normal",
                   delta_arrow="off" if no_change else "auto",
                   help=comparison.GAP_DEFINITION if kpi == "adopter_gap" else f"{row.label}. " + KPI_BY_NAME[kpi].description
                   + (f" Scorecard threshold {threshold} days." if threshold else ""))
        lines = ["mean [90%]: " + comparison.format_estimate(row.scenario, row.scenario_p5, row.scenario_p95, unit)]
        if not v.same:
            lines.append("change " + comparison.format_change(row.change, row.change_p5, row.change_p95, unit))
        if threshold:
            lines.append(f"threshold {threshold} days: " + ("within" if row.scenario <= threshold else "above"))
        col.caption("  \n".join(lines))

    headline = comparison.change_table(v.base_res, v.scen_res, TABLE_KPIS, year)
    v.headline = headline
    shown = pd.DataFrame({
        "measure": headline["label"],
        "baseline": [comparison.format_figure(x, u) for x, u in zip(headline["baseline"], headline["unit"])],
        "scenario [90% interval]": [comparison.format_estimate(r.scenario, r.scenario_p5, r.scenario_p95, r.unit)
                                    for r in headline.itertuples()],
        "change [90% interval]": [comparison.format_change(r.change, r.change_p5, r.change_p95, r.unit)
                                  for r in headline.itertuples()],
        "threshold": [f"{t:g} days" if not np.isnan(t) else "" for t in headline["threshold"]],
    })
    with st.expander("All headline measures", expanded=False):
        st.dataframe(shown, hide_index=True, width="stretch")
