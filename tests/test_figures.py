"""Figures as the app, the Excel file and the board pack show them: a mean never outside its
own interval, never '−0', small counts as such, pounds rounded to what the uncertainty
supports, and one adopter gap in every output."""


import pytest

from sim.planning import comparison


@pytest.mark.parametrize("width, step", [
    (412_345.0, 1_000.0),   # 3 significant figures of the width: £412,000
    (41_234.0, 100.0),
    (9_990.0, 10.0),
    (80.0, 1.0),            # never finer than a pound
    (0.0, 1.0),             # no spread (before a change starts): to the pound
    (float("nan"), 1.0),
])
def test_pounds_are_rounded_to_three_figures_of_the_interval_width(width, step):
    assert comparison.uncertainty_step(width) == step


def test_money_mean_and_interval_rounded_alike():
    text = comparison.format_estimate(412_345.6, 236_120.0, 648_465.0, "£")
    assert text == "£412,000 [£236,000 to £648,000]"
    assert comparison.round_to_uncertainty(412_345.6, 412_345.0) == 412_000.0


def test_a_mean_is_never_shown_outside_its_interval():
    # 4 of 100 runs with one event: the mean (0.04) is above the 95th percentile (0)
    text = comparison.format_estimate(0.04, 0.0, 0.0, "children")
    assert text == "0.04 on average; 0.00 in 90% of runs"
    assert "[" not in text
    # inside its interval: the same decimals for mean and bounds, so the order holds
    for mean, lo, hi in [(0.149, 0.0, 0.151), (12.96, 12.95, 13.04), (0.5, 0.0, 2.0)]:
        shown = comparison.format_estimate(mean, lo, hi, "children")
        m, rest = shown.split(" [")
        a, b = rest.rstrip("]").split(" to ")
        assert float(a) <= float(m) <= float(b), shown


def test_small_counts_are_shown_as_such():
    assert comparison.format_estimate(0.04, 0.0, 1.0, "children") == "0.04 [0.00 to 1.00]"
    assert comparison.format_estimate(36.04, 29.0, 44.0, "households") == "36.0 [29.0 to 44.0]"
    assert comparison.format_estimate(171.4, 120.2, 250.0, "days") == "171 days [120 days to 250 days]"


def test_never_minus_zero():
    assert comparison.format_change(-0.001, -0.3, 0.2, "children") == "0.0 [−0.3 to +0.2]"
    assert comparison.format_change(-0.04, -0.04, 0.0, "children") == "0.0 [0.0 to 0.0]"
    assert comparison.format_change(-0.2, -0.4, 0.0, "days") == "0 days [0 days to 0 days]"
    assert comparison.format_change(0.0, 0.0, 0.0, "£") == "£0 [£0 to £0]"
    assert comparison.format_figure(-0.01, "children") == "0.0"
    assert comparison.format_figure(-0.2, "days") == "0 days"
    assert comparison.format_change(-12.0, -20.0, -4.0, "days") == "−12 days [−20 days to −4 days]"
    assert comparison.format_change(151.1, 40.0, 260.0, "%") == "+151 points [+40 points to +260 points]"


def test_one_adopter_gap_in_every_output():
    """The gap is the KPI (ASGLB's percentage), shown as every figure is: its mean with its interval,
    the same in the app's headline and table, the board paper and the command line's table."""
    from sim.planning.board_pack import headline_table
    from sim.planning.report_table import years_table
    from sim.run.runner import run_scenario
    from tests.conftest import small

    assert "percentage of the children waiting" in comparison.GAP_DEFINITION
    results = run_scenario(small(years=2, reps=6, seed=5))
    row = results.summary[(results.summary["kpi"] == "adopter_gap") & (results.summary["year"] == 2)].iloc[0]
    cell = comparison.format_estimate(row["mean"], row["p5"], row["p95"], "%")
    wide, _ = headline_table({"baseline": results}, 2, kpis=["adopters_waiting", "adopter_gap"])
    assert wide.loc["Adopter gap", "baseline"] == cell
    assert not any("per child" in str(label) for label in wide.index)
    table = comparison.change_table(results, results, ["adopter_gap"], 2).iloc[0]
    assert comparison.format_estimate(table["scenario"], table["scenario_p5"], table["scenario_p95"], "%") == cell
    printed = years_table(results.summary, ["adopter_gap"])
    mean, low, high = comparison.estimate_parts(row["mean"], row["p5"], row["p95"], "%")
    assert mean in printed and f"{low} to {high}" in printed
