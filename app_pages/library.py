"""The Library page: scenarios and comparisons saved in the shared library, with who saved them and
when; save the scenario shown or the comparison chosen, open a saved scenario as the baseline, a
saved comparison in Compare (also by its link, ``?comparison=ID``), rename, delete."""

from __future__ import annotations

import streamlit as st

from sim import LibraryError
from sim.app.choices import compare_choice, compare_options, compare_settings, compared_runs, finance_window
from sim.app.library import go_to_compare, library, open_comparison
from sim.app.sidebar import add_scenario_text
from sim.app.view import current_view
from sim.planning.library_rows import comparison_rows, scenario_rows

state = st.session_state
v = current_view()


def save_shown() -> None:
    """Save the scenario shown, under the title given."""
    try:
        sid = library().save_scenario(v.scenario, state["library:title"], state.get("library:author", ""),
                                      state.get("library:note", ""), base=v.baseline_label)
        state["library:said"] = f"Saved as scenario {sid}."
    except (LibraryError, ValueError) as exc:
        state["library:said"] = f"Not saved: {exc}"


def save_comparison() -> None:
    """Save the scenarios chosen in Compare (each as a saved scenario) and the comparison of them."""
    try:
        options = compare_options(v)
        chosen = compare_choice(v, options)
        compared = compared_runs(v, options, chosen)
        reference, year = compare_settings(v, compared)
        lib = library()
        ids = {name: lib.save_scenario(compared[name].scenario, name, state.get("library:author", ""))
               for name in chosen}
        window = finance_window(v)
        labels = compared[reference].years
        cid = lib.save_comparison(state["library:comparison_title"], [ids[n] for n in chosen], ids[reference],
                                  years=v.years, year=year, replications=v.reps,
                                  window=f"{labels[window[0] - 1]} to {labels[window[-1] - 1]}",
                                  question=state.get("board_question") or "", author=state.get("library:author", ""))
        state["library:said"] = f"Saved as comparison {cid}: its link is ?comparison={cid}."
    except (LibraryError, ValueError) as exc:
        state["library:said"] = f"Not saved: {exc}"


def draw_library() -> None:
    try:
        lib = library()
    except LibraryError as exc:
        st.error(f"The library cannot be opened: {exc}")
        return
    st.write("Scenarios and comparisons saved here stay for everyone who uses this app: a board member "
             "opens a saved comparison (or its link) and reads the same figures.")
    with st.form("library:save"):
        st.markdown(f"**Save the scenario shown** ({v.label})")
        st.text_input("Title", value=v.label, key="library:title")
        st.text_input("Your name", key="library:author")
        st.text_input("Note (why, and for whom)", key="library:note")
        st.form_submit_button("Save the scenario", on_click=save_shown)
    with st.form("library:save_comparison"):
        st.markdown("**Save the comparison chosen in Compare scenarios** (its scenarios, reference, year, "
                    "finance window and the question for the board)")
        st.text_input("Title", value="Options for the board", key="library:comparison_title")
        st.form_submit_button("Save the comparison", on_click=save_comparison)
    if state.get("library:said"):
        st.info(state.pop("library:said"))
    saved = lib.scenarios()
    st.markdown(f"**Saved scenarios** ({len(saved)})")
    if saved:
        st.dataframe(scenario_rows(saved), hide_index=True, width="stretch")
        by_id = {s.id: s for s in saved}
        c1, c2, c3 = st.columns(3)
        pick = c1.selectbox("Scenario", list(by_id), format_func=lambda i: f"{i}: {by_id[i].title}",
                            key="library:pick")
        c1.button("Open as the baseline", key="library:open", on_click=add_scenario_text,
                  args=(by_id[pick].toml, f"library scenario {pick}", "Library", by_id[pick].title))
        new_title = c2.text_input("New title", key="library:new_title")
        if c2.button("Rename", key="library:rename") and new_title:
            lib.rename(pick, new_title)
            st.rerun()
        sure = c3.checkbox("Yes, delete it for everyone", key="library:sure")
        if c3.button("Delete", key="library:delete", disabled=not sure):
            try:
                lib.delete_scenario(pick)
            except LibraryError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    compared = lib.comparisons()
    st.markdown(f"**Saved comparisons** ({len(compared)})")
    if compared:
        titles = {s.id: s.title for s in saved}
        st.dataframe(comparison_rows(compared, titles), hide_index=True, width="stretch")
        pick = st.selectbox("Comparison", [c.id for c in compared], key="library:pick_comparison",
                            format_func=lambda i: next(f"{c.id}: {c.title}" for c in compared if c.id == i))
        st.button("Open in Compare scenarios", key="library:open_comparison", on_click=open_comparison, args=(pick,))
        go_to_compare()


draw_library()
