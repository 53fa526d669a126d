"""The leaderboard from votes: the reference solver, exclusions, weights, categories, style control, export."""

from __future__ import annotations

import dataclasses
import json
import math

import choix
import numpy as np
import pytest
from typer.testing import CliRunner

from dokja.arena import ArenaError, VoteRecord, compute_leaderboard, leaderboard_json, read_votes, write_votes
from dokja.arena.ratings import SCALE
from dokja.cli.app import app

MODELS = ["hanbit-ko-1.0", "saebyeok-ko-0.3", "mirae-135m-ko", "dasan-90m", "Gemma 3 270M"]


def synthetic_votes(n=3000, seed=0, tie_share=0.2, theta=None, weights=False, extra=None) -> list[VoteRecord]:
    """Votes drawn from Bradley–Terry strengths, with some ties and both-bad votes."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(-0.8, 0.8, len(MODELS)) if theta is None else theta
    out = []
    for k in range(n):
        i, j = rng.choice(len(MODELS), 2, replace=False)
        p = 1 / (1 + np.exp(theta[j] - theta[i]))
        u = rng.random()
        outcome = "a" if u < p * (1 - tie_share) else "b" if u < 1 - tie_share else rng.choice(["tie", "both_bad"])
        out.append(VoteRecord(f"battle-{k:05d}", MODELS[i], MODELS[j], str(outcome),
                              category=["general", "coding", "math"][k % 3], language=["ko", "en"][k % 2],
                              weight=float(rng.uniform(0.25, 3.0)) if weights else 1.0,
                              len_a=int(rng.integers(20, 900)), len_b=int(rng.integers(20, 900)),
                              md_a=int(rng.integers(0, 8)), md_b=int(rng.integers(0, 8)),
                              **(extra(k, rng) if extra else {})))
    return out


def by_model(lb):
    return {r.model: r for r in lb.rows}


def test_equals_choix_end_to_end():
    votes = synthetic_votes(2000, seed=1)
    lb = compute_leaderboard(votes)
    models = sorted(MODELS)
    index = {m: k for k, m in enumerate(models)}
    data = []  # the half convention: a tie (or both bad) is one win each way, a decisive vote two wins
    for v in votes:
        a, b = index[v.model_a], index[v.model_b]
        data += {"a": [(a, b), (a, b)], "b": [(b, a), (b, a)]}.get(v.outcome, [(a, b), (b, a)])
    ref = choix.ilsr_pairwise(len(models), data, alpha=0.0, tol=1e-13, max_iter=10_000)
    ref_rating = 1000.0 + SCALE * (ref - ref.mean())
    ours = by_model(lb)
    assert max(abs(ours[m].rating - ref_rating[index[m]]) for m in models) < 1e-6 * SCALE
    assert lb.anchor == "mean" and abs(np.mean([r.rating for r in lb.rows]) - 1000.0) < 1e-9
    assert [r.rating for r in lb.rows] == sorted((r.rating for r in lb.rows), reverse=True)
    assert all(r.lower < r.rating < r.upper for r in lb.rows)
    best, worst = lb.rows[0], lb.rows[-1]
    assert best.model == "Gemma 3 270M" and best.rank == 1 and worst.rank > 1


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("options", [dict(), dict(ties="davidson", interval="bootstrap", rounds=200, seed=4),
                                     dict(style=True, anchor="dasan-90m"), dict(category="ko")])
def test_export_read_recompute_is_identical(tmp_path, suffix, options):
    flagged = lambda k, rng: {"flagged": k % 17 == 0, "reveals_identity": k % 23 == 0}  # noqa: E731
    votes = synthetic_votes(1500, seed=2, weights=True, extra=flagged)
    published = leaderboard_json(compute_leaderboard(votes, **options))
    path = tmp_path / f"votes{suffix}"
    assert write_votes(votes, path) == len(votes)
    back = read_votes(path)
    assert back == votes
    assert leaderboard_json(compute_leaderboard(back, **options)) == published
    # arrival order does not matter either
    shuffled = list(reversed(back))
    assert leaderboard_json(compute_leaderboard(shuffled, **options)) == published
    text = path.read_text(encoding="utf-8")
    for private in ("visitor", "session", "address", "token"):
        assert private not in text


def test_recompute_command_prints_the_published_numbers(tmp_path):
    votes = synthetic_votes(800, seed=3, weights=True)
    path = tmp_path / "votes.csv"
    write_votes(votes, path)
    published = leaderboard_json(compute_leaderboard(votes, ties="davidson"))
    result = CliRunner().invoke(app, ["votes", "recompute", str(path), "--ties", "davidson", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == published
    table = CliRunner().invoke(app, ["votes", "recompute", str(path)])
    assert table.exit_code == 0 and "Gemma 3 270M" in table.output and "800 votes counted" in table.output


def test_malformed_exports_name_line_and_field(tmp_path):
    good = tmp_path / "votes.csv"
    write_votes(synthetic_votes(5), good)
    lines = good.read_text().splitlines()
    columns = lines[0].split(",")

    def spoil(line: int, field: str, value: str) -> str:
        out = [row.split(",") for row in lines]
        out[line - 1][columns.index(field)] = value
        return "\n".join(",".join(row) for row in out) + "\n"

    for line, field, value in [(4, "weight", "heavy"), (3, "outcome", "maybe"), (5, "flagged", "perhaps"),
                               (2, "weight", "-1"), (6, "len_b", "1.5"), (2, "model_a", "")]:
        bad = tmp_path / f"bad-{field}.csv"
        bad.write_text(spoil(line, field, value))
        with pytest.raises(ArenaError, match=rf"line {line}, field '{field}'"):
            read_votes(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text(lines[0].replace(",weight", "") + "\n")
    with pytest.raises(ArenaError, match="missing column 'weight'"):
        read_votes(missing)
    jsonl = tmp_path / "votes.jsonl"
    jsonl.write_text('{"battle": "x"}\nnot json\n')
    with pytest.raises(ArenaError, match="line 1: missing field 'model_a'"):
        read_votes(jsonl)
    with pytest.raises(ArenaError, match=r"\.csv or \.jsonl"):
        read_votes(tmp_path / "votes.txt")
    result = CliRunner().invoke(app, ["votes", "recompute", str(missing)])
    assert result.exit_code == 2 and "missing column 'weight'" in result.output


def test_flagged_and_revealing_votes_are_left_out():
    honest = synthetic_votes(1200, seed=5)
    # a block of votes for the weakest model: flagged ones, and battles where a model named itself
    stuffing = [VoteRecord(f"x-{k}", "hanbit-ko-1.0", "Gemma 3 270M", "a", flagged=k % 2 == 0,
                           reveals_identity=k % 2 == 1) for k in range(400)]
    clean = leaderboard_json(compute_leaderboard(honest))
    mixed = compute_leaderboard(honest + stuffing)
    assert mixed.n_excluded == 400 and mixed.n_votes == 1200
    assert leaderboard_json(mixed)["rows"] == clean["rows"]
    counted = compute_leaderboard([dataclasses.replace(v, flagged=False, reveals_identity=False) for v in stuffing]
                                  + honest)
    assert by_model(counted)["hanbit-ko-1.0"].rating > by_model(mixed)["hanbit-ko-1.0"].rating + 50


def test_weights_are_applied():
    votes = synthetic_votes(1500, seed=6)
    doubled = [dataclasses.replace(v, weight=2.0) if v.model_a == "dasan-90m" and v.outcome == "a" else v
               for v in votes]
    copies = votes + [dataclasses.replace(v, battle=v.battle + "-copy") for v in votes
                      if v.model_a == "dasan-90m" and v.outcome == "a"]
    w, c, plain = (by_model(compute_leaderboard(x)) for x in (doubled, copies, votes))
    for m in MODELS:  # a vote of weight 2 moves the estimate as two votes would
        assert abs(w[m].rating - c[m].rating) < 1e-6
    assert w["dasan-90m"].rating > plain["dasan-90m"].rating + 5
    # ...but is still one observation: its interval is wider than two votes' would be
    assert (w["dasan-90m"].upper - w["dasan-90m"].lower) > (c["dasan-90m"].upper - c["dasan-90m"].lower)
    # a constant weight changes nothing
    scaled = [dataclasses.replace(v, weight=3.0) for v in votes]
    for a, b in zip(compute_leaderboard(scaled).rows, compute_leaderboard(votes).rows):
        assert a.model == b.model and abs(a.rating - b.rating) < 1e-9 and abs(a.lower - b.lower) < 1e-6


def test_categories_anchor_and_edge_cases():
    votes = synthetic_votes(1800, seed=7)
    coding = compute_leaderboard(votes, category="coding")
    assert coding.n_votes == sum(v.category == "coding" for v in votes) and coding.category == "coding"
    korean = compute_leaderboard(votes, category="ko")
    assert korean.n_votes == sum(v.language == "ko" for v in votes)
    anchored = compute_leaderboard(votes, anchor="mirae-135m-ko", anchor_rating=1200.0)
    assert by_model(anchored)["mirae-135m-ko"].rating == 1200.0 and anchored.anchor == "mirae-135m-ko"
    free = by_model(compute_leaderboard(votes))
    gap = free["Gemma 3 270M"].rating - free["mirae-135m-ko"].rating
    assert abs(by_model(anchored)["Gemma 3 270M"].rating - 1200.0 - gap) < 1e-9
    assert compute_leaderboard([]).rows == []
    with pytest.raises(ArenaError, match="anchor model 'nobody'"):
        compute_leaderboard(votes, anchor="nobody")
    with pytest.raises(ArenaError, match="ties must be"):
        compute_leaderboard(votes, ties="third")
    with pytest.raises(ArenaError, match="outcome"):
        compute_leaderboard([VoteRecord("1", "x", "y", "draw")])
    # early days: one model never lost, so no finite MLE: no rating is claimed for it, only a lower bound
    sweep = [VoteRecord(str(k), "x", "y", "a") for k in range(5)] + [VoteRecord("z", "y", "w", "tie")]
    early = compute_leaderboard(sweep)
    top = early.rows[0]
    assert top.model == "x" and top.unbounded == "above" and top.rating == math.inf and top.upper == math.inf
    assert math.isfinite(top.lower) and top.rank == 1 and early.params["alpha"] == 0.0
    assert early.params["reference"] == ["w", "y"]


def test_style_control_removes_a_length_bias():
    """Voters here prefer the longer answer and one model writes long: plain ratings overrate it, style control not."""
    rng = np.random.default_rng(8)
    theta = np.zeros(len(MODELS))
    votes = []
    for k in range(6000):
        i, j = rng.choice(len(MODELS), 2, replace=False)
        la = int(rng.integers(100, 400)) * (4 if MODELS[i] == "dasan-90m" else 1)
        lb_ = int(rng.integers(100, 400)) * (4 if MODELS[j] == "dasan-90m" else 1)
        z = (la - lb_) / (la + lb_)
        p = 1 / (1 + np.exp(-(theta[i] - theta[j] + 1.5 * z)))
        votes.append(VoteRecord(str(k), MODELS[i], MODELS[j], "a" if rng.random() < p else "b", len_a=la, len_b=lb_))
    plain, styled = by_model(compute_leaderboard(votes)), compute_leaderboard(votes, style=True)
    assert plain["dasan-90m"].rating - 1000 > 60  # the length bias, as a rating
    assert abs(by_model(styled)["dasan-90m"].rating - 1000) < 25
    assert styled.style_controlled and abs(styled.params["style"]["length"]["coef"] - 1.5) < 0.3
    with pytest.raises(ArenaError, match="half-win"):
        compute_leaderboard(votes, style=True, ties="davidson")
