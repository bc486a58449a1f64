"""The command line, run as a user would run it."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _sim(*args):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=300)


def test_run_prints_year_by_year_table():
    out = _sim("run", "--years", "2", "--reps", "3")
    assert out.returncode == 0, out.stderr
    assert "2022-23" in out.stdout and "2023-24" in out.stdout
    assert "A2: order to match" in out.stdout and "90% interval" in out.stdout


def test_json_structure():
    out = _sim("run", "--years", "2", "--reps", "3", "--seed", "9", "--json", "-")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["seed"] == 9 and data["replications"] == 3 and data["years"] == ["2022-23", "2023-24"]
    for name in ("enquiries", "registrations", "approvals", "adopters_waiting", "plans_for_adoption",
                 "placement_orders", "matches", "placements", "early_permanence_placements", "adoption_orders",
                 "disruptions", "interagency_placements", "interagency_fees_gbp", "children_waiting_with_po",
                 "adopter_gap", "a1_days", "a10_days", "a2_days", "a20_days"):
        assert set(data["kpis"][name]) == {"mean", "p5", "p95"}
        assert len(data["kpis"][name]["mean"]) == 2


def test_csv_tables(tmp_path):
    out = _sim("run", "--years", "1", "--reps", "2", "--csv", str(tmp_path), "--event-log")
    assert out.returncode == 0, out.stderr
    for name in ("summary.csv", "replications.csv", "events.csv"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("args, fragment", [
    (["run", "no-such-scenario"], "no such scenario"),
    (["run", "--reps", "0"], "--reps: must be at least 1, got 0"),
    (["run", "--years", "-1"], "--years: must be at least 1"),
    (["run", "--workers", "0"], "--workers: must be at least 1"),
    (["run", "--seed", "-1"], "--seed: must be a whole number 0 or more"),
    (["run", "--event-log"], "--event-log: the event log is written with the tables; add --csv DIR"),
    (["run", "--kpis", "a2"], "unknown KPI a2"),
    (["compare", "baseline", "--years", "2", "--reps", "2", "--year", "3"], "--year: must be between 1 and 2"),
])
def test_errors_are_clear_and_without_traceback(args, fragment):
    out = _sim(*args)
    assert out.returncode == 2
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_run_never_overwrites_saved_results_without_force(tmp_path):
    saved = tmp_path / "results.json"
    saved.write_text("{}", encoding="utf-8")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "summary.csv").write_text("mine", encoding="utf-8")
    for args in (["--json", str(saved)], ["--csv", str(tmp_path / "tables")]):
        out = _sim("run", "--years", "1", "--reps", "2", *args)
        assert out.returncode == 2 and "already exists" in out.stderr and "--force" in out.stderr, out.stderr
    assert saved.read_text(encoding="utf-8") == "{}"
    assert (tmp_path / "tables" / "summary.csv").read_text(encoding="utf-8") == "mine"
    out = _sim("run", "--years", "1", "--reps", "2", "--json", str(saved), "--force")
    assert out.returncode == 0, out.stderr
    assert json.loads(saved.read_text(encoding="utf-8"))["replications"] == 2


def test_bad_file_names_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[panel]\ncases_per_panel = 2.5\n")
    out = _sim("run", str(bad))
    assert out.returncode == 2 and "bad.toml" in out.stderr and "panel.cases_per_panel" in out.stderr


def test_compare_side_by_side():
    out = _sim("compare", "baseline", "baseline", "--years", "1", "--reps", "2", "--kpis", "approvals,a2_days")
    assert out.returncode == 0, out.stderr
    assert "Approvals" in out.stdout and "A2" in out.stdout
    assert out.stdout.startswith("2022-23 (year 1, the last year simulated): mean [90% interval]")


def test_compare_shows_the_paired_change_in_the_last_year_a_short_run_reaches():
    out = _sim("compare", "baseline", "raise-recruitment-65", "--years", "3", "--reps", "4", "--kpis",
               "enquiries,approvals")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # a run that ends before the next three financial years: figures open on its last year, and say so
    assert lines[0].startswith("2024-25 (year 3, the last year simulated): mean [90% interval]; "
                               "change against baseline, paired replication by replication")
    changes = [line for line in lines if line.startswith("  change (paired)")]
    assert len(changes) == 2
    mean, lo, hi = re.search(r"([+-][\d.]+) \[([+-][\d.]+) to ([+-][\d.]+)\]", changes[0]).groups()
    assert float(lo) > 0 and float(lo) <= float(mean) <= float(hi)  # 30% more enquiries, with its interval
    # the base year runs on the baseline: no change, interval [0, 0]
    out = _sim("compare", "baseline", "raise-recruitment-65", "--years", "3", "--reps", "4", "--kpis", "enquiries",
               "--year", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("2022-23 (year 1): mean [90% interval]")
    assert "0.0 [0.0 to 0.0]" in out.stdout  # no change, and no sign on nothing


def test_compare_says_which_financial_year_each_column_is():
    out = _sim("compare", "baseline", "rotherham-2017-18", "--years", "2", "--reps", "2", "--year", "2",
               "--kpis", "approvals")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Year 2 of each run (baseline: 2023-24, rotherham-2017-18: 2018-19)")


def test_an_empty_scenario_file_is_refused_not_run_on_the_defaults(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("\n", encoding="utf-8")
    out = _sim("run", str(empty))
    assert out.returncode == 2 and "empty.toml: the file is empty" in out.stderr and "Traceback" not in out.stderr


def test_kpis_naming_nothing_are_refused_before_any_run():
    out = _sim("run", "--kpis", ",,", "--reps", "1", "--years", "1")
    assert out.returncode == 2 and "--kpis: ',,' names no KPI" in out.stderr and "Traceback" not in out.stderr


def test_bench_json_is_not_overwritten_without_force(tmp_path):
    saved = tmp_path / "bench.json"
    saved.write_text("{}", encoding="utf-8")
    out = _sim("bench", "--quick", "--json", str(saved))
    assert out.returncode == 2 and "already exists" in out.stderr and saved.read_text(encoding="utf-8") == "{}"


def _main(capsys, *args):
    """The command line in this process (for refusals, which come before any run): status and stderr."""
    from sim.cli import main

    try:
        status = main(list(args))
    except SystemExit as exit_:  # argparse's refusals
        status = exit_.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("args, fragment", [
    (["run", "--years", "50", "--reps", "10000"], "10,000 replications x 50 years (+3 warm-up) is about"),
    (["run", "--workers", "256"], "--workers: 256 is more than this machine's"),
    (["compare", "baseline", "--workers", "0"], "--workers: must be at least 1, got 0"),
    (["calibrate", "calibration/targets/rotherham-2017-18.toml", "--workers", "0"], "--workers: must be at least 1"),
    (["backtest", "calibration/targets/rotherham-2017-18.toml", "--workers", "0"], "--workers: must be at least 1"),
    (["run", "--engine", "dask", "--scheduler", "not a url"],
     "--scheduler: 'not a url' is not a Dask scheduler address; give one like tcp://host:8786"),
    (["run", "--engine", "processes", "--scheduler", "tcp://host:8786"], "a Dask scheduler is for --engine dask"),
    (["run", "--json", ""], "--json: an empty path"),
    (["run", "--csv", ""], "--csv: an empty path"),
    (["run", "--json", "no-such-folder/results.json"], "the folder no-such-folder does not exist"),
    (["run", "--json", "."], "--json .: is a folder"),
    (["run", "--csv", "README.md"], "--csv README.md: is a file, not a folder"),
    (["run", "--csv", "README.md/tables"], "README.md is a file, so no folder can be made under it"),
    (["bench", "--json", ""], "--json: an empty path"),
    (["warmup", "--reps", "10000", "--years", "50"], "warmup: 10,000 replications x 50 years (+0 warm-up) is about"),
    (["calibrate", "calibration/targets/rotherham-2017-18.toml", "--out", "README.md/x.toml"],
     "--out README.md: is a file, not a folder"),
    (["calibrate", "calibration/targets/rotherham-2017-18.toml", "--report-dir", "README.md"],
     "--report-dir README.md: is a file, not a folder"),
    (["run", "--reps", "many"], "argument --reps: invalid int value: 'many' (see python -m sim run --help)"),
])
def test_options_are_refused_before_the_run_in_one_line(capsys, monkeypatch, args, fragment):
    import sim.cli

    def no_run(*a, **k):
        raise AssertionError("the run started")

    monkeypatch.setattr(sim.cli, "run_scenario", no_run)
    status, err = _main(capsys, *args)
    assert status == 2 and fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_run_too_large_is_refused_with_its_estimate_and_runs_with_force(capsys, monkeypatch):
    import sim.cli

    ran = []

    def started(*a, **k):
        ran.append(True)
        raise KeyboardInterrupt  # stop it at once

    monkeypatch.setattr(sim.cli, "run_scenario", started)
    status, err = _main(capsys, "run", "--years", "50", "--reps", "10000", "--workers", "2")
    assert status == 2 and "minutes on 2 cores of this machine" in err and "GiB of memory" in err
    assert "beyond the limit of 10 minutes" in err and "add --force" in err and not ran
    status, err = _main(capsys, "run", "--years", "50", "--reps", "10000", "--workers", "2", "--force")
    assert ran and status == 130  # it started (and was stopped at once here)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_write_that_fails_names_the_file_and_the_error():
    out = _sim("run", "--years", "1", "--reps", "2", "--json", "/dev/full")
    assert out.returncode == 2 and out.stderr.strip() == "error: /dev/full: No space left on device", out.stderr


def test_a_csv_set_is_written_whole(tmp_path):
    out = _sim("run", "--years", "1", "--reps", "2", "--csv", str(tmp_path / "new" / "tables"), "--json",
               str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "new" / "tables").iterdir()) == ["replications.csv", "summary.csv"]
    assert (tmp_path / "r.json").is_file() and not [p for p in tmp_path.rglob(".*tmp-*")]


def test_calibrate_refuses_no_workers_from_python_too():
    from sim.calibration.command import calibrate
    from sim.calibration.fit import CalibrationError

    with pytest.raises(CalibrationError, match="--workers: must be at least 1, got 0"):
        calibrate("calibration/targets/rotherham-2017-18.toml", workers=0)


def test_printed_tables_name_days_pounds_and_percentages():
    out = _sim("run", "--years", "1", "--reps", "2", "--kpis", "a1_days,a10_days,a2_days,a20_days,interagency_fees_gbp,"
               "a3_pct,approvals")
    assert out.returncode == 0, out.stderr
    for label in ("A1: care to moving in (days)", "A10: care to moving in (foster-carer adjusted) (days)",
                  "A2: order to match (days)", "A20: care to order (days)", "Interagency fees paid (£)",
                  "A3: moved in within 14 months (%)"):
        assert label in out.stdout, label
    assert "Approvals (" not in out.stdout  # a count is a plain number of what its label says
    out = _sim("compare", "baseline", "baseline", "--years", "1", "--reps", "2", "--kpis", "a2_days")
    assert "A2: order to match (days)" in out.stdout


def test_list_shows_every_scenario_file_with_title_agency_and_years():
    from sim.scenario.files import scenario_names

    out = _sim("list")
    assert out.returncode == 0, out.stderr
    for name in scenario_names():
        assert re.search(rf"^{re.escape(name)}\b", out.stdout, re.M), name
    assert re.search(r"^cambridgeshire-peterborough-2022-23 +\[calibrated baseline; the built-in baseline\]$",
                     out.stdout, re.M)
    assert re.search(r"^rotherham-2017-18 +\[calibrated baseline\]$", out.stdout, re.M)
    assert re.search(r"^raise-recruitment-65$", out.stdout, re.M)  # a what-if is not marked
    assert "agency: Rotherham Metropolitan Borough Council Adoption Service; years: 2017-18 to 2021-22" in out.stdout
    assert "Raise recruitment by 30%" in out.stdout


def test_list_names_a_file_that_cannot_be_used(tmp_path):
    from sim.scenario.catalogue import catalogue, listing

    (tmp_path / "good.toml").write_text("extends = 'baseline'\n[scenario]\nname = 'Mine'\nyears = 2\n")
    (tmp_path / "bad.toml").write_text("[adopters]\nstage1_days = -4.0\n")
    text = listing(catalogue(tmp_path))
    assert "bad\n    cannot be used:" in text and "stage1_days" in text
    assert "good\n    Mine\n    agency: Cambridgeshire & Peterborough Adoption; years: 2022-23 to 2023-24" in text


@pytest.mark.parametrize("args", [("params",), ("list",), ("params", "--markdown")])
def test_a_closed_pipe_ends_quietly(args):
    """``python -m sim params | head``: the reader stops early; no error, status 0."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()  # as head does after its lines
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""


def test_run_and_the_app_show_the_same_horizon_reaching_the_next_three_financial_years():
    from sim.planning.budget_window import budget_years, default_horizon
    from sim.scenario.calendar import financial_year_label

    out = _sim("run", "--reps", "2", "--kpis", "approvals")
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[1].split()
    assert len(header) == default_horizon(2022, 5) and header[0] == "2022-23"
    assert header[-1] == financial_year_label(budget_years()[-1])
    sidebar = (Path(__file__).resolve().parents[1] / "sim" / "app" / "sidebar.py").read_text(encoding="utf-8")
    assert "budget_window.default_horizon(run.start_year, run.years)" in sidebar


def test_a_scenario_extending_the_built_in_baseline_runs(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "baseline"\n\n[[change]]\nparameter = "adopters.enquiries_per_month"\n'
                    'start = "2023-24"\npercent = 30.0\n')
    out = _sim("run", str(mine), "--years", "2", "--reps", "2", "--kpis", "enquiries")
    assert out.returncode == 0, out.stderr
    assert "mine (changes 'Cambridgeshire & Peterborough Adoption 2022-23 (calibrated)')" in out.stdout
    out = _sim("compare", "baseline", str(mine), "--years", "2", "--reps", "2", "--kpis", "enquiries")
    assert out.returncode == 0, out.stderr


def test_without_reps_the_run_says_how_many_replications_and_why():
    out = _sim("run", "--years", "1", "--kpis", "approvals", "--json", "-")
    assert out.returncode == 0, out.stderr
    n = json.loads(out.stdout)["replications"]
    out = _sim("run", "--years", "1", "--kpis", "approvals")
    assert f": {n} replications: enough for the 90% confidence interval of each headline figure's mean within 15%" \
        in out.stdout
    out = _sim("run", "--years", "1", "--reps", "3", "--kpis", "approvals")
    assert ": 3 replications, as asked;" in out.stdout
