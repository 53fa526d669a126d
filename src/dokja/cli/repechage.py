"""`dokja repechage`: the repechage: calls, applicants, the panel's votes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..repechage import RepechageError
from .app import Db, Now, StageOpt, clock, console, guarded

repechage_app = typer.Typer(help="The repechage: calls, applicants, the panel's votes.", no_args_is_help=True)
Call = Annotated[int, typer.Argument(help="the call's id")]


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RepechageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def _sessions(db_url):
    from ..store import open_store

    return open_store(db_url, create=False)


@repechage_app.command("open")
@guarded
def open_cmd(opens: Annotated[str, typer.Option(help="first day of applications (YYYY-MM-DD, KST)")],
             closes: Annotated[str, typer.Option(help="last day of applications (YYYY-MM-DD, KST)")],
             requirements: Annotated[str, typer.Option(help="what applicants must show")],
             panel: Annotated[list[str], typer.Option(help="a panel member's reviewer key (repeat)")],
             stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """Open a call for the seat the stage's gates left empty."""
    from ..repechage import open_call

    with _sessions(db_url).begin() as session:
        number = open_call(session, stage, _day(opens, "--opens"), _day(closes, "--closes"), requirements, panel,
                           now=clock(now))
    console.print(f"[green]✓[/] repechage call {number} open {opens} – {closes} (KST), panel of {len(panel)}")


def _benchmarks(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise RepechageError(f"--benchmark {pair!r} should be NAME=SCORE") from None
    return out


@repechage_app.command("apply")
@guarded
def apply_cmd(call: Call, key: Annotated[str, typer.Option(help="the applicant's id (an eliminated team's id, or "
                                                                "a new one)")],
              name: Annotated[str, typer.Option(help="name in English")],
              member: Annotated[list[str], typer.Option(help="NAME:ROLE[:ORG] (repeat); roles lead, industry, "
                                                             "university, student, researcher, other")],
              model: Annotated[str, typer.Option(help="the model's name")],
              loss_log: Annotated[Path, typer.Option(help="the pre-training loss log")],
              name_ko: Annotated[str, typer.Option(help="name in Korean")] = "",
              benchmark: Annotated[Optional[list[str]], typer.Option(help="a global benchmark result NAME=SCORE "
                                                                          "(repeat)")] = None,
              evidence: Annotated[Optional[list[Path]], typer.Option(help="another evidence file (repeat)")] = None,
              now: Now = None, db_url: Db = None) -> None:
    """Apply to a call, within its dates."""
    from ..registry.records import member as parse_member
    from ..repechage import Applicant, apply

    applicant = Applicant(key=key, name=name, name_ko=name_ko, members=tuple(parse_member(m) for m in member),
                          model=model, benchmarks=_benchmarks(benchmark or []))
    files = [(p.name, p.read_bytes()) for p in evidence or []]
    with _sessions(db_url).begin() as session:
        apply(session, call, applicant, (loss_log.name, loss_log.read_bytes()), clock(now), files)
    console.print(f"[green]✓[/] {key} applied to call {call}")


@repechage_app.command("vote")
@guarded
def vote_cmd(call: Call, reviewer: Annotated[str, typer.Option(help="the panel member's reviewer key")],
             applicant: Annotated[Optional[str], typer.Option(help="the applicant voted for")] = None,
             nobody: Annotated[bool, typer.Option(help="vote for nobody")] = False,
             now: Now = None, db_url: Db = None) -> None:
    """A panel member's one vote (a later vote replaces it until the call is decided)."""
    from ..repechage import vote

    if (applicant is None) == (not nobody):
        raise RepechageError("give either --applicant KEY or --nobody")
    with _sessions(db_url).begin() as session:
        vote(session, call, reviewer, applicant, clock(now))
    console.print(f"[green]✓[/] {reviewer} voted for {applicant or 'nobody'}")


@repechage_app.command("decide")
@guarded
def decide_cmd(call: Call, now: Now = None, db_url: Db = None) -> None:
    """Count the panel's votes: a majority of the whole panel selects, otherwise nobody."""
    from ..repechage import decide_call

    with _sessions(db_url).begin() as session:
        result = decide_call(session, call, clock(now))
    console.print(f"[green]✓[/] call {call}: {escape(result.reason)}")


@repechage_app.command("show")
@guarded
def show_cmd(call: Call, db_url: Db = None) -> None:
    """A call: its terms, applicants, votes and outcome."""
    from ..repechage import show

    with _sessions(db_url).begin() as session:
        view = show(session, call)
    console.print(f"call {view.id} · stage {view.stage} · {view.opens} – {view.closes} (KST) · panel "
                  f"{', '.join(view.panel)}")
    table = Table("applicant", "name", "members", "model", "files", "votes")
    counted = list(view.votes.values())
    for a in view.applicants:
        table.add_row(a.key, f"{a.name} {a.name_ko}".strip(), str(len(a.members)), a.model, str(len(a.files)),
                      str(counted.count(a.key)))
    console.print(table)
    console.print(f"votes cast: {len(counted)} of {len(view.panel)} ({counted.count(None)} for nobody)")
    if view.outcome:
        console.print(f"decided: {escape(view.outcome.reason)}" + (f" · team {view.admitted} admitted"
                                                                  if view.admitted else ""))
