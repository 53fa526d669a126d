"""The arena's defences, against the real app and a real SQLite store: well-formed text only, bodies capped while
they stream, battles readable only by their visitor, security headers, signed visitor tokens, a bounded
generation pool and client addresses behind trusted proxies."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dokja.arena.contenders import Contender
from dokja.arena.service import open_battle, record_answer
from dokja.arena.tables import Answer, Battle, utcnow
from dokja.arena.web import Limits, create_app
from dokja.arena.web.guard import client_address, networks
from dokja.arena.web.live import Busy

COOKIE = "dokja_visitor"

ROOMY = Limits(prompts_per_visitor=1000, prompts_per_address=1000, votes_per_visitor=1000, votes_per_address=1000)


@pytest.fixture
def site(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'arena.db'}", limits=ROOMY, preload=False, flood_limit=1000)
    with TestClient(app) as client:
        client.get("/")
        yield app, client


def post_raw(client, body: bytes):
    return client.post("/api/battles", content=body, headers={"content-type": "application/json"})


def battle_for(app, token: str, *, a: str = "model-a", b: str = "model-b") -> str:
    """A battle with both answers finished a minute ago (read before voting), opened through the service layer."""
    with app.arena.sessions.begin() as session:
        key = open_battle(session, token=token, address="testclient", prompt="hello", model_a=a, model_b=b,
                          probability=1.0).key
        record_answer(session, key, "a", "first answer", tokens=2)
        record_answer(session, key, "b", "second answer", tokens=2)
        battle_id = select(Battle.id).where(Battle.key == key).scalar_subquery()
        session.execute(update(Answer).where(Answer.battle_id == battle_id)
                        .values(finished_at=utcnow() - dt.timedelta(seconds=60)))
    return key


# 3. text


@pytest.mark.parametrize("body", [rb'{"prompt": "\ud800 x"}', rb'{"prompt": "a\u0000b"}', rb'{"prompt": "bell\u0007"}',
                                  rb'{"prompt": "x\udfff"}', rb'{"prompt": "esc\u001b[31m"}'])
def test_unstorable_text_is_a_422_with_one_line(site, body):
    _, client = site
    response = post_raw(client, body)
    assert response.status_code == 422 and response.json()["error"] == "bad_text"
    assert "\n" not in response.text and response.json()["ko"]


@pytest.mark.parametrize("body", [b'{"prompt": {"text": "hi"}}', b'{"prompt": ["hi"]}', b'{"prompt": 5}'])
def test_a_prompt_that_is_not_a_string_is_refused(site, body):
    _, client = site
    response = post_raw(client, body)
    assert response.status_code == 422 and response.json()["error"] == "not_text"


def test_a_body_that_is_not_an_object_is_a_400_and_newlines_and_tabs_pass(site):
    _, client = site
    assert post_raw(client, b'["prompt"]').status_code == 400
    assert post_raw(client, b'"prompt"').status_code == 400
    fine = client.post("/api/battles", json={"prompt": "line one\n\tline two"})
    assert fine.json()["error"] == "no_models"  # past every check on the text


# 2. bodies capped while they stream


@pytest.fixture
def live_server(tmp_path):
    """`create_app` under uvicorn on a loopback port, in a thread."""
    app = create_app(f"sqlite:///{tmp_path / 'arena.db'}", limits=ROOMY, preload=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield app, port
    server.should_exit = True
    thread.join(timeout=10)


def test_a_chunked_body_is_refused_before_it_ends(live_server):
    """The body never ends: a server that reads it whole before the 413 would never answer."""
    app, port = live_server
    token = httpx.get(f"http://127.0.0.1:{port}/").cookies[COOKIE]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"POST /api/battles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Cookie: {COOKIE}={token}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b'{"prompt": "' + b"y" * 8000
        for _ in range(8):  # 64 kB, twice the cap, and no closing chunk
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            chunk = b"y" * 8000
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_a_vote_body_is_capped_too(live_server):
    _, port = live_server
    token = httpx.get(f"http://127.0.0.1:{port}/").cookies[COOKIE]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"POST /api/battles/abc/vote HTTP/1.1\r\nHost: x\r\nCookie: {COOKIE}={token}\r\n"
                     f"Transfer-Encoding: chunked\r\n\r\n".encode())
        conn.sendall(b"2000\r\n" + b"z" * 0x2000 + b"\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 413")


# 4. a battle's answers are its visitor's; the export names no battle key


def test_only_the_battles_visitor_may_read_its_stream(site):
    app, client = site
    key = battle_for(app, client.cookies[COOKIE])
    assert "event: end" in client.get(f"/api/battles/{key}/stream").text
    stranger = TestClient(app)
    assert stranger.get(f"/api/battles/{key}/stream").status_code == 403
    stranger.get("/")
    assert stranger.get(f"/api/battles/{key}/stream").json()["error"] == "not_yours"
    forged = TestClient(app, cookies={COOKIE: client.cookies[COOKIE].split(".")[0] + ".x"})
    assert forged.get(f"/api/battles/{key}/stream").status_code == 403
    assert client.get("/api/battles/0123456789abcdef0123456789abcdef/stream").status_code == 404


def test_the_public_export_holds_no_battle_key(site, tmp_path):
    from dokja.arena.export import read_votes

    app, client = site
    keys = [battle_for(app, client.cookies[COOKIE], a="m1", b="m2") for _ in range(3)]
    for key in keys:
        assert client.post(f"/api/battles/{key}/vote", json={"outcome": "a"}).status_code == 200
    for suffix in ("csv", "jsonl"):
        text = client.get(f"/votes.{suffix}").text
        assert not any(key in text for key in keys)
        path = tmp_path / f"votes.{suffix}"
        path.write_text(text, encoding="utf-8")
        ids = [v.battle for v in read_votes(path)]
        assert len(ids) == len(set(ids)) == 3
        assert set(ids) == {app.arena.visitors.public_id(k) for k in keys}


# 7. headers and cookie flags


def test_pages_data_and_votes_carry_security_headers(site):
    app, client = site
    key = battle_for(app, client.cookies[COOKIE])
    responses = [client.get(p) for p in ("/", "/about", "/leaderboard", "/votes.csv", "/static/arena.js", "/nope")]
    responses.append(client.post(f"/api/battles/{key}/vote", json={"outcome": "tie"}))
    for response in responses:
        assert "default-src 'self'" in response.headers["content-security-policy"], response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


def test_pages_need_no_inline_script_or_style(site):
    _, client = site
    for path in ("/", "/about", "/leaderboard"):
        html = client.get(path).text
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path


def test_the_cookie_is_httponly_lax_and_secure_on_https(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False)
    plain = TestClient(app).get("/").headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
    assert "secure" in TestClient(app, base_url="https://arena").get("/").headers["set-cookie"].lower()
    strict = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False, secure_cookie=True)
    assert "secure" in TestClient(strict).get("/").headers["set-cookie"].lower()


# 1. signed visitor tokens


def test_made_up_cookies_are_no_visitors(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False, flood_limit=1000,
                     limits=Limits(prompts_per_visitor=10, prompts_per_address=1000, new_visitors_per_address=3))
    codes, issued = [], set()
    for k in range(6):
        forged = TestClient(app, cookies={COOKIE: f"made-up-{k}"})
        response = forged.post("/api/battles", json={"prompt": f"question {k}"})
        codes.append(response.status_code)
        if response.cookies.get(COOKIE):
            issued.add(response.cookies[COOKIE])
        assert forged.post("/api/battles/abc/vote", json={"outcome": "a"}).status_code == 401
    assert codes == [503] * 3 + [429] * 3  # three fresh visitors (no models here), then no more from this address
    assert len(issued) == 3 and all(app.arena.visitors.valid(t) for t in issued)
    assert not app.arena.visitors.valid("made-up-0") and not app.arena.visitors.valid(None)


def test_a_forged_cookie_on_a_page_gets_a_fresh_signed_one(site):
    app, _ = site
    client = TestClient(app, cookies={COOKIE: "made-up"})
    token = client.get("/").cookies[COOKIE]
    assert token != "made-up" and app.arena.visitors.valid(token)
    assert COOKIE not in TestClient(app, cookies={COOKIE: token}).get("/").cookies  # a signed one is kept


def test_tokens_outlive_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    token = create_app(url, preload=False).arena.visitors.issue()
    assert create_app(url, preload=False).arena.visitors.valid(token)
    secret = tmp_path / "a.db.secret"
    assert secret.exists() and secret.stat().st_mode & 0o077 == 0
    assert not create_app(f"sqlite:///{tmp_path / 'b.db'}", preload=False).arena.visitors.valid(token)


# 5. a bounded generation pool


def test_a_full_generation_queue_answers_503_with_retry_after(tmp_path):
    field = [Contender(f"m{k}", str(tmp_path / f"m{k}"), True, "", "", "team") for k in range(2)]
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False, limits=ROOMY, contenders=field,
                     max_battles=2, generation_workers=1)
    with TestClient(app) as client:
        client.get("/")
        app.arena.battles.reserve()
        app.arena.battles.reserve()
        with pytest.raises(Busy):
            app.arena.battles.reserve()
        busy = client.post("/api/battles", json={"prompt": "hello"})
        assert busy.status_code == 503 and busy.json()["error"] == "busy" and int(busy.headers["retry-after"]) > 0
        app.arena.battles.release()
        opened = client.post("/api/battles", json={"prompt": "hello"})  # the models fail to load: quickly
        assert opened.status_code == 201
        assert "event: failed" in client.get(opened.json()["stream"]).text
        app.arena.battles.release()
        for k in range(6):  # each slot comes back when its battle ends
            response = client.post("/api/battles", json={"prompt": f"again {k}"})
            assert response.status_code == 201, response.text
            client.get(response.json()["stream"])
        workers = [t for t in threading.enumerate() if t.name.startswith("dokja-generate")]
        assert len(workers) == 1


# 6. client addresses behind trusted proxies


def test_the_right_most_untrusted_forwarded_address_is_the_client():
    trusted = networks(["10.0.0.0/8", "192.0.2.7"])
    assert client_address("203.0.113.5", ["1.2.3.4"], trusted) == "203.0.113.5"  # not from a proxy: ignored
    assert client_address("10.0.0.1", ["6.6.6.6, 1.2.3.4, 10.1.1.1"], trusted) == "1.2.3.4"
    assert client_address("192.0.2.7", ["6.6.6.6", "1.2.3.4"], trusted) == "1.2.3.4"
    assert client_address("10.0.0.1", [], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", ["1.2.3.4"], networks([])) == "10.0.0.1"


def prompt_codes(app, peer: str, forwarded: list[str]) -> list[int]:
    async def send_all():
        transport = httpx.ASGITransport(app=app, client=(peer, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://arena") as c:
            token = (await c.get("/")).cookies[COOKIE]
            out = []
            for k, address in enumerate(forwarded):
                r = await c.post("/api/battles", json={"prompt": f"p{k} {address}"}, cookies={COOKIE: token},
                                 headers={"x-forwarded-for": address})
                out.append(r.status_code)
            return out
    return asyncio.run(send_all())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_limits_per_address_follow_a_trusted_proxy(tmp_path):
    limits = Limits(prompts_per_visitor=100, prompts_per_address=2)
    forwarded = ["1.1.1.1", "1.1.1.1", "2.2.2.2", "2.2.2.2", "1.1.1.1"]
    behind = create_app(f"sqlite:///{tmp_path / 'a.db'}", preload=False, limits=limits, flood_limit=100,
                        trusted_proxies=("10.0.0.0/8",))
    assert prompt_codes(behind, "10.0.0.9", forwarded) == [503, 503, 503, 503, 429]
    untrusted = create_app(f"sqlite:///{tmp_path / 'b.db'}", preload=False, limits=limits, flood_limit=100)
    assert prompt_codes(untrusted, "10.0.0.9", forwarded) == [503, 503, 429, 429, 429]
