"""The scenario library: what one planner saves the next one finds, with the same figures; a
database that is not this project's is refused and left as it was; concurrent saves all land.

Run on SQLite always and on PostgreSQL (a server the tests start, or ``ADOPTION_TEST_POSTGRES``):
the same tests, on both (tests/postgres_server.py)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sim.library.database import LibraryError, open_engine
from sim.library.store import Library, content_of
from sim.run.runner import run_scenario
from sim.scenario.files import load_scenario
from tests.conftest import small


@pytest.fixture
def library(library_url):
    return Library(library_url)


def test_a_saved_scenario_comes_back_as_it_was_saved(library):
    scenario = load_scenario("raise-recruitment-65")
    sid = library.save_scenario(scenario, "Recruit 65 a year", author="A. Planner", note="Board, May",
                                base="Cambridgeshire & Peterborough Adoption 2022-23 (calibrated)")
    saved = library.scenario(sid)
    assert (saved.title, saved.author, saved.note) == ("Recruit 65 a year", "A. Planner", "Board, May")
    assert saved.scenario() == scenario and saved.content == content_of(scenario)
    library.rename(sid, "Recruit 65 a year (revised)")
    assert library.scenario(sid).scenario() == scenario  # renaming never touches the scenario
    assert [s.title for s in library.scenarios()] == ["Recruit 65 a year (revised)"]


def test_a_run_s_results_come_back_figure_for_figure(library):
    s = small(years=2, reps=3, seed=9)
    run = run_scenario(s)
    first = library.save_results(run)
    assert library.save_results(run) == first  # kept once
    found = library.results_for(s, 3, 2)
    assert found.current and found.id == first and found.run.summary[["mean", "p5", "p95"]].round(9).equals(run.summary[["mean", "p5", "p95"]].round(9))
    assert library.result(first).run.replications.equals(found.run.replications)
    assert library.results_for(s, 4, 2) is None  # another count: not this run


def test_a_comparison_keeps_its_scenarios_in_order_and_protects_them(library):
    a = library.save_scenario(load_scenario(), "Baseline")
    b = library.save_scenario(load_scenario("sibling-campaign"), "Siblings")
    cid = library.save_comparison("Options for May", [b, a], reference_id=a, years=5, year=5,
                                  window="2027-28 to 2029-30", question="Which should we fund?")
    saved = library.comparison(cid)
    assert saved.scenario_ids == (b, a) and saved.reference_id == a and saved.question == "Which should we fund?"
    with pytest.raises(LibraryError, match="used by a saved comparison"):
        library.delete_scenario(a)
    library.delete_comparison(cid)
    library.delete_scenario(a)
    with pytest.raises(LibraryError, match="no saved scenario"):
        library.scenario(a)


def test_bad_requests_are_refused_saying_what_is_allowed(library):
    with pytest.raises(LibraryError, match="a title is needed"):
        library.save_scenario(load_scenario(), "   ")
    with pytest.raises(LibraryError, match="at most 300"):
        library.save_scenario(load_scenario(), "x" * 301)
    with pytest.raises(LibraryError, match="no saved scenario 99; nothing of that kind is saved yet"):
        library.scenario(99)
    with pytest.raises(LibraryError, match="save the scenarios first"):
        library.save_comparison("x", [1, 2], reference_id=1, years=5)


def test_a_database_that_is_not_this_library_is_refused_and_left_as_it_was(tmp_path):
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("create table accounts(id integer)")
    before = other.read_bytes()
    with pytest.raises(LibraryError, match="not a library of this program; it was left as it was"):
        open_engine(f"sqlite:///{other}")
    assert other.read_bytes() == before
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all " * 100)
    with pytest.raises(LibraryError, match="not a database this program can open"):
        open_engine(f"sqlite:///{junk}")
    assert junk.read_bytes() == b"not a database at all " * 100
    with pytest.raises(LibraryError, match="is not a database URL"):
        open_engine("no such thing")


def test_two_sessions_saving_and_deleting_at_once_lose_nothing(library_url):
    url = library_url
    Library(url)  # made once, as the server does
    errors = []

    def planner(k: int) -> None:
        try:
            mine = Library(url)
            for i in range(8):
                sid = mine.save_scenario(load_scenario(), f"Planner {k} option {i}")
                if i % 2:
                    mine.delete_scenario(sid)
        except Exception as exc:  # pragma: no cover - a failure is the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=planner, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    titles = sorted(s.title for s in Library(url).scenarios())
    assert titles == sorted(f"Planner {k} option {i}" for k in range(2) for i in range(0, 8, 2))


def test_a_comparison_keeps_the_figures_it_showed_and_says_when_an_older_model_made_them(library, monkeypatch):
    import sim.library.store as store

    a = library.save_scenario(load_scenario(), "Baseline")
    runs = [run_scenario(small(years=2, reps=3, seed=s)) for s in (1, 2)]
    monkeypatch.setattr(store, "model_version", lambda: "0.2.0")  # made by an older model
    old = [library.save_results(r) for r in runs]
    monkeypatch.undo()
    b = library.save_scenario(load_scenario("sibling-campaign"), "Siblings")
    cid = library.save_comparison("Options", [a, b], reference_id=a, years=2, result_ids=old)
    kept = library.comparison_results(cid)
    assert [k.id for k in kept] == old and not any(k.current for k in kept)
    assert kept[1].run.replications.equals(library.result(old[1]).run.replications)
    assert library.results_for(runs[0].scenario, 3, 2) is None  # not by this model...
    assert library.results_for(runs[0].scenario, 3, 2, any_version=True).model_version == "0.2.0"  # ...but kept
    new = [library.save_results(r) for r in runs]  # rerun with this model
    library.renew_results(cid, new)
    assert [k.current for k in library.comparison_results(cid)] == [True, True]
    assert library.result(old[0]).model_version == "0.2.0"  # the older run is kept
    with pytest.raises(LibraryError, match="2 scenarios; 1 results were given"):
        library.renew_results(cid, new[:1])


def test_the_command_line_saves_lists_exports_and_imports(tmp_path, capsys, monkeypatch):
    from sim.cli import main

    monkeypatch.setenv("ADOPTION_LIBRARY", f"sqlite:///{tmp_path}/cli.sqlite3")
    assert main(["library", "save", "raise-recruitment-65", "--author", "A. Planner", "--note", "for May"]) == 0
    assert main(["library", "list"]) == 0
    out = capsys.readouterr().out
    assert "saved as scenario 1" in out and "Raise recruitment by 30%" in out and "A. Planner" in out
    exported = tmp_path / "recruit.toml"
    assert main(["library", "export", "1", "--out", str(exported)]) == 0
    assert main(["library", "export", "1", "--out", str(exported)]) == 2  # never overwritten unasked
    assert "the file exists" in capsys.readouterr().err
    assert main(["library", "import", str(exported), "--title", "Recruit 65 (copy)"]) == 0
    copy = Library(f"sqlite:///{tmp_path}/cli.sqlite3").scenario(2)
    assert copy.scenario() == load_scenario("raise-recruitment-65") and copy.title == "Recruit 65 (copy)"
    assert main(["library", "show", "7"]) == 2
    assert "no saved scenario 7; the saved ids are 1, 2" in capsys.readouterr().err


def test_a_saved_comparison_s_board_paper_from_the_command_line_shows_the_saved_figures(tmp_path, capsys, monkeypatch):
    import sim.library.store as store
    from sim.cli import main
    from sim.planning import board_pack
    from sim.planning.report_table import TABLE_KPIS

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("ADOPTION_LIBRARY", url)
    library = Library(url)
    runs = {"Baseline": run_scenario(small(years=3, reps=4, seed=5)),
            "Sooner": run_scenario(small(years=3, reps=4, seed=5, adopters={"stage1_days": 40}))}
    ids = [library.save_scenario(r.scenario, name) for name, r in runs.items()]
    monkeypatch.setattr(store, "model_version", lambda: "0.2.0")
    kept = [library.save_results(r) for r in runs.values()]
    monkeypatch.undo()
    monkeypatch.setenv("ADOPTION_LIBRARY", url)
    cid = library.save_comparison("Options", ids, ids[0], years=3, year=3, replications=4, result_ids=kept,
                                  question="Sooner or not?", window="2023-24 to 2024-25")
    paper = tmp_path / "paper.html"
    assert main(["library", "paper", str(cid), "--out", str(paper)]) == 0
    said = capsys.readouterr().out
    assert "'Sooner': figures as saved, made by model 0.2.0" in said and f"wrote {paper}" in said
    expected = board_pack.to_html(board_pack.build(runs, 3, "Baseline", "Sooner or not?", kpis=TABLE_KPIS,
                                                   window=[2, 3]))
    assert paper.read_bytes() == expected  # the saved figures, as the app's paper shows them
    assert main(["library", "paper", str(cid), "--out", str(paper)]) == 2  # never overwritten unasked
    assert main(["library", "paper", str(cid), "--out", str(tmp_path / "paper.docx")]) == 2
    assert "a board paper is written as .pdf or .html" in capsys.readouterr().err
    assert main(["library", "paper", str(cid), "--out", str(paper), "--force", "--rerun"]) == 0
    assert "run afresh with model" in capsys.readouterr().out
    assert all(r.current for r in library.comparison_results(cid))
    assert paper.read_bytes() == expected  # this model, the same seed and count: the same figures


def test_a_comparison_run_to_precision_is_rerun_by_the_app_s_pairing_rule(tmp_path):
    """The reference runs to the stated precision; every other scenario to the same precision with
    at least the reference's count (the app's Compare rule), not merely the reference's count."""
    from sim.library.comparison_runs import comparison_runs
    from sim.run.replications import at_least, run_to_precision

    library = Library(f"sqlite:///{tmp_path}/precision.sqlite3")
    steady = small(years=2, seed=3)
    noisy = small(years=2, seed=3, adopters={"enquiries_per_month": 3.0})  # few placements: wide intervals
    ids = [library.save_scenario(steady, "Steady"), library.save_scenario(noisy, "Few enquiries")]
    cid = library.save_comparison("Precision", ids, ids[0], years=2)
    runs, notes = comparison_runs(library, cid)
    reference = run_to_precision(steady, years=2, share_history=True)
    paired = run_to_precision(noisy, at_least(reference.scenario.scenario.replications), years=2, share_history=True)
    assert runs["Steady"].scenario.scenario.replications == reference.scenario.scenario.replications
    assert runs["Few enquiries"].scenario.scenario.replications == paired.scenario.scenario.replications
    assert paired.scenario.scenario.replications > reference.scenario.scenario.replications  # needs more than its pairs
    assert runs["Few enquiries"].to_json_dict() == paired.to_json_dict()
    assert len(notes) == 2 and all("run afresh" in note for note in notes)
