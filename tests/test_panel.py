"""The adoption panel: the documented rule (sim/model/panel.py) on hand-built cases, changes of
capacity part-way through a run, and approvals holding up when volumes outgrow the panel."""

import pytest
import simpy

from sim.model.panel import APPROVAL, MATCH, AdoptionPanel
from sim.run.runner import run_scenario
from sim.scenario.calendar import MONTH_DAYS as M
from tests.conftest import small


def _case(env, panel, kind, name, at, heard):
    """A case sent to panel at day ``at``; records (name, day heard) when it is heard."""
    if at:
        yield env.timeout(at)
    yield panel.hear(kind)
    heard.append((name, env.now))


def _send(env, panel, heard, at, *names):
    """Cases named "a..." are approvals, "m..." matches; sent in the order given."""
    for name in names:
        env.process(_case(env, panel, APPROVAL if name[0] == "a" else MATCH, name, at, heard))


def _days(heard):
    return {name: pytest.approx(t) for name, t in heard}


def _at(heard, t):
    """Names heard on day ``t``, in the order they were released."""
    return [name for name, day in heard if day == pytest.approx(t)]


def test_with_room_for_everyone_cases_are_heard_first_come_first_served():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 2.0, 6, extra_panels_per_month=1, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "a1", "m2", "a2", "a3")
    _send(env, panel, heard, 10, "m3")  # after the first sitting (day M/4 = 7.6)
    env.run(until=M)
    assert heard == [("m1", pytest.approx(M / 4)), ("a1", pytest.approx(M / 4)), ("m2", pytest.approx(M / 4)),
                     ("a2", pytest.approx(M / 4)), ("a3", pytest.approx(M / 4)), ("m3", pytest.approx(3 * M / 4))]
    assert panel.regular_sittings == 2 and panel.extra_sittings == 0


def test_each_kind_keeps_its_share_of_the_places():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 4, extra_panels_per_month=0, approval_share=0.5)  # sittings M/2, 3M/2, ...
    _send(env, panel, heard, 0, "m1", "m2", "m3", "m4", "m5", "a1", "a2", "a3")
    env.run(until=2 * M)
    # first come first served would hear m1-m4; two places are the approvals', released in order of arrival
    assert _at(heard, M / 2) == ["m1", "m2", "a1", "a2"]
    # one approval left: its unused place goes to the matches
    assert _at(heard, 3 * M / 2) == ["m3", "m4", "m5", "a3"]


def test_a_share_one_kind_leaves_unused_goes_to_the_other():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 4, extra_panels_per_month=0, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "m2", "m3", "m4", "m5", "m6")
    _send(env, panel, heard, M, "a1", "a2", "a3", "a4", "a5")  # before the second sitting
    env.run(until=3 * M)
    assert _at(heard, M / 2) == ["m1", "m2", "m3", "m4"]  # no approvals waiting: all four places to matches
    assert _at(heard, 3 * M / 2) == ["m5", "m6", "a1", "a2"]  # both kinds waiting: two places each
    assert _at(heard, 5 * M / 2) == ["a3", "a4", "a5"]


def test_a_share_of_part_of_a_place_is_carried_to_the_next_sitting():
    env, heard = simpy.Environment(), []
    # 0.25 of 2 places is half a place: approvals are reserved 1, 0, 1, 0 places at successive sittings
    panel = AdoptionPanel(env, 1.0, 2, extra_panels_per_month=0, approval_share=0.25)
    _send(env, panel, heard, 0, *[f"a{i}" for i in range(1, 9)], *[f"m{i}" for i in range(1, 9)])
    env.run(until=4 * M)
    assert [_at(heard, (k + 0.5) * M) for k in range(4)] == [["a1", "m1"], ["m2", "m3"], ["a2", "m4"], ["m5", "m6"]]


def test_extra_sittings_when_cases_are_left_waiting_up_to_the_monthly_limit():
    env, heard = simpy.Environment(), []
    # regular sittings at M/8, 3M/8, 5M/8, 7M/8, 9M/8 ...; two places each; at most one extra a month
    panel = AdoptionPanel(env, 4.0, 2, extra_panels_per_month=1, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "m2", "m3", "m4", "m5")
    _send(env, panel, heard, 0.45 * M, "b1", "b2", "b3", "b4")
    _send(env, panel, heard, 1.05 * M, "c1", "c2", "c3")
    env.run(until=1.5 * M)
    assert _days(heard) == {
        "m1": M / 8, "m2": M / 8,
        "m3": M / 4, "m4": M / 4,  # three left waiting: an extra sitting midway to the next date
        "m5": 3 * M / 8,  # the regular date stands
        "b1": 5 * M / 8, "b2": 5 * M / 8,  # two left waiting, but this month's extra sitting is held
        "b3": 7 * M / 8, "b4": 7 * M / 8,  # none left waiting: no extra sitting
        "c1": 9 * M / 8, "c2": 9 * M / 8,
        "c3": 5 * M / 4,  # a new month: an extra sitting again
    }
    assert panel.regular_sittings == 6 and panel.extra_sittings == 2  # the sixth at 11M/8, nothing to hear


def test_an_extra_sitting_hears_by_the_same_rule_and_one_at_most_falls_between_two_dates():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 2, extra_panels_per_month=3, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "m2", "m3", "a1", "a2", "a3")
    env.run(until=2 * M)
    assert _days(heard) == {"m1": M / 2, "a1": M / 2,  # one place each
                            "m2": M, "a2": M,  # the extra sitting, midway to 3M/2, one place each
                            "m3": 3 * M / 2, "a3": 3 * M / 2}  # two still waiting, but no second extra sitting
    assert _at(heard, M / 2) == ["m1", "a1"] and panel.extra_sittings == 1


@pytest.mark.parametrize("panels, places", [(0.0, 6), (3.0, 0)])
def test_without_panels_or_places_nothing_is_heard(panels, places):
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, panels, places, extra_panels_per_month=5, approval_share=0.5)
    _send(env, panel, heard, 0, "a1", "m1")
    env.run(until=6 * M)
    assert heard == [] and panel.extra_sittings == 0
    assert panel.waiting(APPROVAL) == 1 and panel.waiting(MATCH) == 1


def test_hear_needs_the_kind_of_case():
    panel = AdoptionPanel(simpy.Environment(), 3.0, 6)
    with pytest.raises(ValueError, match="approval"):
        panel.hear("placement")
    with pytest.raises(TypeError):
        panel.hear()


# --- changes of capacity part-way through a run ------------------------------------------

def test_set_capacity_from_no_panels_starts_sittings():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 0.0, 6, extra_panels_per_month=0, approval_share=0.5)
    _send(env, panel, heard, 0, "a1", "m1")

    def change():
        yield env.timeout(10)
        panel.set_capacity(2.0, 6)

    env.process(change())
    env.run(until=10 + M)
    # the first sitting half an interval (M/2) after the change, then every M/2
    assert _days(heard) == {"a1": 10 + M / 4, "m1": 10 + M / 4}
    assert panel.regular_sittings == 2


def test_set_capacity_to_no_panels_cancels_sittings_and_they_resume_once():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 2.0, 6, extra_panels_per_month=1, approval_share=0.5)  # first sitting M/4
    _send(env, panel, heard, 0, "a1")

    def change():
        yield env.timeout(5)
        panel.set_capacity(0.0, 6)
        yield env.timeout(1)
        panel.set_capacity(2.0, 6)  # back before the cancelled date (M/4 = 7.6): a new series from day 6

    env.process(change())
    env.run(until=6 + M)
    assert _days(heard) == {"a1": 6 + M / 4}
    assert panel.regular_sittings == 2  # 6 + M/4 and 6 + 3M/4: the cancelled series never sits


def test_set_capacity_changes_places_from_the_next_sitting():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 2, extra_panels_per_month=0, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "m2", "m3", "m4", "m5", "m6", "m7")

    def change():
        yield env.timeout(M)
        panel.set_capacity(1.0, 4)

    env.process(change())
    env.run(until=3 * M)
    assert _at(heard, M / 2) == ["m1", "m2"]
    assert _at(heard, 3 * M / 2) == ["m3", "m4", "m5", "m6"]
    assert _at(heard, 5 * M / 2) == ["m7"]


def test_set_capacity_keeps_the_date_scheduled_then_follows_the_new_interval():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 1, extra_panels_per_month=0, approval_share=0.5)
    _send(env, panel, heard, 0, "m1", "m2", "m3", "m4")

    def change():
        yield env.timeout(0.6 * M)  # after the first sitting (M/2), before the second (3M/2)
        panel.set_capacity(4.0, 1)

    env.process(change())
    env.run(until=2.1 * M)
    assert _days(heard) == {"m1": M / 2, "m2": 3 * M / 2, "m3": 7 * M / 4, "m4": 2 * M}


def test_set_capacity_changes_the_share_and_extra_sittings_and_keeps_what_it_is_not_given():
    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, 1.0, 2, extra_panels_per_month=0, approval_share=0.5)
    panel.set_capacity(1.0, 2, approval_share=1.0)
    assert (panel.extra_panels_per_month, panel.approval_share) == (0, 1.0)
    panel.set_capacity(1.0, 2, extra_panels_per_month=2)
    assert (panel.extra_panels_per_month, panel.approval_share) == (2, 1.0)
    _send(env, panel, heard, 0, "m1", "a1", "a2", "a3")
    env.run(until=1.2 * M)
    assert _at(heard, M / 2) == ["a1", "a2"]  # every place reserved for approvals
    assert _at(heard, M) == ["m1", "a3"]  # an extra sitting


@pytest.mark.parametrize("args", [(-1.0, 6), (3.0, -1), (3.0, 6, -1), (3.0, 6, 1, 1.5)])
def test_set_capacity_refuses_impossible_values(args):
    panel = AdoptionPanel(simpy.Environment(), 3.0, 6)
    with pytest.raises(ValueError):
        panel.set_capacity(*args)


# --- in the model -------------------------------------------------------------------------

def _volumes(factor: float, reps: int = 6):
    """The default agency with enquiries, children and assessing social workers x ``factor``
    (so assessment does not limit approvals); the panel as it is."""
    return small(years=3, reps=reps, warm_up=1, seed=11,
                 adopters={"enquiries_per_month": 25.7 * factor, "assessing_social_workers": 5.0 * factor},
                 children={"entering_per_year": 65.0 * factor})


def _mean(results, kpi):
    s = results.summary
    return s.loc[s["kpi"] == kpi, "mean"].to_numpy()


def test_with_four_times_the_volumes_and_the_same_panel_neither_kind_collapses():
    one, four = run_scenario(_volumes(1)), run_scenario(_volumes(4))
    for kpi in ("approvals", "families_matched"):
        # every year, at least 75% of four times the x1 figure: the reserve keeps each kind's share
        # (first come first served gave about 70% and 64%, as the queue of both kinds grew without end)
        assert (_mean(four, kpi) >= 0.75 * 4 * _mean(one, kpi).mean()).all(), (kpi, _mean(four, kpi), _mean(one, kpi))
    # the panel is full: approvals get at least their reserved share of about 3 x 6 + 1 extra x 6 places a month
    assert _mean(four, "approvals").min() >= 0.9 * 0.44 * 24 * 12


def test_at_the_baseline_scale_the_panel_rarely_binds():
    from sim.model.pipeline import end_time, start
    from sim.scenario.files import load_scenario

    scenario = load_scenario("cambridgeshire-peterborough-2022-23")
    sittings = extra = 0
    for r in range(3):
        p = start(scenario, r)
        p.env.run(until=end_time(scenario))
        sittings, extra = sittings + p.panel.regular_sittings, extra + p.panel.extra_sittings
    assert extra <= 0.02 * sittings  # a sitting leaves cases waiting at most once in fifty


def test_capacity_reads_a_panel_section():
    from sim.model.panel import capacity
    from sim.scenario.parameters import Panel

    env, heard = simpy.Environment(), []
    panel = AdoptionPanel(env, **capacity(Panel()))
    assert (panel.panels_per_month, panel.cases_per_panel, panel.extra_panels_per_month, panel.approval_share) == \
        (3.0, 6, 1, 0.44)
    panel.set_capacity(**capacity(Panel(panels_per_month=0.0)))
    _send(env, panel, heard, 0, "a1")
    env.run(until=3 * M)
    assert heard == [] and panel.regular_sittings == 0
