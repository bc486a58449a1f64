"""The recorded validation on figures the fit never saw: it covers every targets file, meets the
aim for intervals, and is what the docs (background/validation.md) show.

The record is made by hand (it fits every seed agency several times; see docs/background/validation.md, "Leave
figures out"); this test keeps a model change that makes it worse, or a validation page that no longer
shows it, from passing unnoticed."""

from pathlib import Path

import pandas as pd

from sim.calibration.back_test import LEAVE_OUT_AIM, LEAVE_OUT_RECORD, leave_out_markdown
from sim.calibration.targets import load_targets

ROOT = Path(__file__).resolve().parents[1]


def record() -> pd.DataFrame:
    return pd.read_csv(LEAVE_OUT_RECORD)


def test_every_agency_targets_file_is_in_the_leave_out_record():
    """Every agency's figures are validated by leaving some out.  England's (a national file) are
    not: its fit pools no other agency's evidence to predict with, and it is checked instead by
    its fit report and by the England market against the national totals (docs/guides/markets.md)."""
    agencies = set(record()["agency"])
    for path in sorted((ROOT / "calibration" / "targets").glob("*.toml")):
        ts = load_targets(path)
        if ts.level == "agency":
            assert ts.name in agencies, f"{path.name}: not in {LEAVE_OUT_RECORD.name}; rerun the record"


def test_held_out_figures_fall_inside_their_intervals_as_often_as_the_aim():
    table = record()
    inside = table["inside"].astype(bool).mean()
    assert inside >= LEAVE_OUT_AIM, f"{inside:.0%} of held-out figures inside their 90% interval, aim {LEAVE_OUT_AIM:.0%}"


def test_the_docs_show_the_record():
    text = (ROOT / "docs" / "background" / "validation.md").read_text(encoding="utf-8")
    shown = text.split("<!-- leave-out:start -->\n", 1)[1].split("\n<!-- leave-out:end -->", 1)[0]
    assert shown == leave_out_markdown(record())
