"""The library's lists as a reader sees them: one row per saved scenario or comparison, with who
saved it, when, and what it is."""

from __future__ import annotations

import pandas as pd


def scenario_rows(saved) -> pd.DataFrame:
    """Saved scenarios (:class:`sim.library.store.SavedScenario`): id, title, who, when, what it extends, note."""
    return pd.DataFrame([{"id": s.id, "title": s.title, "saved by": s.author or "-",
                          "last changed": f"{s.updated_at:%Y-%m-%d %H:%M}", "extends": s.base or "-",
                          "note": s.note or ""} for s in saved],
                        columns=["id", "title", "saved by", "last changed", "extends", "note"])


def comparison_rows(saved, titles: dict[int, str]) -> pd.DataFrame:
    """Saved comparisons: id, title, who, when, its scenarios by title (the reference first marked),
    the year and the question, and the link that opens it."""
    rows = []
    for c in saved:
        names = [titles.get(i, f"scenario {i}") + (" (reference)" if i == c.reference_id else "")
                 for i in c.scenario_ids]
        rows.append({"id": c.id, "title": c.title, "saved by": c.author or "-",
                     "saved": f"{c.created_at:%Y-%m-%d %H:%M}", "scenarios": "; ".join(names),
                     "figures for": "the horizon" if c.year is None else f"year {c.year}",
                     "question": c.question or "", "link": f"?comparison={c.id}"})
    return pd.DataFrame(rows, columns=["id", "title", "saved by", "saved", "scenarios", "figures for", "question",
                                       "link"])
