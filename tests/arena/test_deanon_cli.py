"""`dokja arena deanon` on a real store: the stored answers of a model with a signature phrase give it away."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from dokja.arena.deanon import Deanon
from dokja.arena.service import Ballot, cast_votes, identity_check, open_battle, record_answer, stored_answers
from dokja.cli import app
from dokja.store import open_store

MODELS = ["hanbit-ko-1.0", "dasan-ko-0.2", "nuri-ko-0.5", "saebyeok-ko-0.3"]
WORDS = "서울 부산 강 산 역사 음식 음악 과학 날씨 사람 언어 숫자 그래서 또한 자주 때문에 rivers cities people".split()
TELL = "도움이 되었기를 바랍니다!"


def store_with_battles(url: str) -> None:
    """Stage s1: 80 battles among four models, nuri always signing off the same way; stage s2: one battle."""
    sessions = open_store(url)
    rng = np.random.default_rng(0)
    with sessions.begin() as session:
        ballots = []
        for k in range(80):
            a, b = MODELS[k % 4], MODELS[(k + 1 + k // 4 % 3) % 4]
            battle = open_battle(session, token=f"visitor-{k % 9}", address="198.51.100.7", prompt=f"질문 {k}",
                                 model_a=a, model_b=b, probability=1 / 6, stage="s1")
            for side, model in (("a", a), ("b", b)):
                text = " ".join(rng.choice(WORDS, int(rng.integers(15, 40))))
                record_answer(session, battle.key, side, text + (" " + TELL if model == "nuri-ko-0.5" else ""))
            ballots.append(Ballot(battle.key, f"visitor-{k % 9}", "ab"[k % 2]))
        for k in range(1):
            battle = open_battle(session, token="late", address="198.51.100.8", prompt="p", model_a=MODELS[0],
                                 model_b=MODELS[1], probability=1 / 6, stage="s2")
            record_answer(session, battle.key, "a", "one")
            record_answer(session, battle.key, "b", "two")
        assert {v.status for v in cast_votes(session.connection(), ballots)} == {"ok"}
    sessions.kw["bind"].dispose()


def test_the_check_names_the_model_that_signs_its_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    store_with_battles(url)
    with open_store(url).begin() as session:
        assert len(stored_answers(session)) == 162 and len(stored_answers(session, stage="s1")) == 160
        found = identity_check(session, stage="s1")
    assert isinstance(found, Deanon) and found.answers == 160 and found.chance == 0.25
    assert found.per_model["nuri-ko-0.5"] >= 0.95 and found.warning
    done = CliRunner().invoke(app, ["arena", "deanon", "--stage", "s1", "--db", url], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    out = done.output
    assert "160 answers 답변, 5-fold" in out
    assert f"accuracy 정확도 {found.accuracy:.0%} · chance 우연 25%" in out
    assert "warning:" in out and "give their model away" in out and "경고:" in out
    row = next(line for line in out.splitlines() if "nuri-ko-0.5" in line)
    assert f"{found.per_model['nuri-ko-0.5']:.0%}" in row
    assert found.tells["nuri-ko-0.5"] and all(repr(t) in row for t in found.tells["nuri-ko-0.5"])


def test_too_few_answers_or_none_are_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    store_with_battles(url)
    runner = CliRunner()
    one_pair = runner.invoke(app, ["arena", "deanon", "--stage", "s2", "--db", url])
    assert one_pair.exit_code == 2 and "at least 2 answers per model" in one_pair.output
    none = runner.invoke(app, ["arena", "deanon", "--stage", "final", "--db", url])
    assert none.exit_code == 2 and "no finished answers in stage 'final'" in none.output
    missing = runner.invoke(app, ["arena", "deanon", "--db", str(tmp_path / "nowhere.db")])
    assert missing.exit_code == 2 and "no store at" in missing.output
    assert "Traceback" not in one_pair.output + none.output + missing.output
