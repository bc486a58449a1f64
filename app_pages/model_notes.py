"""The Model notes page: the model in brief for a board, the technical notes, every measure and every
parameter with its unit and source."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim import KPI_BY_NAME, KPIS, THRESHOLDS_DAYS, parameter_table
from sim.app.view import current_view
from sim.planning import export
from sim.planning.model_notes import FOR_A_BOARD, doc_page, plain_text

state = st.session_state
v = current_view()


def draw_notes() -> None:
    st.markdown("### The model in brief")
    st.markdown(FOR_A_BOARD)
    with st.expander("Technical notes: how the model works, step by step (docs: background/model.md)"):
        st.markdown(plain_text(doc_page("background/model")))
    st.markdown("### Measures")
    st.dataframe(pd.DataFrame([{"measure": k.label, "name": k.name, "unit": k.unit, "definition": k.description}
                               for k in KPIS]), hide_index=True, width="stretch")
    st.caption("Scorecard thresholds: " + ", ".join(f"{KPI_BY_NAME[k].label} {v} days"
                                                    for k, v in THRESHOLDS_DAYS.items()))
    st.markdown(f"### Parameters of '{v.label}', with units and sources")
    st.caption("The values of the base year; dated changes, below, move some of them from a date.")
    params = pd.DataFrame(parameter_table(v.scenario))
    params["value"] = params["value"].map(str)
    params["default"] = params["default"].map(str)
    for column in ("source", "declared_source"):
        params[column] = params[column].map(plain_text)
    st.dataframe(params, hide_index=True, width="stretch")
    if v.scenario.change or v.scenario.trend:
        st.markdown(f"### Dated changes and trends of '{v.label}'")
        st.dataframe(export.changes_frame(v.scenario), hide_index=True, width="stretch")


draw_notes()
