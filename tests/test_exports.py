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


def _pdf_pages(data: bytes) -> list[tuple[str, float]]:
    """Each page's text and how full it is: the share of the page's height down to its lowest ink."""
    import pypdfium2 as pdfium

    pages = []
    for page in pdfium.PdfDocument(data):
        image = np.asarray(page.render(scale=0.5).to_pil().convert("L"))
        rows = np.flatnonzero((image < 200).any(axis=1))
        pages.append((page.get_textpage().get_text_range(), float(rows[-1] + 1) / len(image) if len(rows) else 0.0))
    return pages


@pytest.fixture(scope="module")
def four():
    """Four scenarios, as a board compares them."""
    base = small(years=3, reps=8, seed=21)
    out = {"Baseline": run_scenario(base)}
    for pct in (20.0, 40.0, 60.0):
        s = apply_levers(base, {"campaign_pct": pct})
        out[f"Campaign +{pct:.0f}%"] = run_scenario(s)
    return out


def test_board_paper_summary_first_every_scenario_and_no_near_empty_page(four):
    from sim.planning import board_pack

    pack = board_pack.build(four, year=3, question="Which recruitment campaign should we fund?", window=[2, 3])
    pages = _pdf_pages(board_pack.to_pdf(pack))
    assert all(fill >= 0.2 for _, fill in pages), [round(f, 2) for _, f in pages]  # none under a fifth full
    first = "".join(pages[0][0].split())
    for words in ("Which recruitment campaign should we fund?", "The board is asked to decide", "Summary",
                  "children waiting with a placement order", "net interagency spend over 2023-24 to 2024-25"):
        assert "".join(words.split()) in first, words
    for name in four:  # every compared scenario on page 1, and in the tables
        assert "".join(name.split()) in first, name
        assert name in pack.headline.columns and name in list(pack.spend["scenario"])
    flat = "".join("".join(text for text, _ in pages).split())
    assert "_" not in "".join(pack.assumptions["assumption"])  # plain names, not parameter codes
    assert not board_pack.SEED_FILE.search(flat)  # sources by report title, never by file name


def test_page_one_agrees_with_the_tables(four):
    """Each option's sentence on page 1 quotes the same paired change as the tables, and the spend
    table's saving is the finance view's, from the same function."""
    from sim.planning import board_pack, finance

    pack = board_pack.build(four, year=3, window=[2, 3], with_charts=False)
    for name, sentence in zip(list(four)[1:], pack.summary[1:]):
        row = comparison.change(four["Baseline"], four[name], "children_waiting_with_po", 3)
        low, high = sorted((abs(row["change_p5"]), abs(row["change_p95"])))
        number = comparison.format_estimate(abs(row["change"]), low, high, "children")
        assert number in sentence or "about the same" in sentence, (number, sentence)
        total = finance.spend_table(four["Baseline"], four[name], [2, 3])
        net = total[total["measure"] == "net spend"].iloc[-1]
        saving = comparison.format_estimate(net["saving_gbp"], net["saving_p5"], net["saving_p95"], "£", signed=True)
        assert pack.spend.set_index("scenario").loc[name, "net saving against Baseline"] == saving


def test_board_pack_pdf_has_pages_and_the_apps_headline_table(runs):
    from sim.planning import board_pack

    pack = board_pack.build(runs, year=2, question="Should we fund a recruitment campaign from April 2023?")
    pages = _pdf_pages(board_pack.to_pdf(pack))
    text = "".join(t for t, _ in pages)
    flat = "".join(text.split())
    # the headline table is the app's, from the same function, figure for figure
    headline, changes = board_pack.headline_table(runs, 2)
    assert headline.equals(pack.headline) and changes.equals(pack.changes)
    for cell in list(headline.to_numpy().ravel()) + list(changes.to_numpy().ravel()):
        assert "".join(cell.split()) in flat, cell
    for words in ("Should we fund a recruitment campaign", "Recruitment campaign +40% from 2023-24",
                  "Assumptions", "Sources", "Cambridgeshire & Peterborough Adoption (RAA) annual report"):
        assert "".join(words.split()) in flat, words
    assert "pythonmsim" not in flat  # no command names for a board
    html = board_pack.to_html(pack).decode()
    assert html.count("data:image/png;base64,") == 3 and headline.iloc[0, 0] in html
