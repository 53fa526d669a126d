"""`dokja grievance`: publication of a decision and the grievances eliminated teams file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..grievance import GROUNDS, REMEDIES
from .app import Cache, Db, Now, StageOpt, clock, console, guarded

grievance_app = typer.Typer(help="Publication of a decision and the grievances eliminated teams file.",
                            no_args_is_help=True)
Team = Annotated[str, typer.Option("--team", help="the team's id")]


def _sessions(db_url):
    from ..store import open_store

    return open_store(db_url, create=False)


@grievance_app.command("publish")
@guarded
def publish_cmd(stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """Publish the stage's latest decision: the grievance window opens."""
    from ..grievance import publish

    with _sessions(db_url).begin() as session:
        pub = publish(session, stage, clock(now))
    console.print(f"[green]✓[/] decision {pub.decision} of {pub.stage} published; grievances until "
                  f"{pub.deadline_text} · 이의신청 마감 {pub.deadline_text}")


@grievance_app.command("file")
@guarded
def file_cmd(team: Team, grounds: Annotated[str, typer.Option(help="the grounds, in writing")],
             kind: Annotated[str, typer.Option("--kind", help=f"the kind of grounds: {', '.join(GROUNDS)}")] =
             "process_defect",
             evidence: Annotated[Optional[list[Path]], typer.Option(help="an evidence file (repeat)")] = None,
             stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """File an eliminated team's grievance within the window."""
    from ..grievance import file_grievance

    files = [(p.name, p.read_bytes()) for p in evidence or []]
    with _sessions(db_url).begin() as session:
        number = file_grievance(session, stage, team, kind, grounds, files, clock(now))
    console.print(f"[green]✓[/] grievance {number} filed for team {team} ({len(files)} evidence file(s))")


@grievance_app.command("waive")
@guarded
def waive_cmd(team: Team, stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """Record an eliminated team's waiver of its right to file."""
    from ..grievance import waive

    with _sessions(db_url).begin() as session:
        state = waive(session, stage, team, clock(now))
    console.print(f"[green]✓[/] team {team} waived" + (" · the window closed early: every eliminated team waived"
                                                       if state.closed_early else ""))


@grievance_app.command("rule")
@guarded
def rule_cmd(grievance: Annotated[int, typer.Argument(help="grievance id")],
             action: Annotated[str, typer.Argument(help="admit, rule_out, review, request_information, resume, "
                                                        "uphold, partly_uphold, dismiss, close")],
             reason: Annotated[str, typer.Option(help="the office's written reason")] = "",
             now: Now = None, db_url: Db = None) -> None:
    """Move a grievance on by one step, with a written reason."""
    from ..grievance import rule

    with _sessions(db_url).begin() as session:
        view = rule(session, grievance, action, reason, clock(now))
    console.print(f"[green]✓[/] grievance {grievance} is now {view.state.replace('_', ' ')}")


@grievance_app.command("remedy")
@guarded
def remedy_cmd(grievance: Annotated[int, typer.Argument(help="an upheld grievance's id")],
               kind: Annotated[str, typer.Argument(help=f"what to re-run: {', '.join(REMEDIES)}")],
               suite: Annotated[Optional[str], typer.Option(help="the suite to re-run (kind suite)")] = None,
               votes: Annotated[Optional[Path], typer.Option(help="the recounted votes export (kind recount, when "
                                                                  "the decision counted an export)")] = None,
               now: Now = None, db_url: Db = None, cache: Cache = Path(".dokja")) -> None:
    """Re-run what an upheld grievance found defective and record the stage's new decision."""
    from .. import __version__
    from ..grievance import remedy

    number = remedy(_sessions(db_url), grievance, kind, now=clock(now), suite=suite, votes=votes, cache=cache,
                    version=__version__)
    console.print(f"[green]✓[/] grievance {grievance}: decision {number} recorded; publish it with "
                  "`dokja grievance publish`")


@grievance_app.command("list")
@guarded
def list_cmd(stage: StageOpt = None, db_url: Db = None) -> None:
    """The stage's grievances as the public sees them: team, state, dates, the office's reasons."""
    from ..grievance import timeline

    table = Table("#", "team", "grounds", "state", "filed", "last ruling")
    with _sessions(db_url).begin() as session:
        views = timeline(session, stage)
    for g in views:
        last = g.rulings[-1].reason if g.rulings else ""
        table.add_row(str(g.id), g.team, GROUNDS[g.grounds_kind][0], g.state.replace("_", " "),
                      f"{g.filed_at:%Y-%m-%d %H:%M} UTC", escape(last))
    console.print(table if views else "no grievances")


@grievance_app.command("window")
@guarded
def window_cmd(stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """Where the stage's grievance window stands."""
    from ..grievance import window

    with _sessions(db_url).begin() as session:
        w = window(session, stage, clock(now))
    state = "open" if w.open else "closed early (every eliminated team waived)" if w.closed_early else "closed"
    console.print(f"stage {w.stage}, decision {w.decision}: window {state}; deadline {w.deadline_text}")
    console.print(f"eliminated: {', '.join(w.eliminated) or 'none'} · waived: {', '.join(w.waived) or 'none'} · "
                  f"open grievances: {len(w.open_grievances)}")
    console.print("[green]final[/]" if w.final_at else "can be declared final" if w.final
                  else f"not final: {escape(w.why_not_final)}")


@grievance_app.command("finalise")
@guarded
def finalise_cmd(stage: StageOpt = None, now: Now = None, db_url: Db = None) -> None:
    """Declare the stage's results final (the window closed, no grievance open)."""
    from ..grievance import finalise

    with _sessions(db_url).begin() as session:
        w = finalise(session, stage, clock(now))
    console.print(f"[green]✓[/] results of {w.stage} (decision {w.decision}) are final · 결과 확정")
