"""The arena's database operations: visitors, battles, answers, votes, and votes read back for the ratings.

Votes are cast in batches on one connection (``cast_votes``) so a single writer can commit many
ballots with one durable commit; everything else works on an ordinary session.

Each vote is also counted as it is stored, in the same transaction: into the cells the leaderboard is fitted
from (``arena_cell``) and into its visitor's and subnet's tallies the honesty tests run on (``arena_tally``,
``arena_unit``). The database adds (``INSERT … ON CONFLICT … DO UPDATE n = n + excluded.n``), so writers on
several workers never lose a count, and the counts always equal a recount of the votes. The leaderboard and
the flags are then brought up to date without reading every vote.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .cells import CellCount, fixed
from .errors import ArenaError
from .tables import OUTCOMES, Answer, Battle, Cell, Tally, Unit, Visitor, Vote, utcnow

SIDES = ("a", "b")
CELL_KEY = ("stage", "model_a", "model_b", "outcome", "category", "language", "flagged", "reveals_identity")
_CHUNK = 500


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
    known = _battles_to_vote(conn, sorted({b.battle for b in ballots}))
    verdicts, inserts, cast, taken = [], [], [], set()
    now = utcnow()
    for ballot in ballots:
        row = known.get(ballot.battle)
        if row is None:
            verdicts.append(Verdict("unknown"))
            continue
        if row.token != ballot.token:
            status = "not_yours"
        elif row.has_vote or row.id in taken:
            status = "already_voted"
        elif row.finished < len(SIDES):
            status = "not_finished"
        elif ballot.needs_proof and row.proven_at is None:
            status = "no_proof"
        else:
            status = "ok"
            taken.add(row.id)
            cast.append((row, ballot.outcome))
            inserts.append({"battle_id": row.id, "visitor_id": row.visitor_id, "outcome": ballot.outcome,
                            "created_at": now, "flagged": False, "reasons": []})
        verdicts.append(Verdict(status, row.model_a, row.model_b))
    if inserts:
        conn.execute(insert(Vote), inserts)
        _count_cast(conn, cast, now)
    return verdicts


def _battles_to_vote(conn: Connection, keys: list[str]) -> dict:
    """Battle key → what judging a ballot on it and counting its vote need."""
    here = Answer.battle_id == Battle.id
    finished = select(func.count()).where(here, Answer.finished.is_(True)).scalar_subquery().label("finished")
    stamped = select(func.count(Answer.finished_at)).where(here).scalar_subquery().label("stamped")
    done = select(func.max(Answer.finished_at)).where(here).scalar_subquery().label("done")
    reveals = exists().where(here, Answer.reveals_identity.is_(True)).label("reveals")
    voted = exists().where(Vote.battle_id == Battle.id).label("has_vote")
    known = {}
    for start in range(0, len(keys), _CHUNK):
        rows = conn.execute(select(Battle.key, Battle.id, Battle.visitor_id, Battle.model_a, Battle.model_b,
                                   Visitor.token, finished, voted, Visitor.proven_at, Battle.stage, Battle.category,
                                   Battle.language, Battle.weight, Battle.created_at, stamped, done, reveals,
                                   Visitor.address)
                            .join(Visitor, Visitor.id == Battle.visitor_id)
                            .where(Battle.key.in_(keys[start:start + _CHUNK])))
        known.update({r.key: r for r in rows})
    return known


def _count_cast(conn: Connection, cast: list, now) -> None:
    """Add votes just stored to the cells, and to their visitor's and subnet's tallies (not flagged: a visitor's
    flag reaches its new votes at the next refresh of the flags)."""
    from .honesty import MIN_SECONDS, client_net

    cells: dict[tuple, list[int]] = {}
    tallies: dict[tuple, int] = {}
    units: dict[str, list] = {}
    for row, outcome in cast:
        key = (row.stage, row.model_a, row.model_b, outcome, row.category, row.language, False, bool(row.reveals))
        _add_vote(cells.setdefault(key, [0, 0, 0]), row.weight)
        ready = row.done if row.stamped == len(SIDES) else row.created_at  # as vote_rows times it
        quick = max((now - ready).total_seconds(), 0.0) < MIN_SECONDS
        net = client_net(row.address) or ""
        for unit in (f"v:{row.visitor_id}", f"n:{net}" if net else None):
            if unit:
                tallies[unit, row.model_a, row.model_b, outcome, quick] = tallies.get(
                    (unit, row.model_a, row.model_b, outcome, quick), 0) + 1
                units.setdefault(unit, [0, net if unit.startswith("v:") else ""])[0] += 1
    add_counts(conn, Cell, [dict(zip(CELL_KEY, k), n=n, w=w, w2=w2) for k, (n, w, w2) in cells.items()])
    add_counts(conn, Tally, [dict(zip(("unit", "model_a", "model_b", "outcome", "quick"), k), n=n)
                             for k, n in tallies.items()])
    add_counts(conn, Unit, [{"unit": u, "net": net, "n": n, "flagged": False, "reasons": []}
                            for u, (n, net) in units.items()])


def _add_vote(sums: list[int], weight: float, sign: int = 1) -> None:
    sums[0] += sign
    sums[1] += sign * fixed(weight)
    sums[2] += sign * fixed(weight * weight)


def add_counts(conn: Connection, table, rows: list[dict]) -> None:
    """Add ``rows`` to a table of counts in one upsert, ``INSERT … ON CONFLICT (key) DO UPDATE SET n = n +
    excluded.n`` (and ``w``, ``w2``): the database does the adding, atomically, so two writers never lose a
    count; rows go in key order, so concurrent writers take row locks in the same order."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        raise ArenaError(f"the arena keeps its counts on SQLite or PostgreSQL, not {conn.dialect.name}")
    keys = [c.name for c in table.__table__.primary_key]
    stmt = upsert(table)
    added = {c: table.__table__.c[c] + stmt.excluded[c] for c in ("n", "w", "w2") if c in table.__table__.c}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=added),
                 sorted(rows, key=lambda r: tuple(r[k] for k in keys)))


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
    """Mark the votes of flagged visitors (reasons kept), clear the rest; returns how many are flagged.

    Only what changed is written: visitors whose flag or reasons changed, and votes a flagged visitor cast
    since it was flagged. Each vote whose flag changes moves its counts between the flagged and unflagged
    cells in this same transaction, so the cells never disagree with the votes."""
    before = {int(unit[2:]): list(reasons) for unit, reasons in
              session.execute(select(Unit.unit, Unit.reasons).where(Unit.flagged.is_(True)))}
    moved: dict[tuple, list[int]] = {}
    fresh = _refile(session, sorted(flags), True, moved)
    _refile(session, sorted(set(before) - set(flags)), False, moved)
    add_counts(session.connection(), Cell, [dict(zip(CELL_KEY, k), n=n, w=w, w2=w2)  # one upsert: locks in key order
                                            for k, (n, w, w2) in moved.items()])
    changed = {v: list(r) for v, r in flags.items() if before.get(v) != list(r) or v in fresh}
    changed.update({v: [] for v in before if v not in flags})
    for visitor, reasons in sorted(changed.items()):
        session.execute(update(Vote).where(Vote.visitor_id == visitor).values(reasons=reasons),
                        execution_options={"synchronize_session": False})
        session.execute(update(Unit).where(Unit.unit == f"v:{visitor}").values(flagged=bool(reasons),
                                                                               reasons=reasons),
                        execution_options={"synchronize_session": False})
    return int(session.scalar(select(func.coalesce(func.sum(Cell.n), 0)).where(Cell.flagged.is_(True))) or 0)


def _refile(session: Session, visitors: list[int], flagged: bool, moved: dict) -> set[int]:
    """Give these visitors' votes that lack it the flag ``flagged``, adding to ``moved`` the counts to take from
    the cells of the other flag and give to this one; returns the visitors whose votes changed. The update
    returns the very votes it changed, so a vote stored meanwhile is neither moved nor changed: the next refresh
    finds it."""
    touched: set[int] = set()
    for start in range(0, len(visitors), _CHUNK):
        changed = session.execute(update(Vote).where(Vote.visitor_id.in_(visitors[start:start + _CHUNK]),
                                                     Vote.flagged.is_(not flagged)).values(flagged=flagged)
                                  .returning(Vote.battle_id, Vote.visitor_id),
                                  execution_options={"synchronize_session": False}).all()
        touched.update(v for _, v in changed)
        for (stage, a, b, outcome, category, language, reveals), weight in _cell_keys(session, [b for b, _ in changed]):
            for standing, sign in ((not flagged, -1), (flagged, 1)):
                key = (stage, a, b, outcome, category, language, standing, reveals)
                _add_vote(moved.setdefault(key, [0, 0, 0]), weight, sign)
    return touched


def _cell_keys(session: Session, battles: list[int]) -> list[tuple[tuple, float]]:
    """Each voted battle's cell (less its flag) and weight."""
    reveals = exists().where(Answer.battle_id == Battle.id, Answer.reveals_identity.is_(True))
    out = []
    for start in range(0, len(battles), _CHUNK):
        for row in session.execute(select(Battle.stage, Battle.model_a, Battle.model_b, Vote.outcome, Battle.category,
                                          Battle.language, reveals, Battle.weight)
                                   .join(Vote, Vote.battle_id == Battle.id)
                                   .where(Battle.id.in_(battles[start:start + _CHUNK]))):
            out.append(((*row[:6], bool(row[6])), row[7]))
    return out


def count_votes(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Vote)) or 0)


def check_outcome(outcome: str) -> bool:
    return outcome in OUTCOMES


def refresh_flags(session: Session, rows: list[dict] | None = None) -> int:
    """Run the honesty tests (per visitor, for a favourite model, and on each subnet's pooled votes) and store the
    flags; returns how many votes are flagged.

    Without ``rows`` the tests run on the store's running counts, reading no vote: everyone's outcomes per pair
    from the cells, and the tallies of the visitors and subnets with enough votes to be judged, the only ones a
    test can flag. Each is judged against everyone else's votes, which every new vote changes, so all of them
    are judged again; the flags equal those of the tests run over every vote. With ``rows`` (every vote, as
    :func:`vote_rows` reads them) the tests run over the rows, and the rows' ``flagged`` is set.
    """
    from .honesty import flag_all

    if rows is None:
        return set_flags(session, _flags_from_counts(session))
    flags = flag_all(rows) if rows else {}
    count = set_flags(session, flags)
    for row in rows:
        row["flagged"] = row["visitor"] in flags
    return count


def _flags_from_counts(session: Session) -> dict[int, list[str]]:
    """Every visitor's flag from the cells (everyone's outcomes per pair) and the tallies of the units judged."""
    from .honesty import MIN_VOTES, UnitCount, merge_flags, pair_history, unit_flags

    conn = session.connection()
    history = pair_history({"model_a": a, "model_b": b, "outcome": o, "n": int(n)} for a, b, o, n in conn.execute(
        select(Cell.model_a, Cell.model_b, Cell.outcome, func.sum(Cell.n))
        .group_by(Cell.model_a, Cell.model_b, Cell.outcome).having(func.sum(Cell.n) > 0)))
    judged = select(Unit.unit).where(Unit.n >= MIN_VOTES)
    visitors, nets = [], []
    for unit, a, b, outcome, quick, n in conn.execute(
            select(Tally.unit, Tally.model_a, Tally.model_b, Tally.outcome, Tally.quick, Tally.n)
            .where(Tally.unit.in_(judged), Tally.n > 0)):
        if unit[0] == "v":
            visitors.append(UnitCount(int(unit[2:]), a, b, outcome, bool(quick), int(n)))
        else:
            nets.append(UnitCount(unit[2:], a, b, outcome, bool(quick), int(n)))
    own, pooled = unit_flags(visitors, history), unit_flags(nets, history)
    members: dict[str, list[int]] = {}
    names = sorted(pooled)
    for start in range(0, len(names), _CHUNK):
        for unit, net in conn.execute(select(Unit.unit, Unit.net).where(Unit.net.in_(names[start:start + _CHUNK]))):
            members.setdefault(net, []).append(int(unit[2:]))
    return merge_flags(own, pooled, members)


def votes_from_store(session: Session, *, refresh: bool = True, stage: str | None = None) -> list:
    """Every vote as an anonymised record, flagged and identity-revealing ones included (marked); with
    ``stage``, only the votes of battles fought in that stage.

    With ``refresh`` the honesty flags are brought up to date first, so the site, the export and
    anyone recomputing from it see the same flags.
    """
    from .leaderboard import VoteRecord
    from .style import style_features

    if refresh:
        refresh_flags(session)
    rows = vote_rows(session)
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


def board_counts(session: Session, *, stage: str | None = None) -> list[CellCount]:
    """The stored cells, every stage's summed (or only ``stage``'s): what every leaderboard view but the
    style-controlled one is computed from, flagged and revealing votes included (marked), as from the votes."""
    group = (Cell.model_a, Cell.model_b, Cell.outcome, Cell.category, Cell.language, Cell.flagged,
             Cell.reveals_identity)
    query = select(*group, func.sum(Cell.n), func.sum(Cell.w), func.sum(Cell.w2)).group_by(*group)
    if stage is not None:
        query = query.where(Cell.stage == stage)
    return [CellCount(a, b, o, c, lang, bool(f), bool(r), int(n), int(w), int(w2))
            for a, b, o, c, lang, f, r, n, w, w2 in session.execute(query.having(func.sum(Cell.n) > 0)
                                                                   .order_by(*group))]


def counted_votes(session: Session) -> int:
    """How many votes the cells hold: every vote, read from a table of a few thousand rows at most."""
    return int(session.scalar(select(func.coalesce(func.sum(Cell.n), 0))) or 0)


def stored_answers(session: Session, *, stage: str | None = None) -> list:
    """Every finished, non-empty answer with the model that wrote it, in the order stored; with ``stage``, only
    the answers of battles fought in that stage."""
    from .deanon import Authored

    model = case((Answer.side == "a", Battle.model_a), else_=Battle.model_b)
    query = (select(model, Answer.text).join(Battle, Battle.id == Answer.battle_id)
             .where(Answer.finished.is_(True), Answer.text != "").order_by(Battle.id, Answer.side))
    if stage is not None:
        query = query.where(Battle.stage == stage)
    return [Authored(name, text) for name, text in session.execute(query)]


def identity_check(session: Session, *, stage: str | None = None, **options):
    """Whether the stored answers give their model away: :func:`~dokja.arena.deanon.deanon_check` (``options``
    are its own) on :func:`stored_answers`, as a :class:`~dokja.arena.deanon.Deanon`."""
    from .deanon import deanon_check

    answers = stored_answers(session, stage=stage)
    if not answers:
        where = f"stage {stage!r}" if stage is not None else "the store"
        raise ArenaError(f"the identity check found no finished answers in {where}")
    return deanon_check(answers, **options)
