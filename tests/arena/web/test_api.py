"""The arena's HTTP rules, against the real app and a real SQLite store.

Battles are opened and answered through the service layer here (the browser test drives real
models); every vote goes through the site.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, update

from dokja.arena.service import open_battle, record_answer
from dokja.arena.tables import Answer, Battle, Vote, utcnow
from dokja.arena.web import Limits, create_app

COOKIE = "dokja_visitor"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('arena') / 'arena.db'}"
    app = create_app(url, limits=Limits(votes_per_visitor=1000, votes_per_address=100_000), preload=False,
                     flood_limit=3)
    with TestClient(app) as client:
        client.get("/")
        yield app, client


def battle_for(app, token: str, *, finished: bool = True, a: str = "model-a", b: str = "model-b",
               text_a: str = "first answer", text_b: str = "second answer") -> str:
    with app.arena.sessions.begin() as session:
        key = open_battle(session, token=token, address="testclient", prompt="hello", model_a=a, model_b=b,
                          probability=1.0).key
        if finished:
            record_answer(session, key, "a", text_a, tokens=2)
            record_answer(session, key, "b", text_b, tokens=2)
            session.execute(update(Answer).where(Answer.battle_id == select(Battle.id).where(Battle.key == key)
                                                 .scalar_subquery())
                            .values(finished_at=utcnow() - dt.timedelta(seconds=60)))  # read before voting
    return key


def test_a_page_visit_gives_a_session_cookie(site):
    _, client = site
    assert client.cookies.get(COOKIE)


def test_vote_reveals_and_a_double_vote_is_refused(site):
    app, client = site
    key = battle_for(app, client.cookies[COOKIE])
    first = client.post(f"/api/battles/{key}/vote", json={"outcome": "b"})
    assert first.status_code == 200
    assert {first.json()["a"]["model"], first.json()["b"]["model"]} == {"model-a", "model-b"}
    again = client.post(f"/api/battles/{key}/vote", json={"outcome": "a"})
    assert again.status_code == 409 and again.json()["error"] == "already_voted"
    assert again.json()["ko"]


def test_unknown_battle_is_404(site):
    _, client = site
    response = client.post("/api/battles/0123456789abcdef0123456789abcdef/vote", json={"outcome": "a"})
    assert response.status_code == 404 and response.json()["error"] == "unknown"


def test_vote_before_both_answers_finished_is_refused(site):
    app, client = site
    key = battle_for(app, client.cookies[COOKIE], finished=False)
    with app.arena.sessions.begin() as session:
        record_answer(session, key, "a", "done", tokens=1)
    response = client.post(f"/api/battles/{key}/vote", json={"outcome": "a"})
    assert response.status_code == 409 and response.json()["error"] == "not_finished"


def test_another_visitors_battle_and_a_bad_outcome_are_refused(site):
    app, client = site
    key = battle_for(app, "someone-else")
    assert client.post(f"/api/battles/{key}/vote", json={"outcome": "a"}).status_code == 403
    mine = battle_for(app, client.cookies[COOKIE])
    assert client.post(f"/api/battles/{mine}/vote", json={"outcome": "both"}).status_code == 422
    assert client.post(f"/api/battles/{mine}/vote", content=b"not json").status_code == 400


def test_oversized_and_empty_prompts_are_refused_with_bilingual_messages(site):
    _, client = site
    big = client.post("/api/battles", json={"prompt": "x" * 2001})
    assert big.status_code == 413
    assert "2000" in big.json()["en"] and "2000자" in big.json()["ko"]
    huge = client.post("/api/battles", content=b'{"prompt": "' + b"y" * 200_000 + b'"}',
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413
    assert client.post("/api/battles", json={"prompt": "   "}).status_code == 422


def test_no_session_no_vote(site):
    app, _ = site
    fresh = TestClient(app)  # no cookie yet; the app's lifespan stays with the module's client
    response = fresh.post("/api/battles/abc/vote", json={"outcome": "a"})
    assert response.status_code == 401


def test_html_in_answers_and_names_is_escaped(site):
    app, client = site
    evil = "<script>window.pwned=1</script>"
    key = battle_for(app, client.cookies[COOKIE], a=f"<b>{evil}</b>", b="model-c", text_a=evil, text_b=evil)
    assert client.post(f"/api/battles/{key}/vote", json={"outcome": "a"}).status_code == 200
    page = client.get("/leaderboard").text
    assert evil not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    replay = client.get(f"/api/battles/{key}/stream").text  # a finished battle replays from the store
    assert '"text": "<script>' in replay and "event: end" in replay


def test_flood_of_one_prompt_is_refused(site):
    _, client = site
    codes = [client.post("/api/battles", json={"prompt": "Same Prompt!"}).json()["error"] for _ in range(3)]
    assert codes == ["no_models"] * 3  # no models in this store: the prompt gets that far
    other = TestClient(site[0])
    other.get("/")
    refused = other.post("/api/battles", json={"prompt": "same prompt"})
    assert refused.status_code == 429 and refused.json()["error"] == "flood"


def test_rate_limits_per_visitor(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", limits=Limits(votes_per_visitor=3, prompts_per_visitor=2),
                     preload=False)
    with TestClient(app) as client:
        client.get("/")
        token = client.cookies[COOKIE]
        keys = [battle_for(app, token) for _ in range(4)]
        codes = [client.post(f"/api/battles/{k}/vote", json={"outcome": "tie"}).status_code for k in keys]
        assert codes == [200, 200, 200, 429]
        prompts = [client.post("/api/battles", json={"prompt": f"q{i}"}).status_code for i in range(3)]
        assert prompts[-1] == 429
        assert client.post("/api/battles", json={"prompt": "q9"}).json()["ko"]


def test_every_acknowledged_vote_is_in_the_store(store_url):
    """Many concurrent votes through the group-commit writer: the store holds exactly the acknowledged ones
    (SQLite, and PostgreSQL when a server answers)."""
    url = store_url
    app = create_app(url, limits=Limits(votes_per_visitor=10_000, votes_per_address=10_000), preload=False)
    token = app.arena.visitors.issue()  # a token the server signed (a made-up one is no visitor)
    keys = [battle_for(app, token) for _ in range(300)]

    async def cast_all():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://arena", cookies={COOKIE: token}) as c:
            votes = [c.post(f"/api/battles/{k}/vote", json={"outcome": "ab"[i % 2]}) for i, k in enumerate(keys)]
            votes += [c.post(f"/api/battles/{k}/vote", json={"outcome": "a"}) for k in keys[:50]]
            return [r.status_code for r in await asyncio.gather(*votes)]

    codes = asyncio.run(cast_all())
    assert codes.count(200) == 300 and codes.count(409) == 50
    assert app.arena.box.batches < 350  # ballots shared commits
    app.arena.box.close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Vote)).scalar_one() == 300
    engine.dispose()


def test_leaderboard_and_export_agree_exactly(site, tmp_path):
    from dokja.arena.export import read_votes
    from dokja.arena.leaderboard import compute_leaderboard, leaderboard_json

    app, client = site
    token = client.cookies[COOKIE]
    for k in range(12):
        key = battle_for(app, token, a=["m1", "m2", "m3"][k % 3], b=["m2", "m3", "m1"][k % 3])
        client.post(f"/api/battles/{key}/vote", json={"outcome": ["a", "b", "tie"][k % 4 % 3]})
    published = client.get("/leaderboard.json").json()
    assert published["n_votes"] >= 12
    for suffix in ("csv", "jsonl"):
        path = tmp_path / f"votes.{suffix}"
        path.write_text(client.get(f"/votes.{suffix}").text, encoding="utf-8")
        recomputed = json.loads(json.dumps(leaderboard_json(compute_leaderboard(read_votes(path)))))
        assert recomputed == published
    for query in ("view=en", "style=true", "ties=davidson", "view=coding&style=true"):
        assert client.get(f"/leaderboard?{query}").status_code == 200, query
    assert client.get("/leaderboard.json?ties=davidson").json()["ties"] == "davidson"
    assert client.get("/leaderboard.json?interval=thirds").status_code == 422
    assert client.get("/leaderboard?view=nope").status_code == 422



def test_votes_of_a_visitor_voting_unreadably_fast_are_kept_but_not_counted(tmp_path):
    from dokja.arena.service import votes_from_store

    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False)
    client = TestClient(app)
    client.get("/")
    token = client.cookies[COOKIE]
    keys = []
    for k in range(12):
        with app.arena.sessions.begin() as session:
            key = open_battle(session, token=token, address="x", prompt="p", model_a="m1", model_b="m2",
                              probability=1.0).key
            record_answer(session, key, "a", "one", tokens=1)
            record_answer(session, key, "b", "two", tokens=1)
        keys.append(key)
        assert client.post(f"/api/battles/{key}/vote", json={"outcome": "ab"[k % 2]}).status_code == 200
    board = client.get("/leaderboard.json").json()
    assert board["n_votes"] == 0 and board["n_excluded"] == 12
    with app.arena.sessions.begin() as session:
        records = votes_from_store(session)
    assert len(records) == 12 and all(r.flagged for r in records)
    assert "votes counted, 12 left out" in client.get("/leaderboard").text
    app.arena.box.close()


def test_the_leaderboard_publishes_each_rating_with_the_flagged_votes_too(tmp_path):
    """The counted rating and, beside it, the rating the flagged votes would have given, with their count."""
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False)

    def vote(client, outcomes):
        client.get("/")
        token = client.cookies[COOKIE]
        for outcome in outcomes:
            with app.arena.sessions.begin() as session:
                key = open_battle(session, token=token, address="x", prompt="p", model_a="m1", model_b="m2",
                                  probability=1.0).key
                record_answer(session, key, "a", "one", tokens=1)
                record_answer(session, key, "b", "two", tokens=1)
            assert client.post(f"/api/battles/{key}/vote", json={"outcome": outcome}).status_code == 200

    vote(TestClient(app), "a" * 12)  # unreadably fast, always m1: flagged
    vote(TestClient(app), "abab")  # too few to test: counted
    page = TestClient(app).get("/leaderboard").text
    assert "With flagged votes" in page and page.count('class="with-flagged"') == 2 and "(12 " in page
    app.arena.box.close()


def test_a_vote_the_store_cannot_take_is_refused_with_503_not_counted(tmp_path):
    """The database failing under the ballot box (here its vote table is gone) is a 503 with a bilingual line."""
    from sqlalchemy import text

    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False)
    client = TestClient(app)
    client.get("/")
    with app.arena.sessions.begin() as session:
        key = open_battle(session, token=client.cookies[COOKIE], address="x", prompt="p", model_a="m1",
                          model_b="m2", probability=1.0).key
        record_answer(session, key, "a", "one", tokens=1)
        record_answer(session, key, "b", "two", tokens=1)
        session.execute(text("DROP TABLE arena_vote"))
    answer = client.post(f"/api/battles/{key}/vote", json={"outcome": "a"})
    assert answer.status_code == 503 and "not counted" in answer.json()["en"] and answer.json()["ko"]
    app.arena.box.close()
