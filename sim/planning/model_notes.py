"""What the app says about the model: README sections, and the calibration fit report of a
baseline where one has been written (``calibration/reports/NAME.md`` and ``NAME.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
REPORTS = ROOT / "calibration" / "reports"


def readme_section(title: str, readme: Path = README) -> str:
    """The text of the README section headed ``## title`` (without the heading), or ''."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    return match.group(1).strip() if match else ""


def calibration_report(name: str | None, folder: Path = REPORTS) -> dict[str, Path]:
    """The fit report files of a calibrated baseline: {'md': path, 'csv': path}, those present."""
    if not name:
        return {}
    stem = Path(name).stem
    return {ext: folder / f"{stem}.{ext}" for ext in ("md", "csv") if (folder / f"{stem}.{ext}").is_file()}
