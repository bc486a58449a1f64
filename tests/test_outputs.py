"""Outputs land where the user asked, whole, and never at the cost of something they keep.

A symbolic link is written through (the link is kept), a file name near the file system's limit
still gets its hidden temporary beside it, and a benchmark asked for JSON writes it."""

from __future__ import annotations

import json
import os

import pytest

from sim.cli import main
from sim.scenario import atomic_write
from sim.scenario.market_file import MarketError, load_market


def test_a_link_is_written_through_and_kept(tmp_path):
    target = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic_write.write_text(link, "{}")
    assert link.is_symlink() and target.read_text() == "{}"


def test_a_dangling_link_into_a_missing_folder_is_refused_before_a_run(tmp_path, capsys):
    link = tmp_path / "dangling.json"
    link.symlink_to(tmp_path / "nowhere" / "x.json")
    assert main(["run", "--years", "1", "--reps", "2", "--json", str(link)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_name_at_the_file_system_limit_is_written(tmp_path):
    path = tmp_path / ("a" * 250 + ".json")
    atomic_write.write_text(path, "{}")
    assert path.read_text() == "{}" and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_name_too_long_is_refused_before_a_run(tmp_path, capsys):
    assert main(["run", "--years", "1", "--reps", "2", "--json", str(tmp_path / ("a" * 300 + ".json"))]) == 2
    assert "too long (over 255 bytes" in capsys.readouterr().err


def test_the_market_benchmark_writes_its_json(tmp_path):
    out = tmp_path / "market.json"
    assert main(["bench", "--market", "--quick", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["quick"] and figures["markets"] and figures["markets"][0]["events_per_second"] > 0


def test_a_market_change_may_not_name_its_own_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('extends = "east-of-england"\n\n[[change]]\n_file = 42\nparameter = "adopters.enquiries_per_month"\n'
                    'start = "2023-24"\npercent = 10.0\n', encoding="utf-8")
    with pytest.raises(MarketError, match="unknown field '_file'"):
        load_market(str(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder(tmp_path):  # pragma: no cover - CI runs as root
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    assert atomic_write.output_problem(folder / "x.json", "--json")
