"""What the app says about the model: a summary for a board member, the docs' technical
pages (``docs/``), and the calibration fit report of a baseline where one has been written
(``calibration/reports/NAME.md`` and ``NAME.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REPORTS = ROOT / "calibration" / "reports"


FOR_A_BOARD = """\
**What the model is.** A simulation of one adoption agency's year-by-year work: adopters who
enquire, are assessed and approved; children who come into care, get a plan for adoption and a
placement order, are matched with a family — the agency's own adopters first, another agency's
(an *interagency* placement, which costs a fee) when none is found in time — and are adopted.
Each household and each child is followed through these steps, with the delays and drop-outs the
agency's annual report records.

**Where the figures come from.** The built-in baseline is fitted to Cambridgeshire & Peterborough
Adoption's annual report for 2022-23: run over that year, the model gives back the report's
enquiries, approvals, placements, waiting children and times, each within its margin (the fit
report, under Downloads, shows each figure against the report). Values no report gives are
assumptions, each with its reason, in the table of parameters below.

**How to read a figure.** The future is uncertain, so the model runs the same years many times
(replications, here called simulated futures). Each figure is the average over them with a 90%
interval: in 90 of 100 simulated futures the figure falls in the bracket. A scenario and its
baseline are run on the same simulated futures, so the change between them (with its own
interval) is the effect of the change, not chance. Money is rounded to what that uncertainty
supports.

**What a scenario is.** The baseline plus changes that start on a date — say 30% more enquiries
from April 2025. Years before a change are the baseline's, figure for figure; after it, effects
show with the pipeline's delays (an enquiry takes a year or more to become an approval).

**What it leaves out.** Panel business other than approvals and matches; the cost of staff and
of in-house placements (only interagency fees are costed); changes in national policy not set
as a scenario. A projection with no change continues the agency's own recent trend and no more.
"""


def doc_page(name: str, docs: Path = DOCS) -> str:
    """The text of the docs page ``name`` ('background/model') without its title, or ''."""
    try:
        text = (docs / f"{name}.md").read_text(encoding="utf-8")
    except OSError:
        return ""
    return re.sub(r"\A# .*\n", "", text).strip()


def calibration_report(name: str | None, folder: Path = REPORTS) -> dict[str, Path]:
    """The fit report files of a calibrated baseline: {'md': path, 'csv': path}, those present."""
    if not name:
        return {}
    stem = Path(name).stem
    return {ext: folder / f"{stem}.{ext}" for ext in ("md", "csv") if (folder / f"{stem}.{ext}").is_file()}


COMMAND = re.compile(r",?\s*(?:with|by|see|run)?\s*`?python -m sim [a-z]+[^`;,.)]*`?", flags=re.I)


def plain_text(text: str) -> str:
    """Text for a planner or a board, without the command names written for analysts:
    'Calibrated to ... with python -m sim calibrate; year 1 is 2022-23' loses 'with python -m
    sim calibrate'."""
    return re.sub(r"\(\s*;?\s*\)", "", re.sub(r"\(([^()]*?);\s*\)", r"(\1)", COMMAND.sub("", text or ""))).strip()
