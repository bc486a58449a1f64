"""The Downloads page: the board paper (PDF or web page) and the spreadsheet of the scenarios chosen in
Compare, the results as CSV, the scenario as a file, and the baseline's fit report."""

from __future__ import annotations

import streamlit as st

from sim.app.choices import (
    compare_choice,
    compare_marker,
    compare_options,
    compare_settings,
    compared_runs,
    finance_window,
)
from sim.app.settings import HORIZON, TABLE_KPIS
from sim.app.sidebar import chosen_baseline
from sim.app.view import current_view, remember
from sim.planning import board_pack, export, finance
from sim.planning.model_notes import calibration_report, plain_text

state = st.session_state
v = current_view()


def draw_downloads() -> None:
    stem = export.file_stem(v.label)
    options = compare_options(v)
    chosen = compare_choice(v, options)
    compared = compared_runs(v, options, chosen)
    if not compared:
        return
    reference, cyear = compare_settings(v, compared)
    period = compared[reference].years[cyear - 1] if cyear else HORIZON.lower()
    window = finance_window(v)  # the window the spreadsheet and the board paper total
    st.markdown(f"**Board paper** for the scenarios chosen in *Compare scenarios*: {', '.join(compared)}; figures "
                f"for {period}, changes against {reference}; interagency spend over {state['finance_from']} to "
                f"{state['finance_to']} (the window in *Finance*).")
    st.text_input("The question for the board", key="board_question", on_change=remember, args=("board_question",),
                  placeholder=f"What would {', '.join(n for n in compared if n != reference) or reference} change "
                              f"against {reference}, in {period}?")

    # The paper is made when a download is asked for, outside this run, where the session's state
    # cannot be read: so what it is made from is taken now, and made papers kept in a dict of the
    # session's (a paper per comparison, question and window).
    question = state.get("board_question") or None
    key = (compare_marker(v, compared, reference), cyear, question or "", tuple(window))
    made = state.setdefault("board_papers", {})

    def pack() -> board_pack.BoardPack:
        if key not in made:
            made.clear()
            made[key] = board_pack.build(compared, cyear, reference, question, kpis=TABLE_KPIS, window=window)
        return made[key]

    c1, c2, _ = st.columns(3)
    c1.download_button("Board pack (PDF)", lambda: board_pack.to_pdf(pack()), "board-pack.pdf", "application/pdf",
                       key="dl_pack_pdf", on_click="ignore", type="primary",
                       help="The question, the scenarios and what each changes from when, the headline table with "
                            "90% intervals, the key charts, the assumptions and the source reports.")
    c2.download_button("Board pack (web page)", lambda: board_pack.to_html(pack()), "board-pack.html", "text/html",
                       key="dl_pack_html", on_click="ignore")
    st.markdown("**Results**")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Results (CSV)", export.results_csv(v.scen_res, v.label), f"{stem}-results.csv", "text/csv",
                       key="dl_csv", on_click="ignore")
    sheets = {"headline changes": export.rounded(v.headline, (("scenario", "scenario_p5", "scenario_p95"),
                                                            ("change", "change_p5", "change_p95"))),
              "spend and savings": finance.spend_table(v.base_res, v.scen_res, window),
              "fee schedule": finance.schedule_table(v.scen_res),
              "comparison": export.comparison_frame(compared, TABLE_KPIS, reference)}
    c2.download_button("Results and comparison (Excel)",
                       lambda: export.results_excel({**v.both, **compared}, sheets),
                       f"{stem}-results.xlsx", export.EXCEL_MIME, key="dl_xlsx", on_click="ignore",
                       help="A contents sheet; each scenario's summary and parameters; the headline changes; spend, "
                            "fees received, net spend and savings in the finance window, by year and in total; the fee schedule; and the scenarios chosen "
                            "in Compare side by side for every financial year. Values are rounded as on screen.")
    c3.download_button("Scenario (TOML)", export.scenario_toml(v.scenario, name=v.label,
                                                                description=v.description or None,
                                                                replications=v.reps, years=v.years),
                       f"{stem}.toml", "application/toml", key="dl_toml", on_click="ignore",
                       help="Load it again with 'Load a scenario file' in the sidebar.")
    st.markdown(f"**Calibration fit report for the baseline ({state['baseline_choice']})**")
    report = calibration_report(chosen_baseline()[0].calibration.targets_file)  # the agency it was fitted to
    if report:
        if "md" in report:
            with st.expander("Fit report", expanded=False):
                st.markdown(plain_text(report["md"].read_text(encoding="utf-8")))
            st.download_button("Fit report (Markdown)", report["md"].read_bytes(), report["md"].name, "text/markdown",
                               key="dl_fit_md", on_click="ignore")
        if "csv" in report:
            st.download_button("Fit report (CSV)", report["csv"].read_bytes(), report["csv"].name, "text/csv",
                               key="dl_fit_csv", on_click="ignore")
    else:
        st.info("No calibration fit report is available yet for this baseline. Fitted baselines write theirs to "
                "calibration/reports/NAME.md and NAME.csv.")


draw_downloads()
