"""The arena's defences against made-up visitors, through the site: new identities budgeted per address and per
subnet (refusals not using the budget up), and a proof of work before a visitor's votes count, each answer
taken once on any worker."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from dokja.arena.budgets import Budget
from dokja.arena.challenge import SCRIPT, leading_zero_bits, solve
from dokja.arena.service import count_votes, open_battle, record_answer
from dokja.arena.web import Limits, create_app
from dokja.arena.web.shared import CountersError, RedisCounters, StoreCounters, Take

COOKIE = "dokja_visitor"
BITS = 6  # a few dozen hashes: the real default is 18
ROOMY = Limits(votes_per_visitor=1000, votes_per_address=1000)


def identities(app, peers: list[str]) -> list[int]:
    """For each request (one per peer address, no cookie), the status of asking for a challenge."""
    async def ask():
        codes = []
        for peer in peers:
            transport = httpx.ASGITransport(app=app, client=(peer, 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://arena") as client:
                response = await client.get("/api/challenge")
                assert bool(response.cookies.get(COOKIE)) == (response.status_code == 200)
                if response.status_code != 200:
                    body = response.json()
                    assert body["error"] == "new_visitors" and body["en"] and body["ko"]
                codes.append(response.status_code)
        return codes
    return asyncio.run(ask())


def test_new_visitors_over_a_subnets_budget_are_refused_while_another_subnet_is_not(sqlite_url, tmp_path):
    app = create_app(sqlite_url, cache=tmp_path, preload=False, new_visitors=Budget(per_address=2, per_subnet=3))
    first = ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]
    # the third from .1 is over its address's budget and does not use up the subnet's: .2 still gets one
    assert identities(app, first) == [200, 200, 429, 200, 429, 429]
    assert identities(app, ["198.51.100.7", "198.51.100.8"]) == [200, 200]
    assert identities(app, ["2001:db8:1:2::1", "2001:db8:1:2::ff", "2001:db8:1:2::abc"]) == [200, 200, 429]  # one /64
    assert identities(app, ["203.0.113.9"]) == [429]  # refusals kept it shut, but did not count


def test_a_page_over_budget_is_served_without_an_identity_and_a_battle_is_refused(sqlite_url, tmp_path):
    app = create_app(sqlite_url, cache=tmp_path, preload=False, new_visitors=Budget(per_address=1, per_subnet=5))
    assert TestClient(app).get("/").cookies.get(COOKIE)
    page = TestClient(app).get("/")
    assert page.status_code == 200 and not page.cookies.get(COOKIE)  # reading costs nothing
    refused = TestClient(app, cookies={COOKIE: "made-up"}).post("/api/battles", json={"prompt": "hello"})
    assert refused.status_code == 429 and refused.json()["error"] == "new_visitors"


@pytest.fixture
def site(store_url, tmp_path):
    app = create_app(store_url, cache=tmp_path, preload=False, limits=ROOMY, pow_bits=BITS)
    yield app
    app.arena.box.close()


def battle_for(app, token: str) -> str:
    with app.arena.sessions.begin() as session:
        key = open_battle(session, token=token, address="testclient", prompt="hello", model_a="model-a",
                          model_b="model-b", probability=1.0).key
        record_answer(session, key, "a", "first answer", tokens=2)
        record_answer(session, key, "b", "second answer", tokens=2)
    return key


def votes(app) -> int:
    with app.arena.sessions() as session:
        return count_votes(session)


def answer(client: TestClient, issued: dict, nonce=None):
    nonce = solve(issued["challenge"], issued["difficulty"]) if nonce is None else nonce
    return client.post("/api/challenge", json={"challenge": issued["challenge"], "nonce": str(nonce)})


def test_a_vote_before_the_proof_of_work_does_not_count_and_after_it_does(site):
    client = TestClient(site)
    issued = client.get("/api/challenge").json()
    assert issued["verified"] is False and issued["difficulty"] == BITS
    token = client.cookies[COOKIE]
    key = battle_for(site, token)
    early = client.post(f"/api/battles/{key}/vote", json={"outcome": "a"})
    assert early.status_code == 403 and early.json()["error"] == "no_proof" and early.json()["ko"]
    assert votes(site) == 0
    assert answer(client, issued).json() == {"verified": True}
    assert client.get("/api/challenge").json() == {"verified": True}
    assert client.post(f"/api/battles/{key}/vote", json={"outcome": "a"}).status_code == 200  # the same battle
    assert votes(site) == 1
    assert client.get("/leaderboard.json").json()["n_votes"] == 1  # and it is in the ratings


def test_forged_replayed_and_short_answers_are_refused(site, store_url, tmp_path):
    client, other = TestClient(site), TestClient(site)
    issued, theirs = client.get("/api/challenge").json(), other.get("/api/challenge").json()
    token = issued["challenge"]
    short = next(n for n in range(1000) if leading_zero_bits(hashlib.sha256(f"{token}{n}".encode()).digest()) < BITS)
    eased = token.replace(f"d1.{BITS}.", "d1.0.", 1)

    def why(response) -> str:
        assert response.status_code == 403 and response.json()["error"] == "bad_proof", response.text
        return response.json()["why"]

    assert "short of" in why(answer(client, issued, short))
    assert "forged" in why(answer(client, {**issued, "challenge": eased}, 0))
    assert "another visitor" in why(answer(client, theirs))  # someone else's work does not prove this visitor
    assert answer(client, issued).status_code == 200
    assert "answered already" in why(answer(client, issued))
    second = create_app(store_url, cache=tmp_path, preload=False, limits=ROOMY, pow_bits=BITS)  # another worker
    assert "answered already" in why(answer(TestClient(second, cookies={COOKIE: client.cookies[COOKIE]}), issued))
    second.arena.box.close()
    assert client.post("/api/challenge", json=["not", "an", "answer"]).status_code == 400
    assert TestClient(site).post("/api/challenge", json={"challenge": token, "nonce": "1"}).status_code == 401
    key = battle_for(site, other.cookies[COOKIE])
    assert other.post(f"/api/battles/{key}/vote", json={"outcome": "b"}).json()["error"] == "no_proof"


def test_without_a_proof_of_work_every_visitor_counts(sqlite_url, tmp_path):
    app = create_app(sqlite_url, cache=tmp_path, preload=False, limits=ROOMY)
    client = TestClient(app)
    assert client.get("/api/challenge").json() == {"verified": True}
    key = battle_for(app, client.cookies[COOKIE])
    assert client.post(f"/api/battles/{key}/vote", json={"outcome": "tie"}).status_code == 200
    app.arena.box.close()


def test_the_page_runs_the_solver_as_a_same_origin_script(sqlite_url, tmp_path):
    client = TestClient(create_app(sqlite_url, cache=tmp_path, preload=False, pow_bits=BITS))
    script = client.get("/challenge.js")
    assert script.text == SCRIPT and script.headers["content-type"].startswith("text/javascript")
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.text.index('src="/challenge.js"') < page.text.index('src="/static/arena.js"')


def test_a_refused_event_is_given_back_to_its_budget(sqlite_url, tmp_path):
    counters = StoreCounters(create_app(sqlite_url, cache=tmp_path, preload=False).arena.engine)
    take = Take("new_visitors_subnet", "192.0.2.0/24", 1, 60.0)
    assert counters.take([take], now=0.0) == [True] and counters.take([take], now=1.0) == [False]
    counters.give_back([take], now=2.0)
    assert counters.count(take, now=3.0) == 1
    counters.give_back([take], now=100.0)  # a closed window is not brought back
    assert counters.count(take, now=100.0) == 0


def test_redis_counters_give_back_without_bringing_a_key_back():
    try:
        counters = RedisCounters("redis://127.0.0.1:6379/0")
    except CountersError as exc:
        pytest.skip(str(exc))
    take = Take("new_visitors_subnet", f"test-{uuid.uuid4().hex}", 1, 60.0)
    assert counters.take([take]) == [True] and counters.take([take]) == [False]
    counters.give_back([take])
    assert counters.count(take) == 1
    counters.client.delete(counters._name(take))  # the window closed
    counters.give_back([take])
    assert counters.client.get(counters._name(take)) is None
