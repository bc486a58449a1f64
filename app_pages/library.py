"""The Library page: scenarios and comparisons saved in the shared library, with who saved them and
when; save the scenario shown (with its run) or the comparison chosen (with the runs it shows),
open a saved scenario as the baseline, a saved comparison in Compare (also by its link,
``?comparison=ID``), rename, delete.  Saving, renaming and deleting are for editors
(:mod:`sim.app.access`); viewers open."""

from __future__ import annotations

import streamlit as st

from sim import LibraryError
from sim.app.access import can_edit, current_user, shared
from sim.app.choices import compare_choice, compare_options, compare_settings, compared_runs, finance_window
from sim.app.kept_runs import library
from sim.app.library import go_to_compare, open_comparison
from sim.app.sidebar import add_scenario_text
from sim.app.view import current_view
from sim.planning.library_rows import comparison_rows, scenario_rows

state = st.session_state
v = current_view()


def signed() -> str:
    """Who saves: the person logged in, else the name typed."""
    user = current_user()
    return user.signature if shared() and user else state.get("library:author", "")


def saving(save) -> None:
    """Run ``save`` (a form's button) for an editor, and say what came of it, or why nothing was saved."""
    if not can_edit():
        state["library:said"] = "Not saved: only editors save to the library."
        return
    try:
        state["library:said"] = save()
    except (LibraryError, ValueError) as exc:
        state["library:said"] = f"Not saved: {exc}"


def save_shown() -> str:
    """Save the scenario shown, as run (its replications and horizon), with the run's figures."""
    lib = library()
    sid = lib.save_scenario(v.scen_res.scenario, state["library:title"], signed(),
                            state.get("library:note", ""), base=v.baseline_label)
    lib.save_results(v.scen_res)
    return f"Saved as scenario {sid}, with its figures."


def save_comparison() -> str:
    """Save the scenarios chosen in Compare (each as a saved scenario, or the one saved already with
    its title and file), the runs they show and the comparison of them."""
    options = compare_options(v)
    chosen = compare_choice(v, options)
    compared = compared_runs(v, options, chosen)
    reference, year = compare_settings(v, compared)
    lib = library()
    ids = {name: lib.keep_scenario(compared[name].scenario, name, signed()) for name in chosen}
    results = [lib.save_results(compared[name]) for name in chosen]
    window = finance_window(v)
    labels = compared[reference].years
    cid = lib.save_comparison(state["library:comparison_title"], [ids[n] for n in chosen], ids[reference],
                              years=v.years, year=year, replications=v.reps, result_ids=results,
                              window=f"{labels[window[0] - 1]} to {labels[window[-1] - 1]}",
                              question=state.get("board_question") or "", author=signed())
    return f"Saved as comparison {cid}, with its figures: its link is ?comparison={cid}."


def draw_saving() -> None:
    with st.form("library:save"):
        st.markdown(f"**Save the scenario shown** ({v.label}), with its figures")
        st.text_input("Title", value=v.label, key="library:title")
        if not shared():
            st.text_input("Your name", key="library:author")
        st.text_input("Note (why, and for whom)", key="library:note")
        st.form_submit_button("Save the scenario", on_click=saving, args=(save_shown,))
    with st.form("library:save_comparison"):
        st.markdown("**Save the comparison chosen in Compare scenarios**: its scenarios and their figures, "
                    "reference, year, finance window and the question for the board")
        st.text_input("Title", value="Options for the board", key="library:comparison_title")
        st.form_submit_button("Save the comparison", on_click=saving, args=(save_comparison,))


def draw_scenarios(lib, saved) -> None:
    st.markdown(f"**Saved scenarios** ({len(saved)})")
    if not saved:
        return
    st.dataframe(scenario_rows(saved), hide_index=True, width="stretch")
    by_id = {s.id: s for s in saved}
    c1, c2, c3 = st.columns(3)
    pick = c1.selectbox("Scenario", list(by_id), format_func=lambda i: f"{i}: {by_id[i].title}", key="library:pick")
    c1.button("Open as the baseline", key="library:open", on_click=add_scenario_text,
              args=(by_id[pick].toml, f"library scenario {pick}", "Library", by_id[pick].title))
    if not can_edit():
        return
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


def draw_comparisons(lib, saved) -> None:
    compared = lib.comparisons()
    st.markdown(f"**Saved comparisons** ({len(compared)})")
    if not compared:
        return
    titles = {s.id: s.title for s in saved}
    st.dataframe(comparison_rows(compared, titles), hide_index=True, width="stretch")
    by_id = {c.id: c for c in compared}
    c1, c2 = st.columns(2)
    pick = c1.selectbox("Comparison", list(by_id), key="library:pick_comparison",
                        format_func=lambda i: f"{i}: {by_id[i].title}")
    c1.button("Open in Compare scenarios", key="library:open_comparison", on_click=open_comparison, args=(pick,))
    if can_edit():
        sure = c2.checkbox("Yes, delete this comparison for everyone", key="library:sure_comparison")
        if c2.button("Delete the comparison", key="library:delete_comparison", disabled=not sure):
            lib.delete_comparison(pick)
            st.rerun()
    go_to_compare()


def draw_library() -> None:
    try:
        lib = library()
        saved = lib.scenarios()
    except LibraryError as exc:
        st.error(f"The library cannot be opened: {exc}")
        return
    st.write("Scenarios and comparisons saved here stay for everyone who uses this app: a board member "
             "opens a saved comparison (or its link) and reads the same figures.")
    if can_edit():
        draw_saving()
    else:
        st.info("You can open what is saved here; editors save, rename and delete.")
    if state.get("library:said"):
        st.info(state.pop("library:said"))
    draw_scenarios(lib, saved)
    draw_comparisons(lib, saved)


draw_library()
