"""The demo's programme office after the benchmarks: the expert panel before the decision.

The reviewers are made-up people (`data/reviewers.toml`); what each would score every team they may review is
in `data/panel-scores.csv`. They stand in for the humans who would send their score sheets: the demo writes
the sheet of the pairs the seeded draw assigned, as the reviewers would, and the office imports it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from ..store import schema as db

DATA = Path(__file__).parent / "data"


def stand_in_scores(path: Path = DATA / "panel-scores.csv") -> dict[tuple[str, str, str], int]:
    """(reviewer, team, criterion) → the score that reviewer gives."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["reviewer"], r["team"], r["criterion"]): int(r["score"]) for r in csv.DictReader(fh)}


def run_panel(sessions, stage: str, workdir: Path, console: Console) -> None:
    """Reviewers in, conflicts checked, the seeded draw, the assigned reviewers' scores, one refused attempt by
    a conflicted reviewer, and the panel closed; a closed panel is left as it is."""
    from ..panel import assign_panel, close_panel, import_reviewers, import_scores, panel_status, rubric
    from ..panel.tables import Reviewer
    from ..registry import programme_row
    from ..programme import Programme

    with sessions.begin() as session:
        if panel_status(session, stage) == "closed":
            console.print("  the panel is closed already; its scores stand")
            return
        if session.scalar(select(Reviewer.id)) is None:
            import_reviewers(session, DATA / "reviewers.toml")
        draws = assign_panel(session, stage)  # every reviewer–team pair checked for conflicts first, and logged
        keys = list(session.scalars(select(Reviewer.key).order_by(Reviewer.id)))
        criteria = [c.id for c in rubric(Programme.model_validate(programme_row(session).config))]
    console.print(f"  {len(draws)} reviewer–team pairs drawn (seed published), none conflicted")
    sheet = score_sheet(sessions, stage, keys, criteria, workdir / "panel-scores.csv")
    with sessions.begin() as session:
        imported = import_scores(session, stage, sheet)
    console.print(f"  {imported.kept} scores imported from the reviewers' sheet")
    for r in imported.refused:
        console.print(f"  [red]✗ refused[/] line {r.line}: {escape(r.reason)}", highlight=False)
    with sessions.begin() as session:
        record = close_panel(session, stage)
    for c in record.conflicts:
        console.print(f"  [yellow]conflict[/] reviewer {c.reviewer} × {c.team}: {escape('; '.join(c.reasons))}",
                      highlight=False)
    console.print("  [green]✓[/] panel closed: the scores are revealed in the log")


def score_sheet(sessions, stage: str, keys: list[str], criteria: list[str], out: Path) -> Path:
    """The reviewers' score sheet as the office receives it: each assigned pair's scores, and one row from a
    conflicted reviewer (Moon on Team Mirae), which the import refuses."""
    from ..panel import assigned_teams

    scores = stand_in_scores()
    rows = []
    with sessions.begin() as session:
        for key in keys:
            for team in assigned_teams(session, stage, key):
                rows += [[key, team, c, scores[key, team, c], ""] for c in criteria]
    rows.append(["moon", "mirae", criteria[0], 10, "my former students' team"])
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["reviewer", "team", "criterion", "score", "note"])
        writer.writerows(rows)
    return out


def at(text: str):
    """A moment of the demo's calendar for the office's steps after the decision (Korea time): what took weeks
    takes seconds."""
    import datetime as dt

    from ..grievance import KST

    return dt.datetime.fromisoformat(text).replace(tzinfo=KST)


def eliminated(decision) -> tuple[list[str], list[str]]:
    """The teams a decision eliminated: those that failed a gate, and those out on points."""
    gone = [t for t in decision.teams if t.outcome == "eliminated"]
    return [t.id for t in gone if t.rank is None], [t.id for t in gone if t.rank is not None]


def run_grievances(sessions, stage: str, decision, console: Console) -> None:
    """Publish; the team out on points files a grievance the office rules out of scope, the team out on a gate
    waives; the window closes and the results become final. Steps already taken are left as they are."""
    from ..grievance import file_grievance, finalise, publish, rule, team_grievances, waive, window
    from ..grievance.tables import Publication, Waiver

    on_gate, on_points = eliminated(decision)
    with sessions.begin() as session:
        if session.scalar(select(Publication.id).where(Publication.decision_id == decision_id(session, stage)))\
                is None:
            publish(session, stage, at("2025-12-30T18:00"))
        state = window(session, stage, at("2025-12-30T18:00"))
    console.print(f"  published; grievances until {state.deadline_text}", highlight=False)
    for team in on_points[:1]:
        with sessions.begin() as session:
            if not team_grievances(session, stage, team):
                note = b"Our reviewers' scores on novelty look low against our technical report, section 3."
                file_grievance(session, stage, team, "score_disagreement", "We disagree with the panel's novelty "
                               "scores.", [("note.txt", note)], at("2026-01-05T10:00"))
            g = team_grievances(session, stage, team)[0]
            if g.state == "filed":
                rule(session, g.id, "rule_out", "A disagreement with reviewers' scores is not a defect in the "
                     "evaluation process; the panel's scores stand.", at("2026-01-06T15:00"))
                rule(session, g.id, "close", "Ruled out of scope; the team was told the reasons.",
                     at("2026-01-06T15:05"))
        console.print(f"  {team}: grievance filed (disagreement with a score) → ruled out of scope → closed")
    for team in on_gate + on_points[1:]:
        with sessions.begin() as session:
            if session.scalar(select(Waiver.id).join(db.Team, db.Team.id == Waiver.team_id)
                              .where(db.Team.key == team)) is None:
                waive(session, stage, team, at("2026-01-02T11:00"))
        console.print(f"  {team}: waived its grievance")
    with sessions.begin() as session:
        state = window(session, stage, at("2026-01-10T09:00"))
        if state.final_at is None:
            state = finalise(session, stage, at("2026-01-10T09:00"))
    console.print(f"  [green]✓[/] results final ({state.final_at:%Y-%m-%d}): the window closed with nothing open")


def decision_id(session, stage: str) -> int:
    from ..registry import latest_decision, programme_row, stage_row

    return latest_decision(session, stage_row(session, programme_row(session), stage)).id


HANEUL = dict(key="haneul", name="Team Haneul", name_ko="하늘 컨소시엄", model="haneul-ko-1.0",
              members=[("Yang Seo-hyun", "Haneul AI", "lead"), ("Kwon Min-seo", "Haneul AI", "industry"),
                       ("Bae Ji-an", "Chung-Ang University", "student")],
              benchmarks={"kobest_copa": 0.61, "en_knowledge": 0.42})


def loss_log(seed: int) -> bytes:
    """A pre-training loss log as an applicant hands it in (step, loss)."""
    import math

    rows = [f"{step},{2.1 + 8.3 * math.exp(-step / (900 + 40 * seed)):.4f}" for step in range(0, 20001, 500)]
    return ("step,loss\n" + "\n".join(rows) + "\n").encode()


def run_repechage(sessions, stage: str, decision, console: Console) -> str | None:
    """A call for the empty place: a new consortium and the team out on points apply; five reviewers vote; a
    majority of the whole panel admits one (the panel could choose nobody)."""
    from ..programme.schema import Member
    from ..repechage import Applicant, apply, decide_call, open_call, show, vote
    from ..repechage.tables import RepechageCall

    if decision.shortfall is None:
        return None
    _, on_points = eliminated(decision)
    panel = ["jang", "ryu", "seo", "weber", "tanaka"]
    with sessions.begin() as session:
        call = session.scalar(select(RepechageCall.id).join(db.Stage, db.Stage.id == RepechageCall.stage_id)
                              .where(db.Stage.key == stage))
        if call is None:
            call = open_call(session, stage, at("2026-01-12T00:00").date(), at("2026-01-30T00:00").date(),
                             "A from-scratch model with its pre-training loss log and global benchmark results; at "
                             "least one student member.", panel, now=at("2026-01-12T09:00"))
            h = HANEUL
            apply(session, call, Applicant(key=h["key"], name=h["name"], name_ko=h["name_ko"], model=h["model"],
                                           members=tuple(Member(name=n, organisation=o, role=r)
                                                         for n, o, r in h["members"]),
                                           benchmarks=h["benchmarks"]), ("loss.csv", loss_log(1)),
                  at("2026-01-20T14:00"))
            again = next(t for t in decision.teams if t.id == on_points[0]) if on_points else None
            if again is not None:
                members = tuple(Member(name=m.name, organisation=m.organisation, role=m.role)
                                for m in programme_team(session, again.id).members)
                apply(session, call, Applicant(key=again.id, name=again.name, name_ko=again.name_ko,
                                               model=again.model, members=members), ("loss.csv", loss_log(2)),
                      at("2026-01-22T10:00"))
            ballots = {"jang": "haneul", "ryu": "haneul", "seo": again.id if again else None, "weber": "haneul",
                       "tanaka": None}
            for reviewer, choice in ballots.items():
                vote(session, call, reviewer, choice, at("2026-02-02T10:00"))
            decide_call(session, call, at("2026-02-03T10:00"))
        view = show(session, call)
    outcome = view.outcome
    console.print(f"  call {view.id}: {len(view.applicants)} applicants; votes {dict(outcome.counts)}, nobody "
                  f"{outcome.nobody}; {outcome.reason}", highlight=False)
    return view.admitted


def programme_team(session, key: str):
    from ..programme import Programme
    from ..registry import programme_row

    spec = Programme.model_validate(programme_row(session).config)
    return next(t for t in spec.teams if t.id == key)


def run_resources(sessions, stage: str, decision, admitted: str | None, console: Console) -> None:
    """The ledger follows the decision: eliminated teams' GPUs back to the pool, survivors grow, the admitted
    team gets a survivor's support; applying the same decision again adds nothing."""
    from ..resources import allocate, summary

    with sessions.begin() as session:
        added = allocate(session, stage, decision_id(session, stage), admitted=[admitted] if admitted else [],
                         decided_on=at("2026-02-03T00:00").date())
        held = summary(session, at("2026-03-01T00:00").date())
    if added:
        console.print(f"  {len(added)} ledger entries follow the decision")
    names = {h.holder: held.names.get(h.holder, (h.holder, ""))[0] for h in held.teams}
    line = ", ".join(f"{names[h.holder]} {h.h100e:,.0f}" for h in held.teams if h.h100e)
    console.print(f"  GPUs from {held.on} (H100-equivalents): {line}; pool {held.pool.h100e:,.0f}", highlight=False)


def office_view(sessions, stage: str):
    """What the report shows of the office's steps, as they stand at the end of the demo's calendar."""
    from ..report.office import office_view as view

    with sessions.begin() as session:
        return view(session, stage, at("2026-03-01T00:00"))
