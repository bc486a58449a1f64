"""Children for whom no family comes forward (``children.no_family_share``) and the figures of
who waits: set apart from matching, they wait until their plan changes or their group is split;
only the harder to place are ever set apart; the waiting list's make-up is counted as the ASGLB
counts it; and the fit considers the parameters only the make-up tells apart only when it is given.
"""

import math

import numpy as np
import pytest

from sim.calibration.fit import NO_FAMILY_PRIOR_CENTRE, WHO_WAITS, informed_priors, select_parameters
from sim.calibration.targets import load_targets
from sim.model.pipeline import run_replication
from sim.run.runner import run_scenario
from tests.conftest import small

ALL_EASY = {"sibling_group_probs": [1.0, 0.0, 0.0], "age_band_probs": [1.0, 0.0, 0.0, 0.0],
            "complex_needs_share": 0.0}
ALL_SIBLINGS = {"sibling_group_probs": [0.0, 1.0, 0.0]}
WHO_WAITS_FIGURES = WHO_WAITS  # the waiting list's make-up, or how long it has waited so far


def _mean(results, kpi) -> float:
    reps = results.replications
    return float(np.nanmean(reps.loc[reps["kpi"] == kpi, "value"]))


def test_no_family_share_zero_is_the_model_without_it():
    """The default draws nothing: share 0 and a share no child can meet give the same run."""
    base = run_replication(small(children=ALL_EASY), 0).kpis
    easy_set_apart = run_replication(small(children={**ALL_EASY, "no_family_share": 0.9}), 0).kpis
    assert base == easy_set_apart


def test_set_apart_children_are_never_placed_and_leave_by_a_change_of_plan():
    none = small(years=4, children={**ALL_SIBLINGS, "no_family_share": 0.0})
    most = small(years=4, children={**ALL_SIBLINGS, "no_family_share": 0.95,
                                     "plan_change_per_year": 0.5, "plan_change_per_year_after_18_months": 0.5})
    r_none, r_most = run_replication(none, 0).kpis, run_replication(most, 0).kpis
    assert sum(r_most["placements"]) < 0.25 * sum(r_none["placements"])
    assert sum(r_most["plan_changes"]) > sum(r_none["plan_changes"])
    assert sum(r_most["interagency_placements"]) < sum(r_none["interagency_placements"])


def test_more_children_set_apart_lengthen_the_waiting_list_but_not_a2():
    """Paired runs: the more harder-to-place children no family comes forward for, the more wait,
    and the longer they wait; A2 (children adopted) does not lengthen, as they are not adopted."""
    runs = [run_scenario(small(reps=12, years=4, children={"no_family_share": s})) for s in (0.0, 0.3, 0.6)]
    waiting = [_mean(r, "children_waiting_with_po") for r in runs]
    long_waits = [_mean(r, "children_waiting_over_18_months") for r in runs]
    a2 = [_mean(r, "a2_days") for r in runs]
    assert waiting[0] < waiting[1] < waiting[2], waiting
    assert long_waits[0] < long_waits[1] < long_waits[2], long_waits
    assert a2[2] <= a2[0] * 1.05, a2


def test_the_waiting_list_is_counted_as_the_asglb_counts_it():
    r = run_replication(small(years=4, reps=1, children=ALL_SIBLINGS), 0).kpis
    for year in range(4):
        assert r["children_not_placed_with_po"][year] == r["children_waiting_with_po"][year] + r["children_matched"][year]
        if r["children_waiting_with_po"][year]:
            assert r["waiting_in_sibling_groups_pct"][year] == 100.0
    easy = run_replication(small(years=4, reps=1, children=ALL_EASY), 0).kpis
    for year in range(4):
        if easy["children_waiting_with_po"][year]:
            assert easy["waiting_in_sibling_groups_pct"][year] == 0.0
            assert 0.0 <= easy["waiting_aged_5_plus_pct"][year] <= 100.0


def test_no_children_waiting_gives_no_make_up():
    r = run_replication(small(years=2, children={"entering_per_year": 0.0}), 0).kpis
    assert all(math.isnan(v) for v in r["waiting_in_sibling_groups_pct"])


@pytest.mark.parametrize("targets, with_make_up", [("cambridgeshire-peterborough-2022-23", False),
                                                   ("rotherham-2017-18", True), ("england-2018-19", True)])
def test_who_waits_parameters_are_fitted_only_from_the_make_up_of_the_waiting(targets, with_make_up):
    """Most agencies' figures cannot tell who waits from how long everyone waits: the parameters only the
    waiting list's make-up (or how long it has waited so far) tells apart stay at their defaults (neither
    fitted nor drawn from a prior); England's figures give the make-up, and Rotherham's the days its
    waiting children have waited since their order (long waiters), so their fits set them."""
    ts = load_targets(f"calibration/targets/{targets}.toml")
    used = {t.figure for t in ts.used_targets()}
    assert bool(used & set(WHO_WAITS_FIGURES)) is with_make_up
    fit, left = select_parameters(ts)
    gated = {"children.no_family_share", "adopters.open_to_siblings_share", "adopters.open_to_older_share"}
    centres = {e.key: e.value for e in informed_priors(ts)}
    if with_make_up:
        assert gated <= {c.key for c in fit}
        assert centres["children.no_family_share"] == NO_FAMILY_PRIOR_CENTRE
    else:
        assert not gated & {c.key for c in fit + left}
        assert "children.no_family_share" not in centres
