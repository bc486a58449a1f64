"""The sentences a planner reads from a recruitment target search, tested where they are written
(:mod:`sim.planning.target_reading`): each states the question, today's standing and each answer
with the figures the search found."""

from __future__ import annotations

import pytest

from sim.planning import target_reading
from sim.planning.comparison import format_figure
from sim.planning.target_finder import find_recruitment_target
from tests.conftest import small


@pytest.fixture(scope="module")
def searches():
    s = small(years=3, reps=4, seed=5)
    met = find_recruitment_target(s, "a2_days", 2000.0, year=3)  # a limit any level meets
    unmet = find_recruitment_target(s, "a2_days", 1.0, year=3, search_max=40.0)  # one no level meets
    return s, met, unmet


def test_the_question_names_the_measure_the_limit_the_period_and_the_scenario(searches):
    _, met, _ = searches
    text = target_reading.question(met, ["2022-23", "2023-24", "2024-25"], "Campaign")
    assert text.startswith("**A2: order to match at or below 2,000 days in the final year (2024-25)**")
    assert "scenario 'Campaign'" in text and f"today {met.baseline_enquiries:g} enquiries a month" in text


def test_today_s_level_already_meeting_the_limit_says_no_extra_recruitment_is_needed(searches):
    _, met, unmet = searches
    kind, text = target_reading.today(met)
    assert kind == "info" and "no extra recruitment is needed" in text
    assert format_figure(met.today.measure["mean"], "days") in text
    kind, text = target_reading.today(unmet)
    assert kind == "plain" and text.endswith("above the limit.")


def test_each_answer_gives_its_level_and_what_it_gives_or_why_there_is_none(searches):
    _, met, unmet = searches
    found = target_reading.answers(met)
    assert [a.what for a in found] == ["mean", "95th percentile"]
    for answer in found:
        assert answer.kind == "success" and answer.level is not None
        assert f"**{answer.level:.1f} enquiries a month**" in answer.text
        assert f"**{met.at(answer.level).approvals['mean']:.0f} approvals a year**" in answer.text
    none = target_reading.answers(unmet)
    assert none[0].kind == "warning" and none[0].level is None
    assert "not reached with up to 40 enquiries a month" in none[0].text
    assert "Recruitment alone does not get there" in none[0].text


def test_the_method_says_how_many_replications_the_answers_rest_on(searches):
    _, met, _ = searches
    assert f"judged on {met.replications}." in target_reading.method(met, False)
    assert "as many as the stated precision needs" in target_reading.method(met, True)
