"""The arena end to end in a real browser: `dokja serve` on loopback with two real small models, Chromium
driven by Playwright: a prompt, two streamed answers, a vote, the reveal, the vote in the leaderboard,
and the leaderboard recomputed from the downloaded export with identical numbers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROMPT = 'Repeat this exactly: <img src=x onerror="window.pwned=1"><script>window.pwned=2</script> hello'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pruned_dir(smollm2_dir, cache) -> Path:
    """A second real model: SmolLM2 with two thirds of its blocks dropped (the demo's Team Dasan recipe)."""
    from dokja.demo.builders import build_pruned_model

    out = cache / "models" / "arena-test-pruned"
    if not (out / "config.json").exists():
        build_pruned_model(smollm2_dir, out, keep_layers=list(range(0, 30, 3)))
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory, smollm2_dir, pruned_dir, cache):
    from dokja.programme import Programme
    from dokja.registry import import_programme
    from dokja.store import open_store

    tmp = tmp_path_factory.mktemp("arena-e2e")
    url = f"sqlite:///{tmp / 'arena.db'}"
    spec = Programme.model_validate({
        "name": "Arena test programme", "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 1}],
        "teams": [{"id": "hanbit", "name": "Team Hanbit", "name_ko": "한빛", "members": [
                      {"name": "Kim", "role": "student"}]},
                  {"id": "dasan", "name": "Team Dasan", "name_ko": "다산", "members": [
                      {"name": "Lee", "role": "student"}]}],
        "models": [{"name": "hanbit-smol", "location": str(smollm2_dir), "chat": True, "team": "hanbit"},
                   {"name": "dasan-pruned", "location": str(pruned_dir), "chat": True, "team": "dasan"}]})
    with open_store(url).begin() as session:
        import_programme(session, spec, cache=cache)
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", "from dokja.cli import app; app()", "serve", "--port", str(port),
                             "--db", url, "--cache", str(cache), "--max-new-tokens", "24", "--seed", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    while True:
        assert proc.poll() is None, (tmp / "server.log").read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).json()["ready"]:
                break
        except httpx.HTTPError:
            pass
        assert time.time() < deadline, "server not ready in time"
        time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def test_prompt_stream_vote_reveal_leaderboard(server, browser, tmp_path):
    page = browser.new_page()
    page.goto(server + "/")
    page.evaluate("""() => {
        window.pieces = {a: 0, b: 0};
        for (const side of ["a", "b"]) {
            new MutationObserver(() => { window.pieces[side] += 1; })
                .observe(document.getElementById("answer-" + side), {childList: true, characterData: true});
        }
    }""")
    assert not page.locator("#vote").is_visible() and not page.locator("#thanks").is_visible()
    page.fill("#prompt", PROMPT)
    page.click("#send")
    page.wait_for_selector("#side-a[data-finished=true]", timeout=120_000)
    page.wait_for_selector("#side-b[data-finished=true]", timeout=120_000)
    answers = [page.text_content("#answer-a"), page.text_content("#answer-b")]
    assert all(a.strip() for a in answers), answers
    assert answers[0] != answers[1]
    pieces = page.evaluate("window.pieces")
    assert pieces["a"] + pieces["b"] > 2, pieces  # the answers arrived piece by piece, not at once
    assert page.evaluate("window.pwned") is None
    assert page.locator("#battle img, #battle script").count() == 0
    assert page.text_content("#reveal-a") == "" and page.text_content("#reveal-b") == ""

    page.click("button[data-outcome=a]")
    page.wait_for_selector("#thanks", state="visible")
    revealed = page.text_content("#reveal-a") + page.text_content("#reveal-b")
    assert "hanbit-smol" in revealed and "dasan-pruned" in revealed and "Team" in revealed

    page.click("#lang-toggle")
    assert page.locator("#side-a h2 .ko").is_visible() and not page.locator("#side-a h2 .en").is_visible()
    page.click("#lang-toggle")

    page.goto(server + "/leaderboard")
    rows = page.locator("#board tbody tr")
    assert rows.count() == 2
    assert [rows.nth(k).locator("td.votes").text_content() for k in range(2)] == ["1", "1"]
    assert page.locator("svg.chart circle").count() == 2

    from dokja.arena.export import read_votes
    from dokja.arena.leaderboard import compute_leaderboard, leaderboard_json

    export = tmp_path / "votes.csv"
    export.write_bytes(page.request.get(server + "/votes.csv").body())
    published = page.request.get(server + "/leaderboard.json").json()
    assert json.loads(json.dumps(leaderboard_json(compute_leaderboard(read_votes(export))))) == published
    assert published["n_votes"] == 1

    page.click("nav a[href='/about']")
    assert page.locator("#rules-en").text_content().startswith("Votes are anonymous")
    page.close()


def test_usable_on_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server + "/")
    page.evaluate("document.getElementById('battle').hidden = false")
    columns = page.evaluate("getComputedStyle(document.getElementById('battle')).gridTemplateColumns")
    assert len(columns.split()) == 1, columns
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.close()
