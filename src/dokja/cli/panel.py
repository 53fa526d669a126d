"""`dokja panel`: the expert panel: reviewers, conflicts, assignment, scores, agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .app import Db, StageOpt, console, guarded

panel_app = typer.Typer(help="The expert panel: reviewers, conflicts, assignment, scores, agreement.", no_args_is_help=True)
Reason = Annotated[str, typer.Option("--reason", help="why, in words the log keeps")]


def _sessions(db_url: Optional[str], create: bool = False):
    from ..store import open_store

    return open_store(db_url, create=create)


@panel_app.command("reviewers")
@guarded
def reviewers(file: Annotated[Path, typer.Argument(help="reviewers TOML file (`[[reviewers]]`)")],
              db_url: Db = None) -> None:
    """Import reviewers (validated whole first); each gets a public pseudonym, R1, R2…"""
    from ..panel import import_reviewers

    table = Table("평가위원 reviewer", "key", "name", "origin", "affiliation")
    with _sessions(db_url).begin() as session:
        for row in import_reviewers(session, file):
            table.add_row(row.pseudonym, row.key, row.name, row.origin, row.affiliation)
    console.print(table)


@panel_app.command("add")
@guarded
def add(key: str, name: Annotated[str, typer.Option(help="the reviewer's name")],
        origin: Annotated[str, typer.Option(help="domestic or international")],
        affiliation: Annotated[str, typer.Option(help="the current organisation")] = "",
        db_url: Db = None) -> None:
    """Register one reviewer (past affiliations and conflicts come from a reviewers file or `declare`)."""
    from ..panel import ReviewerEntry, register_reviewer

    entry = ReviewerEntry(key=key, name=name, origin=origin, affiliation=affiliation)
    with _sessions(db_url).begin() as session:
        row = register_reviewer(session, entry)
    console.print(f"[green]✓[/] reviewer {row.key} is {row.pseudonym}")


@panel_app.command("declare")
@guarded
def declare(reviewer: str, team: str, reason: Reason, db_url: Db = None) -> None:
    """Record a conflict the reviewer declares with a team."""
    from ..panel import declare_conflict

    with _sessions(db_url).begin() as session:
        row = declare_conflict(session, reviewer, team, reason)
    console.print(f"[green]✓[/] {row.pseudonym} declared a conflict with team {team}")


@panel_app.command("check")
@guarded
def check(stage: StageOpt = None, db_url: Db = None) -> None:
    """Check every reviewer against every team of the stage (each check logged) and print them."""
    from ..panel import check_conflicts

    table = Table("평가위원 reviewer", "팀 team", "이해충돌 conflict", "reasons")
    with _sessions(db_url).begin() as session:
        checks = check_conflicts(session, stage)
    for c in checks:
        mark = "[red]✗ conflict[/]" if c.conflicted else "[green]✓ clear[/]"
        why = "; ".join(c.reasons) + (f" (dismissed: {'; '.join(c.dismissed)})" if c.dismissed else "")
        table.add_row(c.reviewer, c.team, mark, escape(why))
    console.print(table)


@panel_app.command("dismiss")
@guarded
def dismiss(reviewer: str, team: str, reason: Reason, stage: StageOpt = None, db_url: Db = None) -> None:
    """Set aside a reviewer–team conflict, with the office's reason."""
    from ..panel import dismiss_conflict

    with _sessions(db_url).begin() as session:
        result = dismiss_conflict(session, stage, reviewer, team, reason)
    console.print(f"[green]✓[/] {result.reviewer}–{team}: {'; '.join(result.dismissed)} dismissed")


@panel_app.command("assign")
@guarded
def assign(stage: StageOpt = None, db_url: Db = None) -> None:
    """Draw k eligible reviewers per team with the published seed; each pair's probability is stored."""
    from ..panel import assign_panel

    with _sessions(db_url).begin() as session:
        draws = assign_panel(session, stage)
    table = Table("팀 team", "평가위원 reviewers", "probability each")
    for team in sorted({d.team for d in draws}):
        mine = [d for d in draws if d.team == team]
        table.add_row(team, ", ".join(d.reviewer for d in mine), f"{mine[0].probability:.3f}")
    console.print(table)


@panel_app.command("score")
@guarded
def score(reviewer: str, team: str, criterion: str, value: Annotated[str, typer.Argument(metavar="SCORE")],
          note: Annotated[str, typer.Option(help="the reviewer's note")] = "", stage: StageOpt = None,
          db_url: Db = None) -> None:
    """Enter (or replace, before close) one score."""
    from ..panel import enter_score

    with _sessions(db_url).begin() as session:
        enter_score(session, stage, reviewer, team, criterion, value, note, via="cli")
    console.print(f"[green]✓[/] score of team {team} on {criterion} recorded (logged as a commitment)")


@panel_app.command("import")
@guarded
def import_(file: Annotated[Path, typer.Argument(help="CSV: reviewer,team,criterion,score,note")],
            stage: StageOpt = None, db_url: Db = None) -> None:
    """Import scores; each row is checked like a score entered alone, refused rows are listed by line."""
    from ..panel import import_scores

    with _sessions(db_url).begin() as session:
        report = import_scores(session, stage, file)
    console.print(f"[green]✓[/] {report.kept} score(s) kept, {len(report.refused)} refused")
    if report.refused:
        table = Table("line", "reviewer", "team", "criterion", "score", "refused because")
        for r in report.refused:
            table.add_row(str(r.line), r.reviewer, r.team, r.criterion, r.score, escape(r.reason))
        console.print(table)
        raise typer.Exit(1)


@panel_app.command("close")
@guarded
def close(stage: StageOpt = None, db_url: Db = None) -> None:
    """Close the panel: the scores are revealed in the log and the panel's record is kept."""
    from ..panel import close_panel

    with _sessions(db_url).begin() as session:
        record = close_panel(session, stage)
    console.print(f"[green]✓[/] panel of stage {record.stage} closed: {len(record.scores)} scores, "
                  f"sha256 {record.sha256()[:16]}")


@panel_app.command("show")
@guarded
def show(stage: StageOpt = None, db_url: Db = None) -> None:
    """Agreement per criterion (alpha, interval, tentative) and each team's expert points, raw and corrected."""
    from ..panel import panel_result, panel_scores
    from ..programme import Programme
    from ..registry import programme_row

    with _sessions(db_url).begin() as session:
        scores = panel_scores(session, stage)
        spec = Programme.model_validate(programme_row(session).config)
    result = panel_result(scores, spec.panel.model_copy(update={"severity": True}))
    counts = spec.panel.severity
    names = {c.id: f"{c.name} {c.name_ko}".strip() for c in scores.rubric}
    agree = Table("기준 criterion", "alpha", "95% interval", "flag", title=f"Agreement 평가 일치도 — {scores.stage}")
    by_id = {a.criterion: a for a in result.agreement}
    for a in (by_id[c.id] for c in scores.rubric):
        interval = f"{a.low:.2f} – {a.high:.2f}" if a.low is not None else "—"
        flag = f"[yellow]tentative 잠정[/] {escape(a.note)}" if a.tentative else ""
        agree.add_row(names[a.criterion], "—" if a.alpha is None else f"{a.alpha:.3f}", interval, flag)
    points = Table("팀 team", "raw 원점수" + ("" if counts else " ✓"), "corrected 보정" + (" ✓" if counts else ""),
                   *(c.id for c in scores.rubric), title=f"Expert points 전문가 평가 점수 (of {spec.scheme.expert:g})")
    for t in sorted(result.teams, key=lambda t: -(t.corrected_points if counts else t.raw_points)):
        means = {c.criterion: f"{c.mean:.2f}" for c in t.criteria}
        points.add_row(t.team, f"{t.raw_points:.2f}", f"{t.corrected_points:.2f}",
                       *(means[c.id] for c in scores.rubric))
    console.print(agree)
    console.print(points)
    console.print("✓ the points that count (\\[panel] severity); the criterion columns are raw means")
