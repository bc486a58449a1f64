"""A market of agencies: fees balance, households placed once, the toy market of a surplus and a
shortage, determinism, the sufficiency lever, and market files refused clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.model.census import HOUSEHOLD
from sim.model.interagency_fee import LA, placement_fee
from sim.model.market import run_market_replication
from sim.run.market_runner import run_market
from sim.run.runner import run_scenario
from sim.scenario.files import load_scenario, scenario_from_dict, scenario_names
from sim.scenario.market_file import Agency, MarketError, load_market, market_names, scaled

CP = "cambridgeshire-peterborough-2022-23"


def small(scale: float, years: int = 2, vaa: bool = False, **sections) -> object:
    """C&P scaled, over few years with a short warm-up, with any parameters set (section -> {name: value})."""
    data = scaled(load_scenario(CP), scale, adopters_only=vaa).model_dump()
    data["scenario"].update(years=years, warm_up_years=1)
    for section, values in sections.items():
        data[section].update(values)
    return scenario_from_dict(data, "test")


def region_market():
    return [Agency("A", "North", "raa", small(0.5)), Agency("B", "North", "la", small(0.4)),
            Agency("C", "South", "la", small(0.5)), Agency("V", "South", "vaa", small(0.3, vaa=True))]


@pytest.fixture(scope="module")
def replications():
    agencies = region_market()
    return agencies, [run_market_replication(agencies, 7, r, event_log=True) for r in range(3)]


def test_fees_paid_equal_fees_received_and_every_placement_has_one_payer_and_one_provider(replications):
    agencies, reps = replications
    for rep in reps:
        paid = sum(sum(a.kpis["interagency_fees_gbp"]) for a in rep.agencies)
        received = sum(sum(a.kpis["interagency_income_gbp"]) for a, ag in zip(rep.agencies, agencies)
                       if ag.kind != "vaa")
        vaa_income = sum(sum(a.kpis["interagency_income_gbp"]) for a, ag in zip(rep.agencies, agencies)
                         if ag.kind == "vaa")
        assert paid > 0
        assert paid == pytest.approx(received + vaa_income)
        assert sum(fees for _, fees in rep.ledger.values()) == pytest.approx(paid)
        for k, result in enumerate(rep.agencies):  # each side of the ledger is each agency's own tally
            assert sum(f for (payer, _, _), (_, f) in rep.ledger.items() if payer == k) == \
                pytest.approx(sum(result.kpis["interagency_fees_gbp"]))
            assert sum(f for (_, provider, _), (_, f) in rep.ledger.items() if provider == k) == \
                pytest.approx(sum(result.kpis["interagency_income_gbp"]))
            placed = sum(n for (payer, _, _), (n, _) in rep.ledger.items() if payer == k)
            assert placed == sum(result.kpis["interagency_placements"])
            assert all(payer != provider for payer, provider, _ in rep.ledger)
        assert sum(sum(a.kpis["interagency_fees_gbp"]) for a, ag in zip(rep.agencies, agencies)
                   if ag.kind == "vaa") == 0


def test_every_household_is_placed_at_most_once_at_a_time_and_everyone_is_counted(replications):
    _, reps = replications
    for rep in reps:
        for result in rep.agencies:
            assert sum(result.census.values()) == sum(result.entered.values())
            for _, kind, _, _, old, new in result.log:
                if kind == HOUSEHOLD and new == "linked":
                    assert old == "approved_waiting"
                if kind == HOUSEHOLD and new == "placed":
                    assert old in ("linked", "approved_waiting", None)  # early permanence; the initial state


def test_a_market_with_the_same_seed_gives_the_same_ledger_and_another_seed_another():
    agencies = region_market()
    first = run_market_replication(agencies, 11, 0)
    again = run_market_replication(agencies, 11, 0)
    other = run_market_replication(agencies, 12, 0)
    assert first.ledger == again.ledger
    np.testing.assert_equal([a.kpis for a in first.agencies], [a.kpis for a in again.agencies])  # NaN equals NaN
    assert first.ledger != other.ledger


def test_children_of_an_agency_without_adopters_are_placed_with_the_surplus_agency_which_it_pays():
    surplus = small(0.6, years=3, children={"entering_per_year": 0.0})
    children_only = small(0.6, years=3, adopters={"enquiries_per_month": 0.0})
    agencies = [Agency("A", "East", "la", surplus), Agency("B", "East", "la", children_only)]
    rep = run_market_replication(agencies, 3, 0)
    a, b = rep.agencies
    assert sum(b.kpis["placements"]) > 10
    assert sum(b.kpis["interagency_placements"]) == sum(b.kpis["placements"]) - sum(b.kpis["inhouse_placements"])
    # B recruits no adopters: it places in-house only with the few its starting state holds
    assert sum(b.kpis["interagency_placements"]) >= 0.75 * sum(b.kpis["placements"])
    assert set((payer, provider) for payer, provider, _ in rep.ledger) == {(1, 0)}
    assert sum(b.kpis["interagency_fees_gbp"]) == pytest.approx(sum(a.kpis["interagency_income_gbp"]))
    one_child = placement_fee(surplus.fees, LA, 1, 2022)
    assert sum(a.kpis["interagency_income_gbp"]) >= one_child * sum(a.kpis["external_placements"])


def test_runner_tables_agree_with_the_replications_and_processes_give_the_same_ledger(tmp_path):
    market = write_market(tmp_path, AGENCIES)
    serial = run_market(load_market(market), replications=2, engine="serial")
    parallel = run_market(load_market(market), replications=2, engine="processes", workers=2)
    assert serial.ledger_replications.equals(parallel.ledger_replications)
    fees = serial.ledger_replications.groupby("replication")["fees_gbp"].sum().mean()
    assert serial.ledger["fees_gbp_mean"].sum() == pytest.approx(fees)
    paid = serial.kpi("interagency_fees_gbp").groupby("agency")["mean"].sum().sum()
    assert paid == pytest.approx(fees)


def test_a_market_on_dask_gives_the_serial_tables(tmp_path):
    distributed = pytest.importorskip("distributed")
    from sim.run.dask_engine import close_dask

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                       dashboard_address=":0")
    try:
        market = load_market(write_market(tmp_path, AGENCIES))
        serial = run_market(market, replications=2)
        dask = run_market(market, replications=2, engine="dask", scheduler=cluster.scheduler_address)
    finally:
        close_dask()
        cluster.close()
    assert serial.ledger_replications.equals(dask.ledger_replications)
    assert serial.agency_replications.equals(dask.agency_replications)


def test_fewer_interagency_families_mean_fewer_interagency_placements_and_longer_waits():
    def run(sufficiency):
        scenario = small(1.0, years=3, matching={"interagency_sufficiency": sufficiency})
        r = run_scenario(scenario, replications=20, seed=5)
        return {k: r.kpi(k)["mean"].mean() for k in ("interagency_placements", "interagency_fees_gbp", "a2_days")}

    scarce, today, plenty = run(0.5), run(1.0), run(2.0)
    assert scarce["interagency_placements"] < today["interagency_placements"] < plenty["interagency_placements"]
    assert scarce["interagency_fees_gbp"] < plenty["interagency_fees_gbp"]
    assert scarce["a2_days"] > today["a2_days"] > plenty["a2_days"]
    none = run(0.0)
    assert none["interagency_placements"] == 0


def test_the_sufficiency_lever_at_one_changes_nothing():
    base = small(0.5)
    data = base.model_dump()
    data["matching"]["interagency_sufficiency"] = 1.0
    same = scenario_from_dict(data, "test")
    a, b = run_scenario(base, replications=3), run_scenario(same, replications=3)
    assert a.replications.equals(b.replications)


def test_the_sufficiency_lever_works_as_a_dated_change():
    data = small(0.8, years=3).model_dump()
    # chance alone: a drawn parameter set with a long interagency search has families due years later
    data["calibration"]["parameter_uncertainty"] = False
    data["change"] = [{"parameter": "matching.interagency_sufficiency", "start": "2023-24", "value": 0.0}]
    changed = run_scenario(scenario_from_dict(data, "test"), replications=10, seed=3)
    ia = changed.kpi("interagency_placements")["mean"].tolist()
    # none found once the change starts; a search whose family was already due before it still places
    assert ia[0] > 5 and ia[2] <= 0.1 * ia[0]


AGENCIES = """
[[agency]]
name = "North RAA"
region = "North"
kind = "raa"
archetype = "cambridgeshire-peterborough-2022-23"
scale = 0.4

[[agency]]
name = "VAA"
region = "North"
kind = "vaa"
archetype = "cambridgeshire-peterborough-2022-23"
scale = 0.2
count = 2
"""


def write_market(folder: Path, body: str, settings: str = "years = 2\nwarm_up_years = 1\nreplications = 2\n",
                 name: str = "toy.toml") -> Path:
    path = folder / name
    path.write_text(f"[market]\nname = \"Toy\"\n{settings}\n{body}", encoding="utf-8")
    return path


def test_a_market_file_expands_counts_and_applies_changes_to_the_agencies_it_names(tmp_path):
    write_market(tmp_path, AGENCIES, name="parent.toml")
    child = tmp_path / "campaign.toml"
    child.write_text('extends = "parent"\n[market]\nname = "Campaign"\n\n[[change]]\n'
                     'parameter = "adopters.enquiries_per_month"\nstart = "2023-24"\npercent = 30.0\n'
                     'kinds = ["vaa"]\n', encoding="utf-8")
    market = load_market(child)
    assert [a.name for a in market.agencies] == ["North RAA", "VAA 1", "VAA 2"]
    assert market.name == "Campaign" and market.years == 2
    assert [len(a.scenario.change) for a in market.agencies] == [0, 1, 1]
    assert market.agencies[1].scenario.children.entering_per_year == 0
    cp = load_scenario(CP)
    assert market.agencies[0].scenario.adopters.enquiries_per_month == pytest.approx(
        0.4 * cp.adopters.enquiries_per_month)
    assert "adopters.enquiries_per_month" in cp.calibration.fitted
    assert "adopters.enquiries_per_month" not in market.agencies[0].scenario.calibration.fitted  # scaled, not fitted


@pytest.mark.parametrize("body, says", [
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "trust"\nscenario = "baseline"\n', "allowed: la, raa, vaa"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\n', "give exactly one of 'scenario'"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "baseline"\narchetype = "baseline"\n',
     "got scenario and archetype"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\narchetype = "baseline"\nscale = -1\n',
     "field 'scale'"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "no-such-thing"\n', "no such scenario file"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "baseline"\nsize = 2\n',
     "unknown field 'size'"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "vaa"\narchetype = "baseline"\n', "every agency is a VAA"),
    ('[[agency]]\nregion = "R"\nkind = "la"\nscenario = "baseline"\n', "field 'name' is required"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "baseline"\n[[change]]\n'
     'parameter = "adopters.enquiries_per_month"\nstart = "2023-24"\npercent = 10.0\nregions = ["Mars"]\n',
     "no agency in Mars"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "baseline"\n[[change]]\n'
     'parameter = "adopters.enquiries_per_mnth"\nstart = "2023-24"\npercent = 10.0\n', "change 1"),
    ('[[agency]]\nname = "X"\nregion = "R"\nkind = "la"\nscenario = "baseline"\n[[agencies]]\n',
     "unknown entry 'agencies'"),
])
def test_a_bad_market_file_is_refused_naming_the_file_the_entry_and_what_is_allowed(tmp_path, body, says):
    path = write_market(tmp_path, body)
    with pytest.raises(MarketError) as err:
        load_market(path)
    assert str(path) in str(err.value) and says in str(err.value)


def test_a_bad_market_setting_is_refused(tmp_path):
    path = write_market(tmp_path, AGENCIES, settings="years = 0\n")
    with pytest.raises(MarketError, match=r"market.years.*allowed: a whole number from 1 to 50"):
        load_market(path)


def test_market_files_stay_out_of_the_scenario_lists_and_every_shipped_market_loads():
    assert not set(market_names()) & set(scenario_names())
    for name in scenario_names():  # what the app and agency priors read: scenarios only
        load_scenario(name)
    assert {"east-of-england", "england"} <= set(market_names())
    for name in market_names():
        market = load_market(name)
        assert market.agencies and any(a.kind == "vaa" for a in market.agencies)


def test_command_line_prints_the_agency_table_and_the_ledger_and_refuses_a_bad_file(tmp_path, capsys):
    path = write_market(tmp_path, AGENCIES)
    assert main(["market", str(path), "--reps", "2", "--workers", "1", "--csv", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "all agencies" in out and "North RAA" in out and "payer" in out
    assert (tmp_path / "out" / "ledger.csv").is_file()
    assert main(["market", str(path), "--reps", "2", "--workers", "1", "--ledger", "regions"]) == 0
    assert "North VAAs" in capsys.readouterr().out  # the region's VAAs, apart from its RAA
    assert main(["market", str(path), "--reps", "2", "--workers", "1", "--csv", str(tmp_path / "out")]) == 2
    assert "already exists" in capsys.readouterr().err
    bad = write_market(tmp_path, '[[agency]]\nname = "X"\n', name="bad.toml")
    assert main(["market", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: agency 1" in err and "Traceback" not in err


def test_a_region_pooling_its_adopters_places_its_children_sooner():
    surplus = small(0.6, years=3, children={"entering_per_year": 0.0})
    children_only = small(0.6, years=3, adopters={"enquiries_per_month": 0.0})
    agencies = [Agency("A", "East", "la", surplus), Agency("B", "East", "la", children_only)]

    def b_a2(pooled):
        reps = [run_market_replication(agencies, 3, r, pooled_regions=pooled) for r in range(3)]
        return np.nanmean([np.nanmean(rep.agencies[1].kpis["a2_days"]) for rep in reps])

    assert b_a2(("East",)) < b_a2(()) - 30  # the in-house window of 113 days no longer holds B's children back


def test_the_sufficiency_lever_is_a_dated_change_of_the_parameter():
    from sim.planning.levers import apply_levers

    changed = apply_levers(load_scenario(CP), {"interagency_sufficiency": 0.5})
    assert [(c.parameter, c.value) for c in changed.change] == [("matching.interagency_sufficiency", 0.5)]


def test_after_every_round_no_child_seeking_could_take_a_household_on_offer():
    """The rule checked the long way after each round: the index and the offers-since-last-round
    shortcut leave no compatible pair of a child and another agency's household unmatched."""
    from sim.model.market import ENGLAND, Market
    from sim.model.matching import compatible
    from sim.model.pipeline import end_time

    agencies = region_market()
    market = Market(agencies, 5, 0)
    rounds = market.match_round
    checked = []

    def checked_round(t):
        rounds(t)
        for c, token, k, england_from in market.seeking:
            if c.linked is not token or token.triggered:
                continue
            for (scope, _), offered in market.offers.items():
                if scope != ENGLAND and scope != market.regions[k]:
                    continue
                if scope == ENGLAND and t < england_from:
                    continue
                for h, (_, h_token) in offered.items():
                    if h.linked is h_token and not h_token.triggered and h.agency != k:
                        assert not compatible(h, c, t)
                        checked.append(1)

    market.match_round = checked_round
    market.env.run(until=end_time(agencies[0].scenario))
    assert checked  # there were households on offer that no child seeking could take


def test_the_market_benchmark_quick_run_times_markets_of_two_and_four_agencies(capsys):
    assert main(["bench", "--market", "--quick"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["2", "4"] and all(float(row[1]) > 0 for row in rows)


def test_national_totals_add_up_the_agencies_and_the_sufficiency_index_follows_a_campaign(tmp_path):
    """The totals a national run is checked against are the agencies' sums; the sufficiency index
    is 1 in the first year, and rises when every agency recruits more from the second."""
    from sim.planning.market_tables import sufficiency_by_year, totals_by_year

    settings = "years = 3\nwarm_up_years = 1\nreplications = 4\nseed = 5\n"
    base = run_market(load_market(write_market(tmp_path, AGENCIES, settings, name="base.toml")))
    totals = totals_by_year(base, ["approvals", "a2_days"])
    approvals = totals[totals["kpi"] == "approvals"]["mean"].to_numpy()
    by_agency = base.agencies[base.agencies["kpi"] == "approvals"].groupby("financial_year", sort=False)["mean"].sum()
    assert approvals == pytest.approx(by_agency.to_numpy())
    assert (totals["p5"] <= totals["mean"]).all() and (totals["mean"] <= totals["p95"]).all()
    # averages and shares are weighted, never summed: each replication's and year's total lies within
    # its agencies' values; the adopter gap is worked out from the totals; one with no weight is blank
    from sim.planning.market_tables import _summed, _wide
    shares = ["inhouse_share_pct", "a2_days", "roi_to_approval_days", "waiting_in_sibling_groups_pct"]
    wide = _wide(base.agency_replications, shares + ["adopter_gap", "stage1_within_2_months_pct"])
    summed = _summed(wide, shares + ["adopter_gap", "stage1_within_2_months_pct"])
    by_agency = wide.groupby(["replication", "year"])
    for name in shares:
        ok = summed[name].isna() | ((by_agency[name].min() - 1e-9 <= summed[name])
                                    & (summed[name] <= by_agency[name].max() + 1e-9))
        assert ok.all() and summed[name].notna().any(), name
    gap = 100 * (summed["adopters_waiting"] - summed["children_waiting_with_po"]) / summed["children_waiting_with_po"]
    assert np.allclose(summed["adopter_gap"], gap, equal_nan=True)
    assert summed["stage1_within_2_months_pct"].isna().all()

    campaign = ('extends = "base"\n[[change]]\nparameter = "adopters.enquiries_per_month"\n'
                'start = "2023-24"\npercent = 150.0\n')
    (tmp_path / "campaign.toml").write_text(campaign, encoding="utf-8")
    more = run_market(load_market(tmp_path / "campaign.toml"))
    plain, raised = sufficiency_by_year(base), sufficiency_by_year(more)
    assert plain["index_mean"].iloc[0] == raised["index_mean"].iloc[0] == 1.0
    assert raised["index_mean"].iloc[-1] > plain["index_mean"].iloc[-1]
    assert raised["adopters_waiting"].iloc[-1] > plain["adopters_waiting"].iloc[-1]

    from sim.planning.market_tables import VAA_INCOME, market_changes
    changes = market_changes(base, more, from_year=2).set_index("measure")
    assert changes.loc["adopters_waiting", "change_mean"] > 0
    assert changes.loc["adopters_waiting", "change_p95"] > 0
    income = base.agency_replications.query("kpi == 'interagency_income_gbp' and agency.str.startswith('VAA')")
    assert changes.loc[VAA_INCOME, "base_mean"] == pytest.approx(
        income[income["year"] >= 2].groupby("replication")["value"].sum().mean() / 2)
    with pytest.raises(ValueError, match="same seed"):
        market_changes(base, run_market(load_market(tmp_path / "base.toml"), seed=6))

    # the market drawn as one agency is: totals by year in the charts' frame, money by year
    from sim.planning import charts
    from sim.planning.market_tables import market_band_frame, market_finance_by_year
    frame = market_band_frame({"base": base, "campaign": more}, charts.GAP_KPIS)
    assert set(frame.columns) >= {"scenario", "kpi", "year", "financial_year", "mean", "p5", "p95", "label", "series"}
    assert frame.groupby(["scenario", "kpi"])["year"].apply(list).map(lambda y: y == [1, 2, 3]).all()
    waiting = frame.query("scenario == 'base' and kpi == 'adopters_waiting'")["mean"].to_numpy()
    assert waiting == pytest.approx(totals_by_year(base, ["adopters_waiting"])["mean"].to_numpy())
    assert charts.band_chart(frame, "t", "n")["layer"][0]["data"]["values"]
    # the what-if's change is marked at its year, as on one agency's charts; the base has none
    from sim.planning.market_tables import market_change_marks
    marks = market_change_marks({"base": base, "campaign": more})
    assert marks.to_dict("records") == [{"financial_year": "2023-24", "text": "changes from 2023-24"}]
    assert market_change_marks({"base": base}).empty
    assert market_change_marks({"campaign": more}).equals(marks)
    drawn = charts.band_chart(frame, "t", "n", changes=marks)["layer"]
    assert drawn[-2]["data"]["values"] == [{"financial_year": "2023-24", "text": "changes from 2023-24"}]
    money = market_finance_by_year(base).pivot(index="financial_year", columns="flow", values="mean")
    paid, to_agencies, to_vaas = (money[label] for label in ("fees paid by LAs and RAAs",
                                                             "of which to other LAs and RAAs",
                                                             "of which to VAAs (VAA income)"))
    assert (paid > 0).any()
    assert paid.to_numpy() == pytest.approx((to_agencies + to_vaas).to_numpy())  # every fee has one payer


def test_command_line_compares_a_market_what_if_with_its_base(tmp_path, capsys):
    write_market(tmp_path, AGENCIES, "years = 2\nwarm_up_years = 1\nreplications = 2\nseed = 5\n", name="base.toml")
    (tmp_path / "more.toml").write_text('extends = "base"\n[[change]]\nparameter = "adopters.enquiries_per_month"\n'
                                        'start = "2023-24"\npercent = 50.0\n', encoding="utf-8")
    assert main(["market", str(tmp_path / "more.toml"), "--against", str(tmp_path / "base.toml"),
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "Change against Toy (same seed, paired by replication)" in out and "2023-24 to 2023-24" in out
    assert "VAA income" in out and "sufficiency index" in out
    assert main(["market", str(tmp_path / "more.toml"), "--against", str(tmp_path / "nowhere.toml")]) == 2
    assert "nowhere.toml" in capsys.readouterr().err


def test_the_market_benchmark_profile_adds_the_time_up_by_module():
    from sim.run.market_bench import cp_market, profile_by_module

    shares = dict(profile_by_module(cp_market(2, years=1, warm_up_years=1), seed=1, top=50))
    assert sum(shares.values()) == pytest.approx(1.0)
    assert any(k.startswith("simpy/") for k in shares) and any(k.startswith("sim/model/") for k in shares)


def test_a_market_without_a_voluntary_agency_compares_with_itself(tmp_path, capsys):
    """No VAA: the VAAs' income is nought, not a missing column (was a KeyError traceback)."""
    path = tmp_path / "two-raas.toml"
    path.write_text('[market]\nname = "Two RAAs"\nstart_year = 2022\nyears = 1\nwarm_up_years = 1\nreplications = 2\n'
                    'seed = 5\n\n[[agency]]\nname = "A"\nregion = "East"\nkind = "raa"\n'
                    'scenario = "cambridgeshire-peterborough-2022-23"\n\n[[agency]]\nname = "B"\nregion = "East"\n'
                    'kind = "raa"\narchetype = "cambridgeshire-peterborough-2022-23"\nscale = 0.5\n', encoding="utf-8")
    assert main(["market", str(path), "--against", str(path), "--reps", "2", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "VAA income (£) £0 £0 [£0 to £0]" in " ".join(out.split())


def test_a_market_beyond_the_size_limit_is_refused_before_it_starts(capsys):
    """Markets have a cost estimate and the same limit as any run, on the command line and in the app."""
    from sim.planning.run_limits import market_refusal

    assert main(["market", "england", "--reps", "100000", "--years", "50"]) == 2
    err = capsys.readouterr().err
    assert "beyond the limit" in err and "hours" in err and "--force" in err and "Traceback" not in err
    refused = market_refusal("england", 200, 20)
    assert refused and "beyond the limit" in refused and "python -m sim market england --force" in refused
    assert market_refusal("east-of-england", 10, 5) is None
