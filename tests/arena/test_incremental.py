"""The store's running counts: cells and tallies equal a recount of the votes after any sequence of votes and
refreshes, the flags refreshed from them equal the tests run over every vote, and the leaderboard fitted from
them equals the one fitted from the votes (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, update

from dokja.arena.cells import fixed
from dokja.arena.honesty import client_net, flag_all, unit_counts
from dokja.arena.leaderboard import compute_leaderboard, flag_effects, leaderboard_json
from dokja.arena.service import (Ballot, board_counts, cast_votes, open_battle, record_answer, refresh_flags,
                                 vote_rows, votes_from_store)
from dokja.arena.tables import Answer, Battle, Cell, Tally, Unit, Visitor, Vote, utcnow
from dokja.arena.web import create_app
from dokja.store import open_store
from dokja.store.db import MIGRATIONS

MODELS = ["hanbit-ko-1.0", "dasan-ko-0.2", "nuri-ko-0.5", "saebyeok-ko-0.3", "mirae-135m-ko"]
THETA = np.linspace(1.0, -1.0, len(MODELS))  # hanbit strongest, mirae weakest
WEIGHTS = [1.0, 0.8, 1.25, 1 / (0.15 * 10)]


def ready_battle(session, token, address, a, b, *, read_s, weight=1.0, stage="s1", category="general",
                 language="ko", reveal=False) -> str:
    """A battle whose two answers finished ``read_s`` seconds ago, ready for its vote."""
    key = open_battle(session, token=token, address=address, prompt="질문", model_a=a, model_b=b, probability=0.1,
                      weight=weight, category=category, language=language, stage=stage).key
    record_answer(session, key, "a", "I am hanbit" if reveal else "one", tokens=1, reveals_identity=reveal)
    record_answer(session, key, "b", "two", tokens=1)
    battle_id = session.scalar(select(Battle.id).where(Battle.key == key))
    session.execute(update(Answer).where(Answer.battle_id == battle_id)
                    .values(finished_at=utcnow() - dt.timedelta(seconds=read_s)))
    return key


def honest_outcome(rng, a: int, b: int) -> str:
    p = 1 / (1 + np.exp(THETA[b] - THETA[a]))
    u = rng.random()
    return "a" if u < 0.85 * p else "b" if u < 0.85 else "tie" if u < 0.95 else "both_bad"


def events(rng) -> list[tuple]:
    """(token, address, model a, model b, outcome, seconds to read) per vote, in the order cast: honest visitors,
    one voting too fast at first and at reading speed later, one always for the left side, and one-vote sock
    puppets from one network, all for the weakest model."""
    out = []
    for k in range(24):
        for _ in range(14):
            a, b = rng.choice(len(MODELS), 2, replace=False)
            out.append((f"honest-{k}", f"198.51.{k}.9", a, b, honest_outcome(rng, a, b), 12.0))
    for k in range(30):
        a, b = rng.choice(len(MODELS), 2, replace=False)
        out.append(("lefty", "192.0.2.77", a, b, "a", 10.0))
    rng.shuffle(out)
    hasty = [("hasty", "2001:db8:5::1", *rng.choice(len(MODELS), 2, replace=False)) for _ in range(44)]
    hasty = [(t, ip, a, b, honest_outcome(rng, a, b), 0.0 if k < 12 else 15.0) for k, (t, ip, a, b) in enumerate(hasty)]
    socks = []
    for k in range(16):
        for _ in range(2):
            rival = int(rng.integers(0, len(MODELS) - 1))
            a, b = (len(MODELS) - 1, rival) if rng.random() < 0.5 else (rival, len(MODELS) - 1)
            socks.append((f"sock-{k}", f"203.0.113.{k + 1}", a, b, "a" if a == len(MODELS) - 1 else "b", 9.0))
    third = len(out) // 3
    return hasty[:12] + out[:third] + socks + out[third:] + hasty[12:]


def cast(sessions, batch, rng) -> None:
    with sessions.begin() as session:
        ballots = []
        for k, (token, address, a, b, outcome, read_s) in enumerate(batch):
            key = ready_battle(session, token, address, MODELS[a], MODELS[b], read_s=read_s,
                               weight=float(rng.choice(WEIGHTS)), stage="s1" if rng.random() < 0.6 else "s2",
                               category=str(rng.choice(["general", "coding", "math"])),
                               language=str(rng.choice(["ko", "en"])), reveal=rng.random() < 0.03)
            ballots.append(Ballot(key, token, outcome))
        assert {v.status for v in cast_votes(session.connection(), ballots)} == {"ok"}


def recount(session) -> tuple[dict, dict, dict]:
    """Cells, tallies and unit sizes counted afresh from the votes, as the full recomputation reads them."""
    rows = vote_rows(session)
    cells: dict = {}
    for r in rows:
        key = (r["stage"], r["model_a"], r["model_b"], r["outcome"], r["category"], r["language"], r["flagged"],
               r["reveals_identity"])
        sums = cells.setdefault(key, [0, 0, 0])
        sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + fixed(r["weight"]), sums[2] + fixed(r["weight"] ** 2)
    tallies, sizes = {}, {}
    for prefix, unit in (("v", None), ("n", lambda r: client_net(r["address"]))):
        for c in unit_counts(rows, unit=unit):
            tallies[f"{prefix}:{c.unit}", c.model_a, c.model_b, c.outcome, c.quick] = c.n
            sizes[f"{prefix}:{c.unit}"] = sizes.get(f"{prefix}:{c.unit}", 0) + c.n
    return {k: tuple(v) for k, v in cells.items()}, tallies, sizes


def stored(session) -> tuple[dict, dict, dict]:
    cells = {}
    for row in session.scalars(select(Cell)):
        if row.n == 0:
            assert row.w == row.w2 == 0  # a cell all of whose votes moved away is empty, not off by a weight
            continue
        cells[row.stage, row.model_a, row.model_b, row.outcome, row.category, row.language, row.flagged,
              row.reveals_identity] = (row.n, row.w, row.w2)
    tallies = {(t.unit, t.model_a, t.model_b, t.outcome, t.quick): t.n for t in session.scalars(select(Tally))}
    return cells, tallies, {u.unit: u.n for u in session.scalars(select(Unit))}


def stored_flags(session) -> dict[int, list[str]]:
    """Visitor → reasons, from the votes; every vote of a visitor carries the same flag."""
    by_visitor: dict[int, set] = {}
    for visitor, flagged, reasons in session.execute(select(Vote.visitor_id, Vote.flagged, Vote.reasons)):
        by_visitor.setdefault(visitor, set()).add((flagged, tuple(reasons)))
    assert all(len(s) == 1 for s in by_visitor.values()), by_visitor
    return {v: list(next(iter(s))[1]) for v, s in by_visitor.items() if next(iter(s))[0]}


def visitor_of(session, token: str) -> int:
    return session.scalar(select(Visitor.id).where(Visitor.token == token))


def test_counts_and_flags_kept_as_votes_come_equal_a_recount_and_the_full_tests(store_url):
    sessions = open_store(store_url)
    rng = np.random.default_rng(5)
    seen = events(rng)
    hasty_flagged, start = [], 0
    while start < len(seen):
        size = int(rng.integers(5, 60))
        cast(sessions, seen[start:start + size], rng)
        start += size
        with sessions.begin() as session:
            assert stored(session) == recount(session)
            if rng.random() < 0.5 or start >= len(seen):
                count = refresh_flags(session)
                flags, rows = stored_flags(session), vote_rows(session)
                assert flags == flag_all(rows)
                assert count == sum(r["visitor"] in flags for r in rows)
                assert stored(session) == recount(session)  # the flagged votes' counts moved with them
                hasty_flagged.append(visitor_of(session, "hasty") in flags)
    with sessions.begin() as session:
        flags = stored_flags(session)
        assert visitor_of(session, "lefty") in flags
        assert all(any(r.startswith("subnet 203.0.113.0/24") for r in flags[visitor_of(session, f"sock-{k}")])
                   for k in range(16))
    assert True in hasty_flagged and hasty_flagged[-1] is False  # flagged while too fast, cleared once it read


def test_the_leaderboard_from_the_counts_equals_the_one_from_the_votes(store_url):
    sessions = open_store(store_url)
    rng = np.random.default_rng(8)
    cast(sessions, events(rng)[:400], rng)
    with sessions.begin() as session:
        refresh_flags(session)
        counts, votes = board_counts(session), votes_from_store(session, refresh=False)
        early = board_counts(session, stage="s1"), votes_from_store(session, refresh=False, stage="s1")
    assert any(v.flagged for v in votes) and any(v.reveals_identity for v in votes)
    assert sum(c.n for c in counts) == len(votes) == 400
    for options in ({}, {"category": "ko"}, {"category": "coding"}, {"ties": "davidson"},
                    {"interval": "bootstrap", "rounds": 20}, {"anchor": MODELS[0]}, {"convention": "arena-ridge"}):
        assert leaderboard_json(compute_leaderboard(counts, **options)) == \
            leaderboard_json(compute_leaderboard(votes, **options)), options
    assert leaderboard_json(compute_leaderboard(early[0])) == leaderboard_json(compute_leaderboard(early[1]))
    by_counts, by_votes = flag_effects(counts), flag_effects(votes)
    assert [(e.model, e.flagged) for e in by_counts] == [(e.model, e.flagged) for e in by_votes]
    assert any(e.flagged for e in by_counts)
    for x, y in zip(by_counts, by_votes):
        assert abs(x.counted - y.counted) < 1e-9 and abs(x.with_flagged - y.with_flagged) < 1e-9


def test_the_site_publishes_the_counts_board_and_the_flagged_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    sessions = open_store(url)
    rng = np.random.default_rng(9)
    cast(sessions, events(rng)[:200], rng)
    app = create_app(url, cache=tmp_path, preload=False)
    client = TestClient(app)
    published = client.get("/leaderboard.json?view=en&ties=davidson").json()
    page = client.get("/leaderboard").text
    app.arena.box.close()
    with sessions.begin() as session:
        votes = votes_from_store(session, refresh=False)
    assert any(v.flagged for v in votes)  # the site's refresh flagged them
    assert published == leaderboard_json(compute_leaderboard(votes, category="en", ties="davidson"))
    assert "With flagged votes" in page and "이상 투표 포함 시" in page


def migrate_to(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_a_store_of_the_previous_release_migrates_with_its_counts(store_url):
    """Votes stored before the counts existed (some flagged by the old full refresh, some answers without a finish
    time) are counted by the migration as a recount would, and the next refresh carries on from there."""
    migrate_to(store_url, "0013")
    engine = create_engine(store_url)
    rng = np.random.default_rng(3)
    start = dt.datetime(2025, 12, 1, 10, 0, 0)
    visitors = [(1, "tok-hasty", "198.51.100.4"), (2, "tok-old-flag", "198.51.99.5"), (3, "tok-local", "127.0.0.1"),
                (4, "tok-v6", "2001:db8:1::9")]
    with engine.begin() as conn:
        conn.execute(insert(Visitor.__table__), [{"id": i, "token": t, "address": a} for i, t, a in visitors])
        for k in range(60):
            visitor = [1, 2, 3, 4][k % 4] if k < 48 else 1
            a, b = rng.choice(len(MODELS), 2, replace=False)
            opened = start + dt.timedelta(minutes=k)
            done = None if k % 7 == 0 else opened + dt.timedelta(seconds=20)
            voted = (done or opened) + dt.timedelta(seconds=1 if visitor == 1 else 30)
            conn.execute(insert(Battle.__table__).values(
                id=k + 1, key=f"k{k}", visitor_id=visitor, prompt="질문", model_a=MODELS[a], model_b=MODELS[b],
                probability=0.1, weight=float(rng.choice(WEIGHTS)), category=["general", "coding"][k % 2],
                language="ko", stage=["s1", "s2"][k % 3 == 0], created_at=opened))
            conn.execute(insert(Answer.__table__), [
                {"battle_id": k + 1, "side": "a", "text": "one", "finished": True, "tokens": 1,
                 "reveals_identity": k == 5, "finished_at": done},
                {"battle_id": k + 1, "side": "b", "text": "two", "finished": True, "tokens": 1,
                 "reveals_identity": False, "finished_at": done}])
            flagged = visitor in (1, 2) and k < 40  # as the old release left them: its last refresh was at vote 40
            conn.execute(insert(Vote.__table__).values(
                battle_id=k + 1, visitor_id=visitor, outcome=honest_outcome(rng, a, b), created_at=voted,
                flagged=flagged, reasons=["too fast: an earlier release's words"] if flagged else []))
    engine.dispose()

    sessions = open_store(store_url)  # migrates to head, back-filling the counts
    with sessions.begin() as session:
        assert stored(session) == recount(session)
        assert {u.unit for u in session.scalars(select(Unit).where(Unit.flagged.is_(True)))} == {"v:1", "v:2"}
        refresh_flags(session)
        flags = stored_flags(session)
        assert flags == flag_all(vote_rows(session))
        assert list(flags) == [1] and flags[1][0].startswith("too fast: 24 of 24 votes")
        assert stored(session) == recount(session)
