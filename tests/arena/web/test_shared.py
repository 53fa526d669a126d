"""Several workers over one store: rate limits, floods and new visitors counted together, through the store or
Redis, and kept across a restart; one vote per battle held by the database, whichever worker takes it."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dokja.arena.service import open_battle, record_answer
from dokja.arena.tables import Vote
from dokja.arena.web import Limits, create_app
from dokja.arena.web.shared import RedisCounters, StoreCounters, Take

COOKIE = "dokja_visitor"
REDIS_URL = "redis://127.0.0.1:6379/0"
TIGHT = Limits(votes_per_visitor=2, votes_per_address=1000, prompts_per_visitor=1000, prompts_per_address=1000)


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    return REDIS_URL


def workers(url: str, cache, n: int = 2, **options) -> list:
    """``n`` app instances over one store, as `dokja serve --workers n` runs them."""
    return [create_app(url, cache=cache, preload=False, **options) for _ in range(n)]


def battle_for(app, token: str) -> str:
    """A battle of ``token``'s visitor with both answers finished (the answers' models stand in)."""
    with app.arena.sessions.begin() as session:
        key = open_battle(session, token=token, address="testclient", prompt="hello", model_a="model-a",
                          model_b="model-b", probability=1.0).key
        record_answer(session, key, "a", "first answer", tokens=2)
        record_answer(session, key, "b", "second answer", tokens=2)
    return key


def vote(app, token: str, key: str) -> int:
    return TestClient(app, cookies={COOKIE: token}).post(f"/api/battles/{key}/vote", json={"outcome": "a"}).status_code


def test_a_vote_limit_hit_on_one_worker_holds_on_another(store_url, tmp_path):
    first, second = workers(store_url, tmp_path, limits=TIGHT)
    token = first.arena.visitors.issue()
    assert second.arena.visitors.valid(token)  # one secret: a visitor of one worker is a visitor of all
    keys = [battle_for(first, token) for _ in range(3)]
    assert [vote(first, token, keys[0]), vote(second, token, keys[1]), vote(second, token, keys[2])] == [200, 200, 429]
    other = second.arena.visitors.issue()
    assert vote(first, other, battle_for(first, other)) == 200  # another visitor has their own allowance


def test_a_prompt_flood_and_new_visitors_are_counted_across_workers(sqlite_url, tmp_path):
    first, second = workers(sqlite_url, tmp_path, flood_limit=2,
                            limits=Limits(new_visitors_per_address=3, prompts_per_visitor=1000))
    errors = [TestClient(app, cookies={COOKIE: app.arena.visitors.issue()}).post(
        "/api/battles", json={"prompt": "One Prompt"}).json()["error"] for app in (first, second, first)]
    assert errors == ["no_models", "no_models", "flood"]  # no models here: the first two got that far
    fresh = [bool(TestClient(app).get("/").cookies.get(COOKIE)) for app in (first, second, first, second)]
    assert fresh == [True, True, True, False]


def test_counters_survive_a_restart(sqlite_url, tmp_path):
    before, = workers(sqlite_url, tmp_path, n=1, limits=TIGHT)
    token = before.arena.visitors.issue()
    keys = [battle_for(before, token) for _ in range(3)]
    assert [vote(before, token, k) for k in keys[:2]] == [200, 200]
    before.arena.box.close()
    after, = workers(sqlite_url, tmp_path, n=1, limits=TIGHT)  # a new process over the same store
    assert vote(after, token, keys[2]) == 429


def test_a_limit_hit_on_one_worker_holds_on_another_over_redis(sqlite_url, tmp_path, redis_url):
    first, second = workers(sqlite_url, tmp_path, limits=TIGHT, redis_url=redis_url)
    token = first.arena.visitors.issue()
    keys = [battle_for(first, token) for _ in range(3)]
    assert [vote(first, token, keys[0]), vote(second, token, keys[1]), vote(second, token, keys[2])] == [200, 200, 429]
    third, = workers(sqlite_url, tmp_path, n=1, limits=TIGHT, redis_url=redis_url)  # restarted: Redis remembers
    assert vote(third, token, battle_for(third, token)) == 429


def test_a_bad_redis_url_is_one_line():
    from dokja.arena.web.shared import CountersError

    with pytest.raises(CountersError, match="cannot reach Redis"):
        RedisCounters("redis://127.0.0.1:1/0")


def test_concurrent_takes_let_exactly_the_limit_through(store_url, tmp_path):
    """The count is the database's, not a process's: 8 threads × 25 takes of one key, 50 allowed."""
    from dokja.store import open_store

    counters = StoreCounters(open_store(store_url).kw["bind"])
    take, allowed, lock = Take("votes_per_visitor", uuid.uuid4().hex, 50, 60.0), [], threading.Lock()

    def knock():
        got = [counters.take([take])[0] for _ in range(25)]
        with lock:
            allowed.extend(got)

    threads = [threading.Thread(target=knock) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 50 and counters.count(take) == 200


def test_a_window_opens_with_its_first_event_and_closes_after_its_length(sqlite_url):
    from dokja.store import open_store

    counters = StoreCounters(open_store(sqlite_url).kw["bind"])
    take = Take("votes_per_visitor", "v", 2, 60.0)
    assert [counters.take([take], now=1000.0 + t)[0] for t in (0, 30, 59)] == [True, True, False]
    assert counters.take([take], now=1060.0) == [True]  # a new window, opened at 1060
    assert counters.count(take, now=1100.0) == 1 and counters.count(take, now=1121.0) == 0


def test_redis_counts_like_the_store(redis_url):
    counters = RedisCounters(redis_url)
    take = Take("votes_per_visitor", uuid.uuid4().hex, 2, 60.0)
    assert [counters.take([take])[0] for _ in range(3)] == [True, True, False] and counters.count(take) == 3


def test_one_vote_per_battle_whichever_worker_takes_it(store_url, tmp_path):
    """Two ballot boxes (two workers' writers) race for the same battles: the unique constraint decides."""
    roomy = Limits(votes_per_visitor=10_000, votes_per_address=10_000)
    first, second = workers(store_url, tmp_path, limits=roomy)
    token = first.arena.visitors.issue()
    keys = [battle_for(first, token) for _ in range(40)]

    async def race():
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://arena",
                                     cookies={COOKIE: token}) for app in (first, second)]
        votes = [c.post(f"/api/battles/{k}/vote", json={"outcome": "a"}) for k in keys for c in clients]
        codes = [r.status_code for r in await asyncio.gather(*votes)]
        for c in clients:
            await c.aclose()
        return codes

    codes = asyncio.run(race())
    assert codes.count(200) == 40 and codes.count(409) == 40
    with first.arena.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 40
    for app in (first, second):
        app.arena.box.close()
