"""Priors from every calibrated agency: the spread across agencies, leave-one-out, and parameter sets
that carry what an agency's own figures leave open."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from sim.calibration import fit as cal
from sim.calibration.agency_priors import OPEN_NOTE, CalibratedAgency, calibrated_agencies, pooled_priors
from sim.scenario.files import SCENARIO_DIR
from sim.scenario.parameters import Scenario

ROOT = Path(__file__).resolve().parent.parent
STAGE1 = cal.CANDIDATE_BY_KEY["adopters.stage1_days"]  # log scale, default prior sd 0.5
WITHDRAWAL = cal.CANDIDATE_BY_KEY["adopters.stage1_withdrawal"]  # logit scale


def agency(name: str, **values: float) -> CalibratedAgency:
    return CalibratedAgency(name, Path(f"{name}.toml"), Path(f"/targets/{name}.toml").resolve(),
                            {k.replace("__", "."): v for k, v in values.items()})


def test_with_no_other_agency_the_prior_is_the_default():
    prior = pooled_priors([STAGE1], [])[STAGE1.key]
    assert prior.centre == Scenario().adopters.stage1_days
    assert prior.sd == STAGE1.prior_sd and prior.agencies == ()


def test_one_agency_centres_the_prior_and_widens_it_for_a_new_agency():
    prior = pooled_priors([STAGE1], [agency("a", adopters__stage1_days=90.0)])[STAGE1.key]
    assert prior.centre == pytest.approx(90.0)
    assert prior.sd == pytest.approx(STAGE1.prior_sd * math.sqrt(2))


def test_the_centre_is_the_mean_on_the_fit_scale_and_the_spread_grows_with_the_agencies_scatter():
    close = [agency(n, adopters__stage1_days=v) for n, v in (("a", 100.0), ("b", 110.0), ("c", 121.0))]
    far = [agency(n, adopters__stage1_days=v) for n, v in (("a", 40.0), ("b", 110.0), ("c", 300.0))]
    p_close, p_far = (pooled_priors([STAGE1], group)[STAGE1.key] for group in (close, far))
    assert p_close.centre == pytest.approx(110.0, rel=1e-3)  # geometric mean on the log scale
    assert p_close.sd < STAGE1.prior_sd < p_far.sd
    shares = [agency(n, adopters__stage1_withdrawal=v) for n, v in (("a", 0.2), ("b", 0.5))]
    centre = pooled_priors([WITHDRAWAL], shares)[WITHDRAWAL.key].centre
    assert 0.2 < centre < 0.5 and centre == pytest.approx(1 / (1 + math.sqrt((0.8 / 0.2) * (0.5 / 0.5))))


def test_the_agency_being_fitted_is_left_out_of_its_own_prior():
    group = [agency("a", adopters__stage1_days=50.0), agency("b", adopters__stage1_days=200.0)]
    prior = pooled_priors([STAGE1], group, exclude=Path("/targets/a.toml"))[STAGE1.key]
    assert prior.centre == pytest.approx(200.0) and prior.agencies == ("b",)


def test_the_calibrated_agencies_are_the_seed_baselines_not_their_what_ifs():
    found = calibrated_agencies()
    names = sorted(a.scenario_file.name for a in found)
    assert names == ["cambridgeshire-2017-18.toml", "cambridgeshire-peterborough-2022-23.toml",
                     "rotherham-2017-18.toml"]
    assert all(a.targets_file.is_file() and a.values for a in found)


def test_a_national_fit_is_not_an_agency_s_evidence(tmp_path):
    """England's averages are the sum of every agency, not one more agency beside them."""
    national = (ROOT / "calibration" / "targets" / "england-2018-19.toml").read_text(encoding="utf-8")
    (tmp_path / "national.toml").write_text(national, encoding="utf-8")
    text = (SCENARIO_DIR / "cambridgeshire-2017-18.toml").read_text(encoding="utf-8")
    old = re.search(r'^targets_file = ".*"$', text, re.M).group(0)
    (tmp_path / "x.toml").write_text(text.replace(old, f'targets_file = "{tmp_path / "national.toml"}"'),
                                     encoding="utf-8")
    assert calibrated_agencies(tmp_path) == []
    (tmp_path / "national.toml").write_text(national.replace('level = "national"\n', ""), encoding="utf-8")
    assert [a.scenario_file.name for a in calibrated_agencies(tmp_path)] == ["x.toml"]


def test_a_value_left_at_its_prior_is_not_evidence(tmp_path):
    text = (SCENARIO_DIR / "cambridgeshire-2017-18.toml").read_text(encoding="utf-8")
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    [base] = calibrated_agencies(tmp_path)
    key = next(iter(base.values))
    marked = text.replace(f'"{key}" = "', f'"{key}" = "{OPEN_NOTE} ', 1)
    (tmp_path / "x.toml").write_text(marked, encoding="utf-8")
    [open_] = calibrated_agencies(tmp_path)
    assert key in base.values and key not in open_.values
