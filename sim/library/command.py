"""``python -m sim library``: the scenario library from the command line, so that a planner can
script saves, and a saved comparison's board paper is made without the browser, from the figures
the comparison keeps.

    python -m sim library list
    python -m sim library save scenarios/raise-recruitment-65.toml --title "Recruit 65 a year" --author "A. Planner"
    python -m sim library show 3
    python -m sim library export 3 --out recruit-65.toml
    python -m sim library import recruit-65.toml --title "Recruit 65 (from Anyshire)"
    python -m sim library paper 2 --out board-paper.pdf

``--library URL`` (default ``$ADOPTION_LIBRARY``, else the project's SQLite file) chooses the library."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.library.comparison_runs import comparison_runs
from sim.library.store import Library
from sim.planning import board_pack, finance
from sim.planning.report_table import TABLE_KPIS
from sim.scenario import atomic_write
from sim.scenario.bounded_read import InputFileError, read_input_text
from sim.scenario.files import ScenarioError, load_scenario


def add_parser(sub) -> None:
    """The ``library`` command and its actions, on the command line's subparsers."""
    lib = sub.add_parser("library", help="the scenario library: list, show, save, export or import saved scenarios")
    lib.add_argument("--library", metavar="URL", help="the library's database (default: $ADOPTION_LIBRARY, else "
                                                      "library/adoption-library.sqlite3)")
    actions = lib.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="saved scenarios and comparisons, the newest first")
    show = actions.add_parser("show", help="one saved scenario: who saved it, when, its note and its file")
    show.add_argument("id", type=int)
    for name, what in (("save", "save a scenario file (a name in scenarios/ or a path)"),
                       ("import", "save a scenario file exported from another library")):
        action = actions.add_parser(name, help=what)
        action.add_argument("scenario")
        action.add_argument("--title", required=name == "import", help="its title in the library "
                                                                     "(default for save: the scenario's name)")
        action.add_argument("--author", default="", help="who saves it")
        action.add_argument("--note", default="", help="why, and for whom")
    export = actions.add_parser("export", help="a saved scenario as a scenario file")
    export.add_argument("id", type=int)
    export.add_argument("--out", help="file to write (refused if it exists, unless --force); default: print it")
    export.add_argument("--force", action="store_true", help="overwrite --out")
    paper = actions.add_parser("paper", help="a saved comparison's board paper (PDF or web page), from the figures "
                                             "it keeps")
    paper.add_argument("id", type=int, help="the saved comparison's id (see list)")
    paper.add_argument("--out", required=True, help="file to write, .pdf or .html (refused if it exists, unless "
                                                    "--force)")
    paper.add_argument("--force", action="store_true", help="overwrite --out")
    paper.add_argument("--rerun", action="store_true", help="rerun, with this model, the scenarios whose kept figures "
                                                            "an older model made (by default the paper shows the "
                                                            "figures as saved, and says which model made them)")


def cmd_library(args: argparse.Namespace) -> int:
    library = Library(args.library)
    if args.action == "list":
        saved = library.scenarios()
        print(f"{len(saved)} saved scenario{'' if len(saved) == 1 else 's'}" + (":" if saved else ""))
        for s in saved:
            print(f"  {s.id:>4}  {s.title}  ({s.author or 'no author'}, {s.updated_at:%Y-%m-%d %H:%M})")
        compared = library.comparisons()
        print(f"{len(compared)} saved comparison{'' if len(compared) == 1 else 's'}" + (":" if compared else ""))
        for c in compared:
            print(f"  {c.id:>4}  {c.title}  (scenarios {', '.join(map(str, c.scenario_ids))}; {c.created_at:%Y-%m-%d})")
        return 0
    if args.action == "show":
        s = library.scenario(args.id)
        print(f"{s.title} (saved scenario {s.id})\nauthor: {s.author or '-'}\nsaved: {s.created_at:%Y-%m-%d %H:%M}, "
              f"last changed {s.updated_at:%Y-%m-%d %H:%M}\nextends: {s.base or '-'}\nnote: {s.note or '-'}\n")
        print(s.toml)
        return 0
    if args.action == "paper":
        return _paper(library, args)
    if args.action == "export":
        text = library.scenario(args.id).toml
        if args.out is None:
            print(text)
        else:
            if Path(args.out).exists() and not args.force:
                raise ScenarioError(f"--out {args.out}: the file exists; choose another name, or add --force to "
                                    "overwrite it")
            atomic_write.write_text(args.out, text)
            print(f"wrote {args.out}")
        return 0
    # save or import: a scenario file, read and checked as any is
    if args.action == "import":
        try:
            text = read_input_text(Path(args.scenario), "scenario file")
        except InputFileError as exc:
            raise ScenarioError(str(exc)) from None
        sid = library.save_scenario(text, args.title, args.author, args.note)
    else:
        scenario = load_scenario(args.scenario)
        sid = library.save_scenario(scenario, args.title or scenario.scenario.name, args.author, args.note)
    print(f"saved as scenario {sid}")
    return 0


def _paper(library: Library, args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise ScenarioError(f"--out {args.out}: a board paper is written as .pdf or .html")
    if out.exists() and not args.force:
        raise ScenarioError(f"--out {args.out}: the file exists; choose another name, or add --force to overwrite it")
    saved = library.comparison(args.id)
    runs, notes = comparison_runs(library, args.id, rerun=args.rerun)
    reference = library.scenario(saved.reference_id).title
    first, _, last = saved.window.partition(" to ")
    window = finance.window_years(runs[reference], first, last) if last else None
    pack = board_pack.build(runs, saved.year, reference, saved.question or None, kpis=TABLE_KPIS, window=window)
    atomic_write.write_bytes(out, board_pack.to_pdf(pack) if out.suffix.lower() == ".pdf" else board_pack.to_html(pack))
    for note in notes:
        print(note)
    print(f"wrote {out}: the board paper of saved comparison {saved.id}, '{saved.title}'")
    return 0
