"""The results site end to end in a real browser: `dokja serve` on loopback over a store with a published
stage; Chromium driven by Playwright signs a reviewer in to score an assigned team, and a team in to file a
grievance with an evidence file."""

from __future__ import annotations

import datetime as dt
import importlib.util
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
SITE_TESTS = Path(__file__).resolve().parent.parent / "site" / "conftest.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_world():
    """The site tests' store builder (one definition of the test world)."""
    spec = importlib.util.spec_from_file_location("site_world", SITE_TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, make_inputs):
    world = site_world()
    tmp = tmp_path_factory.mktemp("site-e2e")
    url = f"sqlite:///{tmp / 'site.db'}"
    world.make_world(url, make_inputs, published_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    port = free_port()
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", "from dokja.cli import app; app()", "serve", "--port", str(port),
                             "--db", url, "--cache", str(tmp)], env=dict(os.environ, HF_HUB_OFFLINE="1"),
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        assert proc.poll() is None, (tmp / "server.log").read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.time() < deadline, "server not ready in time"
        time.sleep(0.2)
    yield base, world.PASSWORD
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def sign_in(page, base: str, name: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#sign-in")


def test_a_reviewer_scores_and_a_team_files_a_grievance(server, browser, tmp_path):
    base, password = server
    reviewer = browser.new_context().new_page()
    reviewer.set_default_timeout(10_000)
    sign_in(reviewer, base, "rev-a", password)
    reviewer.wait_for_url(base + "/review")
    assert reviewer.locator("ul.assigned a").all_text_contents() == ["Team Dasan · 다산"]
    reviewer.click("a[data-team=dasan]")
    reviewer.select_option("#score-process", "8")
    reviewer.select_option("#score-originality", "6")
    reviewer.click("#save-scores")
    reviewer.wait_for_url("**/review/stage-1/dasan?saved=1")
    assert reviewer.locator("#score-process").input_value() == "8"
    assert reviewer.locator("p.mine").count() == 2
    reviewer.click("#lang-toggle")
    assert reviewer.get_by_text("학습 및 설계 과정").is_visible()
    assert not reviewer.get_by_text("Training and design process").is_visible()
    reviewer.close()

    team = browser.new_context().new_page()
    team.set_default_timeout(10_000)
    sign_in(team, base, "nuri", password)
    team.wait_for_url(base + "/team")
    evidence = tmp_path / "run-log.txt"
    evidence.write_text("the suite was scored with the wrong answer key\n", encoding="utf-8")
    team.select_option("#kind", "process_defect")
    team.fill("#grounds", "Scores of <b>ko_math</b> used the wrong key.")
    team.set_input_files("#files", str(evidence))
    team.click("#file-grievance")
    team.wait_for_url(base + "/team?filed=1")
    filed = team.locator("ul.grievances li").first
    assert "filed" in filed.text_content() and "run-log.txt" in filed.text_content()
    assert "<b>ko_math</b>" in team.locator("ul.grievances .grounds").first.text_content(), "shown as text"
    team.goto(base + "/results/stage-1/grievances")
    assert "Team Nuri" in team.locator("#timeline").text_content()
    team.close()
