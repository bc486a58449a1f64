"""What a finance officer or a board takes away: the Excel comparison (financial years,
rounded values, readable sheet names) and the board pack (PDF and HTML)."""

import io

import numpy as np
import openpyxl
import pytest

from sim.planning import comparison, export
from sim.planning.levers import apply_levers
from sim.run.runner import run_scenario
from tests.conftest import small


@pytest.fixture(scope="module")
def runs():
    base = small(years=3, reps=8, seed=21)
    campaign = apply_levers(base, {"campaign_pct": 40.0})
    campaign.scenario.name = "Recruitment campaign +40% from 2023-24"
    return {"Baseline": run_scenario(base), "Recruitment campaign +40% from 2023-24": run_scenario(campaign)}


@pytest.mark.parametrize("name, expected", [
    ("summary Raise recruitment by 30% (Hampshire: 50 to 65 a year)", "summary Raise recruitment by"),
    ("comparison", "comparison"),
    ("a" * 40, "a" * 31),  # one word longer than the limit: the only case cut mid-word
    ("fees [2023/24]", "fees 2023 24"),
])
def test_sheet_names_keep_whole_words(name, expected):
    assert export.sheet_name(name, set()) == expected


def test_repeated_sheet_names_are_numbered_after_whole_words():
    used: set[str] = set()
    first = export.sheet_name("parameters Raise recruitment by 30% (A)", used)
    second = export.sheet_name("parameters Raise recruitment by 30% (B)", used)
    assert first == "parameters Raise recruitment by" and second == "parameters Raise (2)"
    assert all(len(n) <= 31 for n in (first, second))


def test_excel_comparison_has_financial_years_and_rounded_values(runs):
    table = export.comparison_frame(runs, ["approvals", "a2_days", "interagency_fees_gbp"])
    assert list(dict.fromkeys(table["financial_year"])) == ["2022-23", "2023-24", "2024-25",
                                                           "average 2022-23 to 2024-25"]
    fees = table[table["kpi"] == "interagency_fees_gbp"]
    for r in fees.itertuples():  # pounds to 3 significant figures of the interval's width
        step = comparison.uncertainty_step(r.p95 - r.p5)
        assert r.mean % step == 0 and r.p5 <= r.mean <= r.p95
    days = table[table["kpi"] == "a2_days"]
    assert (days["mean"] == days["mean"].round(0)).all()
    data = export.results_excel(runs, {"comparison": table})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "contents" and "comparison" in book.sheetnames
    titles = [row[1].value for row in book["contents"].iter_rows(min_row=2)]
    assert "summary Recruitment campaign +40% from 2023-24" in titles  # the full title, beside a cut name
    assert all(len(n) <= 31 for n in book.sheetnames)
    assert "summary Recruitment campaign" in book.sheetnames


def _pdf_text_and_pages(data: bytes):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    texts, inked = [], []
    for page in pdf:
        texts.append(page.get_textpage().get_text_range())
        image = np.asarray(page.render(scale=0.5).to_pil().convert("L"))
        inked.append(float((image < 200).mean()))  # share of the page with ink on it
    return "".join(texts), inked


def test_board_pack_pdf_has_pages_and_the_apps_headline_table(runs):
    from sim.planning import board_pack

    pack = board_pack.build(runs, year=2, question="Should we fund a recruitment campaign from April 2023?")
    text, inked = _pdf_text_and_pages(board_pack.to_pdf(pack))
    assert len(inked) >= 5  # scenarios, headline table, three charts, assumptions and sources
    assert all(share > 0.002 for share in inked), inked  # no blank page
    flat = "".join(text.split())
    # the headline table is the app's, from the same function, figure for figure
    headline, changes = board_pack.headline_table(runs, 2)
    assert headline.equals(pack.headline) and changes.equals(pack.changes)
    for cell in list(headline.to_numpy().ravel()) + list(changes.to_numpy().ravel()):
        assert "".join(cell.split()) in flat, cell
    for words in ("Should we fund a recruitment campaign", "Recruitment campaign +40% from 2023-24",
                  "Assumptions", "Sources", "001_ef741affdb884314.txt"):
        assert "".join(words.split()) in flat, words
    assert "pythonmsim" not in flat  # no command names for a board
    html = board_pack.to_html(pack).decode()
    assert html.count("data:image/png;base64,") == 3 and headline.iloc[0, 0] in html
