"""What a recruitment target search found, in the sentences a planner reads: the question it
answers, where today's level stands, and each answer (where the mean, and where the 95th
percentile, meets the limit) or why recruitment alone does not get there.  Written here, not in
the page, so that each conclusion is tested where it is computed."""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.kpis import KPI_BY_NAME
from sim.planning.comparison import format_figure
from sim.planning.target_finder import TargetResult

#: The two answers: which statistic meets the limit, and what that means.
ANSWERS = (("mean", "on average the service is within the limit"),
           ("95th percentile", "in 95 of 100 simulated futures it is within the limit"))


@dataclass(frozen=True)
class Answer:
    """One answer: the statistic, the level found (None: not reached) and its sentence; ``kind`` is
    "success" for a level found, "warning" for none."""

    what: str
    level: float | None
    kind: str
    text: str


def question(found: TargetResult, year_labels: list[str], scenario_label: str) -> str:
    """'A2: order to match at or below 121 days in every year from 2024-25, with enquiries set
    from 2023-24 (scenario '...'; today 25.67 enquiries a month, the baseline's).'"""
    k = KPI_BY_NAME[found.kpi]
    if found.every_year_from is not None:
        period = f"in every year from {year_labels[found.every_year_from - 1]}"
    elif found.year:
        period = f"in the final year ({year_labels[found.year - 1]})"
    else:
        period = "on average over the horizon"
    return (f"**{k.label} at or below {format_figure(found.limit, k.unit)} {period}**, with enquiries set from "
            f"{found.start} (scenario '{scenario_label}'; today {found.baseline_enquiries:g} enquiries a month, "
            "the baseline's).")


def _measure(found: TargetResult, measure: dict, where: str = " (worst year {})") -> str:
    k = KPI_BY_NAME[found.kpi]
    worst = where.format(measure["worst_year"]) if "worst_year" in measure else ""
    return (f"{format_figure(measure['mean'], k.unit)} on average{worst} (90%: {format_figure(measure['p5'], k.unit)} "
            f"to {format_figure(measure['p95'], k.unit)})")


def today(found: TargetResult) -> tuple[str, str]:
    """Where today's level stands: ("info", ...) when it already meets the limit, else ("plain", ...)."""
    k = KPI_BY_NAME[found.kpi]
    level = f"{found.baseline_enquiries:.1f} enquiries a month"
    if found.today_meets_mean:
        both = found.today_meets_p95
        return "info", (f"**Today's level already meets the limit**"
                        f"{', on average and at the 95th percentile' if both else ' on average'}: {level} give "
                        f"{k.label} {_measure(found, found.today.measure)}: no extra recruitment is needed"
                        + ("." if both else " on average; allowing for uncertainty, see the 95th percentile below."))
    return "plain", f"Today's level, {level}, gives {k.label} {_measure(found, found.today.measure)}: above the limit."


def answers(found: TargetResult) -> list[Answer]:
    """The answer for the mean and for the 95th percentile, each a level with what it gives, or why
    there is none."""
    k = KPI_BY_NAME[found.kpi]
    out = []
    for (what, note), level in zip(ANSWERS, (found.mean_level, found.p95_level)):
        if level is None:
            out.append(Answer(what, None, "warning", (
                f"Where the {what} meets the limit: not reached with up to {found.search_max:g} enquiries a month. "
                "Recruitment alone does not get there; look at the other levers (assessing social workers and "
                "panels limit approvals; family finding and proceedings limit waits), or at a later year: "
                "enquiries take a year or more to show.")))
            continue
        ev = found.at(level)
        out.append(Answer(what, level, "success", (
            f"Where the **{what}** meets the limit ({note}): **{level:.1f} enquiries a month** from {found.start} "
            f"({level * 12:.0f} a year; ±{found.tolerance:.2f} a month; today {found.baseline_enquiries:.1f}), giving "
            f"**{ev.approvals['mean']:.0f} approvals a year** (90%: {ev.approvals['p5']:.0f} to "
            f"{ev.approvals['p95']:.0f}); there {k.label} is {_measure(found, ev.measure, ' in its worst year ({})')}.")))
    return out


def method(found: TargetResult, precision_chosen: bool) -> str:
    """How to read the answers, and the replications they rest on."""
    return ("The answer is where the mean over replications meets the limit; the second answer allows for "
            "uncertainty. The dotted line is today's level. The search assumes the measure falls as recruitment "
            "rises; with finite replications the curve is not perfectly smooth, so read the answer as a level to "
            f"within the stated tolerance. Levels were bracketed on {found.screen_replications} replications each; "
            f"today's level and the answers are judged on {found.replications}"
            + (" (as many as the stated precision needs at today's level)." if precision_chosen else "."))
