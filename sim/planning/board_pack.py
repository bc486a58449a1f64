"""The board pack: one document a board member can read without the app, as PDF (to circulate)
and as HTML (for the web).  Page 1 is the summary: the question, what the board is asked to decide,
and each option's effect in plain words with its interval (:mod:`sim.planning.board_summary`);
then the scenarios (what each changes and from when), the headline table with 90% intervals,
interagency spend over the budget window, the key charts, the assumptions in plain names with
units, and the sources by report title and section.

The headline table is :func:`headline_table`, the function the app's Compare view shows, so
the pack and the screen cannot disagree.  Charts are the app's own Vega-Lite charts, drawn to
PNG by ``vl-convert`` (Vega's own renderer, without a browser); the PDF is laid out with
``fpdf2`` (pure Python, tables and images, Unicode fonts).
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from sim.planning import board_summary, charts
from sim.planning.budget_window import default_window
from sim.planning.comparison import GAP_DEFINITION, format_change, format_estimate, side_by_side, wide_table
from sim.planning.finance import spend_table, window_years
from sim.planning.model_notes import plain_text
from sim.run.runner import Results
from sim.scenario.parameters import Scenario, field_info, parameter_table

# The measures of the headline table, in a board paper's order.
HEADLINE_KPIS = ["approvals", "adopters_waiting", "children_waiting_with_po", "children_waiting_over_18_months",
                 "placements", "interagency_placements", "adoption_orders", "a10_days", "a2_days",
                 "interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp"]

# The reports the model is calibrated from (/work/shared/seeds/README.md, the list of source reports).
SEED_REPORTS = {
    "000_3308d4f1cd971e43.txt": "Cambridgeshire County Council adoption agency annual report, 2017-18",
    "001_ef741affdb884314.txt": "Cambridgeshire & Peterborough Adoption (RAA) annual report, with panel report, "
                                "budget and service plan, 2022-23",
    "002_f60beec63e9d6bc7.txt": "Rotherham Adoption Service annual report, 2017-18",
    "003_67152c9971fde174.txt": "Hampshire County Council, adoption scorecard report, November 2012",
    "004_8859f7764908eaf6.txt": "Leicestershire County Council, annual report of the adoption service, 2019-20",
}
SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
CITATION = re.compile(r"(\d{3}_[0-9a-f]{16}\.txt)((?:\s+(?:§|Appendix)\s*[\w.]+(?:\s+§[\w.]+)?)?)")

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/Library/Fonts"), Path("C:/Windows/Fonts")]


@dataclass
class BoardPack:
    """What the pack says, ready to lay out as PDF or HTML."""
    question: str
    decision: str                # what the board is asked to decide
    summary: list[str]           # page 1: each option's effect in plain words (the reference's first)
    period: str
    window: str                  # the budget window's years, '2027-28 to 2029-30'
    settings: str
    scenarios: list[dict]        # title, description, changes (sentences)
    headline: pd.DataFrame       # measure x scenario, 'mean [90% interval]'
    changes: pd.DataFrame        # measure x scenario (other than the reference), paired change
    reference: str
    spend: pd.DataFrame          # scenario x (fees paid, fees received, net spend, saving) over the window
    charts: list[tuple[str, bytes]]  # caption, PNG
    assumptions: pd.DataFrame    # parameter, value, unit, why
    sources: pd.DataFrame        # report file, report, sections cited


def headline_table(runs: dict[str, Results], year: int | None, reference: str | None = None,
                   kpis: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The headline table (measure x scenario, mean [90% interval]) and the paired change of each
    scenario against ``reference``: what the app's Compare view shows, from the same functions."""
    side = side_by_side(runs, kpis or HEADLINE_KPIS, year, reference)
    reference = reference or next(iter(runs))
    others = side[side["scenario"] != reference]
    changes = others.assign(cell=[format_change(r.change, r.change_p5, r.change_p95, r.unit)
                                  for r in others.itertuples()])
    changes = changes.pivot(index="label", columns="scenario", values="cell") if len(changes) else pd.DataFrame()
    if len(changes):
        changes = changes.loc[list(dict.fromkeys(others["label"])), [n for n in runs if n != reference]]
        changes.index.name, changes.columns.name = "measure", None
    return wide_table(side), changes


def what_changes(scenario: Scenario, reference: Scenario) -> list[str]:
    """The dated changes that set ``scenario`` apart from ``reference``, one sentence each, with
    their dates ('from 2023-24: adopters.enquiries_per_month +30%')."""
    own = [c for c in scenario.change if c not in reference.change]
    if not own:
        return ["No dated change: the scenario runs as it is." if scenario.change == reference.change
                else "Runs without the reference's dated changes."]
    return [f"{field_meaning(c.parameter)}: {c.describe().removeprefix(c.parameter).strip()}"
            + (f" ({by_title(c.note)})" if c.note else "") for c in own]


def field_meaning(parameter: str) -> str:
    """What a parameter ('adopters.enquiries_per_month') means, in the words of its definition."""
    section, _, name = parameter.partition(".")
    return field_info(section, name)["meaning"].rstrip(".")


def by_title(text: str) -> str:
    """``text`` with each report cited by file name ('001_....txt §4.2') cited by its title instead."""
    return CITATION.sub(lambda m: SEED_REPORTS.get(m.group(1), "an annual report") + m.group(2), text)


def assumptions_table(scenario: Scenario) -> pd.DataFrame:
    """The parameters whose value is an assumption (no report gives it), in plain names with their
    unit, and the reason."""
    rows = [{"assumption": r["meaning"].rstrip("."),
             "value": "its steady level" if r["value"] is None else f"{r['value']:g} {r['unit']}"
             if isinstance(r["value"], (int, float)) else f"{r['value']} {r['unit']}",
             "why": by_title(re.sub(r"^assumption:?\s*", "", r["source"])) or "no report gives it"}
            for r in parameter_table(scenario)
            if r["section"] != "scenario" and str(r["source"]).lower().startswith("assumption")]
    return pd.DataFrame(rows, columns=["assumption", "value", "why"])


def sources_table(scenarios: list[Scenario]) -> pd.DataFrame:
    """The source reports the scenarios' figures cite, by title, with the sections cited."""
    cited: dict[str, set[str]] = {}
    for scenario in scenarios:
        texts = [str(r["source"]) for r in parameter_table(scenario)]
        texts += [scenario.scenario.description] + [c.note for c in scenario.change]
        for text in texts:
            for file, section in CITATION.findall(text):
                cited.setdefault(file, set())
                if section.strip():
                    cited[file].add(section.strip())
    rows = [{"report": SEED_REPORTS.get(f, "an annual report"), "sections cited": ", ".join(sorted(cited[f]))}
            for f in sorted(cited)]
    return pd.DataFrame(rows, columns=["report", "sections cited"])


def spend_over_window(runs: dict[str, Results], reference: str, window: list[int]) -> pd.DataFrame:
    """Each scenario's interagency spend totalled over the ``window`` years, mean [90% interval], and
    its net saving against ``reference`` (paired): the finance view's totals, from the same function."""
    base = runs[reference]
    rows = []
    for name, results in runs.items():
        table = spend_table(base, results, window)
        total = table.groupby("measure", sort=False).tail(1).set_index("measure")  # the total (or the one year)
        cell = {m: format_estimate(total.loc[m, "scenario_gbp"], total.loc[m, "scenario_p5"],
                                   total.loc[m, "scenario_p95"], "£") for m in ("fees paid", "fees received", "net spend")}
        net = total.loc["net spend"]
        saving = "–" if name == reference else format_estimate(net["saving_gbp"], net["saving_p5"], net["saving_p95"],
                                                                 "£", signed=True)
        rows.append({"scenario": name, **cell, f"net saving against {reference}": saving})
    return pd.DataFrame(rows)


def chart_images(runs: dict[str, Results], width: int = 760) -> list[tuple[str, bytes]]:
    """The key charts as PNG: the adopter gap, the scorecard waits, cumulative net spend; panels
    drawn wide enough to read on a page."""
    import vl_convert

    def panels(spec: dict) -> dict:
        return {**spec, "spec": {**spec["spec"], "width": width // 2 - 60}}

    out = []
    for caption, chart in (
            ("Adopters waiting and children waiting at 31 March (mean, and 90% interval as a band)",
             panels(charts.gap_chart(runs))),
            ("Children's waits (A10, A2) against the scorecard thresholds", panels(charts.waits_chart(runs))),
            ("Net interagency spend, cumulative", {**charts.spend_chart(runs, cumulative=True), "width": width})):
        out.append((caption, vl_convert.vegalite_to_png(json.dumps(chart), scale=2)))
    return out


def build(runs: dict[str, Results], year: int | None, reference: str | None = None, question: str | None = None,
          kpis: list[str] | None = None, with_charts: bool = True, window: list[int] | None = None) -> BoardPack:
    """Everything the pack says, for scenarios run with the same settings: figures for ``year``
    (1 = the base year; None: the average over the horizon), changes against ``reference`` (the
    first if not given), the measures ``kpis`` (default :data:`HEADLINE_KPIS`), and spend over the
    ``window`` years (default: the next three financial years the runs reach)."""
    names = list(runs)
    reference = reference or names[0]
    first = runs[reference]
    window = window or window_years(first, *default_window(list(first.years)))
    period = first.years[year - 1] if year else f"the average over {first.years[0]} to {first.years[-1]}"
    others = [n for n in names if n != reference]
    question = question or (f"What would {', '.join(others) or reference} change against {reference}, in {period}?")
    ref_scenario = first.scenario
    scenarios = [{"title": name, "description": plain_text(by_title(runs[name].scenario.scenario.description)),
                  "changes": (["The reference: the others are measured against it."]
                              if name == reference else what_changes(runs[name].scenario, ref_scenario))}
                 for name in names]
    headline, changes = headline_table(runs, year, reference, kpis)
    run = first.scenario.scenario
    settings = (f"{len(first.replications['replication'].unique())} replications × {len(first.years)} financial years "
                f"({first.years[0]} to {first.years[-1]}), seed {run.seed}; figures for {period}. Built "
                f"{date.today():%d %B %Y}.")
    summary = [board_summary.reference_sentence(runs, reference, year, window),
               *board_summary.option_sentences(runs, reference, year, window)]
    return BoardPack(question=question, decision=board_summary.decision(runs, reference), summary=summary,
                     period=period, window=board_summary.window_label(first, window), settings=settings,
                     scenarios=scenarios, headline=headline, changes=changes, reference=reference,
                     spend=spend_over_window(runs, reference, window),
                     charts=chart_images(runs) if with_charts else [], assumptions=assumptions_table(ref_scenario),
                     sources=sources_table([r.scenario for r in runs.values()]))


READING = ("Each figure is the mean over the replications (simulated futures) with its 90% interval: in 90 of 100 "
           "simulated futures the figure falls in the bracket. Changes are paired: each simulated future of a scenario "
           "is compared with the same future of the reference, so the interval shows the effect of the change, not "
           "chance. Pounds are rounded to what the interval supports.")


# --------------------------------------------------------------------------- PDF
#: A chart's height on the page (mm): two fit on an A4 landscape page with their captions.
CHART_HEIGHT_MM = 80.0


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _latin1(text: str) -> str:
    """Text for the PDF's built-in font where no Unicode font is installed."""
    for a, b in (("−", "-"), ("–", "-"), ("—", "-"), ("…", "..."), ("’", "'"), ("“", '"'), ("”", '"'),
                 ("→", "->"), ("≤", "<="), ("≥", ">=")):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(pack: BoardPack) -> bytes:
    """The pack as an A4 landscape PDF."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    fonts = _font_files()
    if fonts:
        pdf.add_font("body", "", str(fonts[0]))
        pdf.add_font("body", "B", str(fonts[1]))
        family, clean = "body", str
    else:
        family, clean = "helvetica", _latin1
    pdf.set_title(clean(pack.question))

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.55, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    def para(text: str, size: int = 10) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, size * 0.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    def table(frame: pd.DataFrame, widths: tuple | None = None, size: int = 8) -> None:
        pdf.set_font(family, "", size)
        with pdf.table(col_widths=widths, line_height=size * 0.5, text_align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=(225, 230, 240))) as t:
            row = t.row()
            for column in frame.columns:
                row.cell(clean(str(column)))
            for values in frame.itertuples(index=False):
                row = t.row()
                for value in values:
                    row.cell(clean(str(value)))
        pdf.ln(3)

    def bullet(text: str, size: int = 10) -> None:
        pdf.set_font(family, "", size)
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(0, size * 0.5, clean("• " + text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    def room_for(height: float) -> None:
        """A new page only when what follows would not fit on this one."""
        if pdf.get_y() + height > pdf.h - pdf.b_margin:
            pdf.add_page()

    pdf.add_page()  # page 1: the summary a board decides on
    heading("Board paper: adoption pipeline scenarios", 16)
    heading(pack.question, 13)
    para(pack.decision, 11)
    heading("Summary", 12)
    for sentence in pack.summary:
        bullet(sentence)
    para(READING, 9)
    para(pack.settings, 8)
    pdf.add_page()
    heading("The options")
    for s in pack.scenarios:
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(0, 5, clean(s["title"]), new_x="LMARGIN", new_y="NEXT")
        para("; ".join(s["changes"]), 9)
        if s["description"]:
            para(s["description"], 8)
    room_for(60)
    heading(f"Headline figures, {pack.period}")
    n = len(pack.headline.columns)
    table(pack.headline.reset_index(), (70,) + (207 / n,) * n)
    para(GAP_DEFINITION, 8)
    if len(pack.changes):
        room_for(40)
        heading(f"Change against {pack.reference} (paired, mean [90% interval])", 11)
        m = len(pack.changes.columns)
        table(pack.changes.reset_index(), (70,) + (207 / m,) * m)
    room_for(40)
    heading(f"Interagency spend, {pack.window} in total (mean [90% interval])", 11)
    k = len(pack.spend.columns)
    table(pack.spend, (70,) + (207 / (k - 1),) * (k - 1))
    room_for(50)
    heading("Assumptions")
    para("Values no report gives; each states why it was chosen. Every other value comes from a report (below) or "
         "was fitted to the agency's annual report.", 9)
    table(pack.assumptions, (95, 40, 142))
    room_for(30)
    heading("Sources")
    table(pack.sources, (150, 127))
    for caption, png in pack.charts:
        width, height = _png_size(png)
        w = min(260.0, CHART_HEIGHT_MM * width / height)  # two charts to a page
        room_for(w * height / width + 12)
        heading(caption, 11)
        pdf.image(png, w=w)
        pdf.ln(3)
    return bytes(pdf.output())


# --------------------------------------------------------------------------- HTML
def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="figures", escape=True)


def to_html(pack: BoardPack) -> bytes:
    """The pack as one self-contained HTML page (charts inline), for the web."""
    e = html.escape
    parts = [f"<h1>Board paper: adoption pipeline scenarios</h1><h2>{e(pack.question)}</h2>",
             f"<p><strong>{e(pack.decision)}</strong></p>", "<h2>Summary</h2>",
             "<ul>" + "".join(f"<li>{e(x)}</li>" for x in pack.summary) + "</ul>",
             f"<p class='small'>{e(READING)}</p>", f"<p class='small'>{e(pack.settings)}</p>", "<h2>The options</h2>"]
    for s in pack.scenarios:
        items = "".join(f"<li>{e(c)}</li>" for c in s["changes"])
        parts.append(f"<h3>{e(s['title'])}</h3><ul>{items}</ul>"
                     + (f"<p class='small'>{e(s['description'])}</p>" if s["description"] else ""))
    parts += [f"<h2>Headline figures, {e(pack.period)}</h2>",
              _html_table(pack.headline.reset_index()), f"<p class='small'>{e(GAP_DEFINITION)}</p>"]
    if len(pack.changes):
        parts += [f"<h2>Change against {e(pack.reference)} (paired, mean [90% interval])</h2>",
                  _html_table(pack.changes.reset_index())]
    parts += [f"<h2>Interagency spend, {e(pack.window)} in total (mean [90% interval])</h2>", _html_table(pack.spend)]
    for caption, png in pack.charts:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt='{e(caption)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{e(caption)}</figcaption></figure>")
    parts += ["<h2>Assumptions</h2>", _html_table(pack.assumptions), "<h2>Sources</h2>", _html_table(pack.sources)]
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
             "table.figures{border-collapse:collapse;margin:1rem 0}table.figures td,table.figures th{padding:.3rem "
             ".6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}img{max-width:100%}"
             ".small{font-size:.85rem;color:#555}")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(pack.question)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    return page.encode("utf-8")
