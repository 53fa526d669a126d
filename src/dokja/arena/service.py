"""The arena's database operations: visitors, battles, answers, votes, and votes read back for the ratings.

Votes are cast in batches on one connection (``cast_votes``) so a single writer can commit many
ballots with one durable commit; everything else works on an ordinary session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .tables import OUTCOMES, Answer, Battle, Visitor, Vote, utcnow

SIDES = ("a", "b")


@dataclass(frozen=True)
class Ballot:
    """A vote as the visitor sent it: which battle, from which session token, with which outcome; with
    ``needs_proof`` it is refused unless the visitor's browser has done the site's proof of work."""

    battle: str
    token: str
    outcome: str
    needs_proof: bool = False


@dataclass(frozen=True)
class Verdict:
    """What became of a ballot: ``status`` is ok, unknown, not_yours, not_finished, already_voted or no_proof."""

    status: str
    model_a: str = ""
    model_b: str = ""


def visitor_id(session: Session, token: str, address: str = "") -> int:
    """The visitor's row id, created on first sight of the token."""
    found = session.scalar(select(Visitor.id).where(Visitor.token == token))
    if found is not None:
        return found
    row = Visitor(token=token, address=address[:64])
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same token raced in from a second request
        session.rollback()
        return session.scalar(select(Visitor.id).where(Visitor.token == token))
    return row.id


def prove_visitor(session: Session, token: str, address: str = "") -> None:
    """Record that the visitor's browser did the proof of work (the first time only)."""
    row = session.get(Visitor, visitor_id(session, token, address))
    if row.proven_at is None:
        row.proven_at = utcnow()


def visitor_proven(session: Session, token: str) -> bool:
    return session.scalar(select(Visitor.proven_at).where(Visitor.token == token)) is not None


def current_stage(session: Session) -> str:
    """The stage a battle fought now belongs to: the programme's earliest stage not yet decided ("" if none)."""
    from ..store import schema as db

    programme = session.scalars(select(db.Programme).order_by(db.Programme.id.desc())).first()
    open_stages = [s for s in (programme.stages if programme else []) if s.status != "decided"]
    return open_stages[0].key if open_stages else ""


def open_battle(session: Session, *, token: str, address: str, prompt: str, model_a: str, model_b: str,
                probability: float, weight: float = 1.0, category: str = "general", language: str = "en",
                stage: str | None = None) -> Battle:
    """A new battle with both answers pending; its key is unguessable, so battles cannot be enumerated. It
    belongs to the stage open now, so a later stage's decision never counts its vote."""
    battle = Battle(key=secrets.token_hex(16), visitor_id=visitor_id(session, token, address), prompt=prompt,
                    model_a=model_a, model_b=model_b, probability=float(probability), weight=float(weight),
                    category=category, language=language, created_at=utcnow(),
                    stage=current_stage(session) if stage is None else stage)
    battle.answers = [Answer(side=s, text="", finished=False, tokens=0, reveals_identity=False) for s in SIDES]
    session.add(battle)
    session.flush()
    return battle


def record_answer(session: Session, battle_key: str, side: str, text: str, *, finished: bool = True,
                  tokens: int = 0, first_token_s: float | None = None, seconds: float | None = None,
                  reveals_identity: bool = False) -> None:
    """Store one side's answer; once both sides are finished the battle can take a vote."""
    battle_id = session.scalar(select(Battle.id).where(Battle.key == battle_key))
    if battle_id is None:
        raise KeyError(battle_key)
    session.execute(update(Answer).where(Answer.battle_id == battle_id, Answer.side == side).values(
        text=text, finished=finished, tokens=tokens, first_token_s=first_token_s, seconds=seconds,
        reveals_identity=reveals_identity, finished_at=utcnow() if finished else None))


def battle(session: Session, key: str) -> Battle | None:
    return session.scalar(select(Battle).where(Battle.key == key))


def cast_votes(conn: Connection, ballots: list[Ballot]) -> list[Verdict]:
    """Judge and insert a batch of ballots in the caller's transaction; the caller commits once for all.

    A ballot is refused when its battle is unknown, belongs to another visitor, has an unfinished
    answer, already has a vote (also a vote earlier in the same batch), or needs a proof of work its
    visitor has not done.
    """
    keys = sorted({b.battle for b in ballots})
    finished = (select(func.count()).where(Answer.battle_id == Battle.id, Answer.finished.is_(True))
                .scalar_subquery())
    voted = exists().where(Vote.battle_id == Battle.id)
    known = {}
    for start in range(0, len(keys), 500):
        rows = conn.execute(select(Battle.key, Battle.id, Battle.visitor_id, Battle.model_a, Battle.model_b,
                                   Visitor.token, finished, voted, Visitor.proven_at)
                            .join(Visitor, Visitor.id == Battle.visitor_id)
                            .where(Battle.key.in_(keys[start:start + 500])))
        known.update({r[0]: r for r in rows})
    verdicts, inserts, taken = [], [], set()
    now = utcnow()
    for ballot in ballots:
        row = known.get(ballot.battle)
        if row is None:
            verdicts.append(Verdict("unknown"))
            continue
        _, battle_id, owner, model_a, model_b, token, n_finished, has_vote, proven_at = row
        if token != ballot.token:
            status = "not_yours"
        elif has_vote or battle_id in taken:
            status = "already_voted"
        elif n_finished < len(SIDES):
            status = "not_finished"
        elif ballot.needs_proof and proven_at is None:
            status = "no_proof"
        else:
            status = "ok"
            taken.add(battle_id)
            inserts.append({"battle_id": battle_id, "visitor_id": owner, "outcome": ballot.outcome,
                            "created_at": now, "flagged": False, "reasons": []})
        verdicts.append(Verdict(status, model_a, model_b))
    if inserts:
        conn.execute(insert(Vote), inserts)
    return verdicts


def vote_rows(session: Session) -> list[dict]:
    """Every vote with what the honesty checks need: visitor, pair, outcome, prompt and timing."""
    a, b = Answer.__table__.alias("answer_a"), Answer.__table__.alias("answer_b")
    query = (select(Vote.id, Vote.visitor_id, Vote.outcome, Vote.created_at, Vote.flagged, Battle.key,
                    Battle.model_a, Battle.model_b, Battle.prompt, Battle.probability, Battle.weight,
                    Battle.category, Battle.language, Battle.created_at, Battle.stage, a.c.text, b.c.text,
                    a.c.reveals_identity,
                    b.c.reveals_identity, a.c.finished_at, b.c.finished_at, Visitor.address)
             .join(Battle, Battle.id == Vote.battle_id)
             .outerjoin(Visitor, Visitor.id == Vote.visitor_id)
             .join(a, and_(a.c.battle_id == Battle.id, a.c.side == "a"))
             .join(b, and_(b.c.battle_id == Battle.id, b.c.side == "b"))
             .order_by(Vote.id))
    out = []
    for (vote_id, visitor, outcome, created, flagged, key, model_a, model_b, prompt, probability, weight,
         category, language, opened, stage, text_a, text_b, reveal_a, reveal_b, done_a, done_b,
         address) in session.execute(query):
        ready = max(done_a, done_b) if done_a and done_b else opened
        out.append({"vote": vote_id, "visitor": visitor, "battle": key, "model_a": model_a, "model_b": model_b,
                    "outcome": outcome, "prompt": prompt, "probability": probability, "weight": weight,
                    "category": category, "language": language, "stage": stage, "answer_a": text_a, "answer_b": text_b,
                    "reveals_identity": bool(reveal_a or reveal_b), "flagged": bool(flagged),
                    "created": created, "seconds": max((created - ready).total_seconds(), 0.0),
                    "address": address or ""})
    return out


def set_flags(session: Session, flags: dict[int, list[str]]) -> int:
    """Mark the votes of flagged visitors (reasons kept), clear the rest; returns how many are flagged."""
    session.execute(update(Vote).values(flagged=False, reasons=[]))
    for visitor, reasons in flags.items():
        session.execute(update(Vote).where(Vote.visitor_id == visitor).values(flagged=True, reasons=list(reasons)))
    return int(session.scalar(select(func.count()).select_from(Vote).where(Vote.flagged.is_(True))) or 0)


def count_votes(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Vote)) or 0)


def check_outcome(outcome: str) -> bool:
    return outcome in OUTCOMES


def refresh_flags(session: Session, rows: list[dict] | None = None) -> int:
    """Run the honesty tests over every vote (per visitor, for a favourite model, and on each subnet's pooled
    votes) and store the flags; returns how many are flagged."""
    from .honesty import flag_favourites, flag_subnets, flag_visitors

    rows = vote_rows(session) if rows is None else rows
    flags: dict = {}
    for found in (flag_visitors(rows), flag_favourites(rows), flag_subnets(rows)) if rows else ():
        for visitor, reasons in found.items():
            kept = flags.setdefault(visitor, [])
            kept += [r for r in reasons if r not in kept]
    count = set_flags(session, flags)
    for row in rows:
        row["flagged"] = row["visitor"] in flags
    return count


def votes_from_store(session: Session, *, refresh: bool = True, stage: str | None = None) -> list:
    """Every vote as an anonymised record, flagged and identity-revealing ones included (marked); with
    ``stage``, only the votes of battles fought in that stage.

    With ``refresh`` the honesty flags are brought up to date first, so the site, the export and
    anyone recomputing from it see the same flags.
    """
    from .leaderboard import VoteRecord
    from .style import style_features

    rows = vote_rows(session)
    if refresh:
        refresh_flags(session, rows)
    records = []
    for row in rows:
        if stage is not None and row["stage"] != stage:
            continue
        len_a, md_a = style_features(row["answer_a"])
        len_b, md_b = style_features(row["answer_b"])
        records.append(VoteRecord(battle=row["battle"], model_a=row["model_a"], model_b=row["model_b"],
                                  outcome=row["outcome"], category=row["category"], language=row["language"],
                                  weight=row["weight"], len_a=len_a, len_b=len_b, md_a=md_a, md_b=md_b,
                                  flagged=row["flagged"], reveals_identity=row["reveals_identity"], stage=row["stage"]))
    return records
