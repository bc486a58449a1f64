"""The first page of a board paper: what the board is asked, and each option's effect in plain words.

A board member reads page 1 and decides; the tables behind it follow.  Each option other than the
reference gets one sentence: its paired effect, against the reference, on the figures a board
weighs (children waiting, the scorecard waits A10 and A2, adopters waiting) in the year the paper
is about, and on net interagency spend over the budget window, each with its 90% interval:

    "Campaign +30%: cuts children waiting with a placement order by 5.2 [1.1 to 9.0] in 2029-30; ...
    and saves £702,000 [£100,000 to £1,500,000] in net interagency spend over 2027-28 to 2029-30."

Every number is formatted by :func:`sim.planning.comparison.format_estimate`, from the same paired
replications as the tables (:func:`sim.planning.comparison.change`, :func:`sim.planning.finance.spend_table`),
so page 1 and the tables agree to the rounding shown.
"""

from __future__ import annotations

import pandas as pd

from sim.planning.comparison import change, format_estimate
from sim.planning.finance import spend_table
from sim.run.runner import Results

#: The figures page 1 speaks of, with the words it uses for each.
SUMMARY_KPIS = (("children_waiting_with_po", "children waiting with a placement order"),
                ("a10_days", "A10 (days from entering care to moving in)"),
                ("a2_days", "A2 (days from placement order to match)"),
                ("adopters_waiting", "approved adopters waiting"))


def effect(what: str, mean: float, p5: float, p95: float, unit: str) -> str:
    """'cuts children waiting by 5.2 [1.1 to 9.0]', 'raises ... by', or 'leaves ... about the same
    (+0.3 [−1.2 to +1.8])' where the interval spans no change in either direction."""
    if mean != mean:  # no value: nothing to say
        return f"gives no figure for {what}"
    if p5 < 0 < p95 or mean == 0:
        return f"leaves {what} about the same ({format_estimate(mean, p5, p95, unit, signed=True)})"
    verb = "cuts" if mean < 0 else "raises"
    low, high = sorted((abs(p5), abs(p95)))
    return f"{verb} {what} by {format_estimate(abs(mean), low, high, unit)}"


def saving_words(row: pd.Series, window: str) -> str:
    """'saves £702,000 [...] in net interagency spend over 2027-28 to 2029-30' (or 'costs')."""
    mean, p5, p95 = row["saving_gbp"], row["saving_p5"], row["saving_p95"]
    if p5 < 0 < p95 or mean == 0:
        return (f"leaves net interagency spend over {window} about the same "
                f"({format_estimate(mean, p5, p95, '£', signed=True)} saved)")
    verb = "saves" if mean > 0 else "costs"
    low, high = sorted((abs(p5), abs(p95)))
    return f"{verb} {format_estimate(abs(mean), low, high, '£')} in net interagency spend over {window}"


def window_label(results: Results, window: list[int]) -> str:
    """'2027-28 to 2029-30' (or one year)."""
    first, last = results.years[window[0] - 1], results.years[window[-1] - 1]
    return first if first == last else f"{first} to {last}"


def option_sentences(runs: dict[str, Results], reference: str, year: int | None, window: list[int]) -> list[str]:
    """One sentence for each option other than ``reference``: its paired effect on the summary
    figures in ``year`` (None: on average over the horizon) and its net interagency saving over
    the ``window`` years."""
    base = runs[reference]
    period = f"in {base.years[year - 1]}" if year else "on average over the horizon"
    span = window_label(base, window)
    out = []
    for name, results in runs.items():
        if name == reference:
            continue
        effects = []
        for kpi, what in SUMMARY_KPIS:
            row = change(base, results, kpi, year)
            effects.append(effect(what, row["change"], row["change_p5"], row["change_p95"], row["unit"]))
        total = spend_table(base, results, window)
        net = total[(total["measure"] == "net spend")].iloc[-1]  # the window's total (or its one year)
        out.append(f"{name}: {', '.join(effects[:-1])} and {effects[-1]} {period}; and it "
                   f"{saving_words(net, span)}.")
    return out


def reference_sentence(runs: dict[str, Results], reference: str, year: int | None, window: list[int]) -> str:
    """What the reference itself projects, in the same words: the level of each summary figure and
    its net interagency spend over the window."""
    base = runs[reference]
    period = f"in {base.years[year - 1]}" if year else "on average over the horizon"
    levels = []
    for kpi, what in SUMMARY_KPIS:
        row = change(base, base, kpi, year)
        levels.append(f"{what} {format_estimate(row['scenario'], row['scenario_p5'], row['scenario_p95'], row['unit'])}")
    total = spend_table(base, base, window)
    net = total[(total["measure"] == "net spend")].iloc[-1]
    spend = format_estimate(net["baseline_gbp"], net["baseline_p5"], net["baseline_p95"], "£")
    return (f"{reference} (the reference) projects {', '.join(levels)} {period}, and net interagency spend of "
            f"{spend} over {window_label(base, window)}.")


def decision(runs: dict[str, Results], reference: str) -> str:
    """What the board is asked to decide."""
    others = [n for n in runs if n != reference]
    if not others:
        return f"The board is asked to note what {reference} projects, and whether to plan on it."
    which = f"this option ({others[0]})" if len(others) == 1 else f"one of these options ({'; '.join(others)})"
    return (f"The board is asked to decide whether to take forward {which} in place of {reference}, weighing its "
            "effect on children's waits against its effect on interagency spend.")
