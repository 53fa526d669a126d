"""The arena's small rules: identity filter, style features, prompt classifier, pair choice, stage points."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from dokja.arena import ArenaError, VoteRecord, compute_leaderboard
from dokja.arena.categories import classify
from dokja.arena.identity import reveals_identity
from dokja.arena.leaderboard import Leaderboard, Row
from dokja.arena.pairing import draw_pair, pair_probabilities, vote_weight
from dokja.arena.points import model_points, user_points
from dokja.arena.style import style_features
from dokja.programme import load_programme
from dokja.programme.schema import Arena, Programme

SMOL = (["SmolLM2-135M-Instruct"], ["Hugging Face"])
GEMMA = (["Gemma 3 270M"], ["Google"])


@pytest.mark.parametrize("text, who", [
    ("I am SmolLM, a small assistant.", SMOL),
    ("As SmolLM2 I cannot browse.", SMOL),
    ("I was trained by Hugging Face.", SMOL),
    ("저는 허깅페이스에서 만든 모델입니다.", SMOL),
    ("저는 허깅 페이스가 개발했어요.", SMOL),
    ("I'm Gemma, an open model.", GEMMA),
    ("저는 구글이 만든 젬마입니다.", GEMMA),
    ("구글 딥마인드가 학습시켰습니다.", GEMMA),
    ("I am a large language model trained by google-deepmind.", GEMMA),
    ("나는 한빛 모델이 아니라 hanbit-ko 모델입니다", (["hanbit-ko-1.0"], ["Team Hanbit"])),
])
def test_identity_is_revealed(text, who):
    assert reveals_identity(text, *who)


@pytest.mark.parametrize("text, who", [
    ("The capital of Korea is Seoul. 서울은 한국의 수도입니다.", SMOL),
    ("드라마를 추천해 드릴게요.", (["Llama 3"], ["Meta"])),  # 라마 inside 드라마
    ("Googling is a verb; smallish models exist.", GEMMA),
    ("This recipe uses gemmalike spices.", GEMMA),
    ("", SMOL),
])
def test_identity_is_not_revealed(text, who):
    assert not reveals_identity(text, *who)


def test_style_features_count_length_and_markdown():
    answer = ("# Title\n\nSome **bold** text and __more__.\n\n- one\n- two\n1. first\n2) second\n\n"
              "```python\n# not a header\n* not a list\n```\n")
    length, md = style_features(answer)
    assert length == len(answer)
    assert md == 1 + 2 + 4 + 1  # a header, two bold spans, four list items, one code block
    assert style_features("plain words, 한국어 문장. 3 * 4 = 12") == (len("plain words, 한국어 문장. 3 * 4 = 12"), 0)


@pytest.mark.parametrize("prompt, expected", [
    ("파이썬으로 리스트를 정렬하는 코드를 짜 줘", ("ko", "coding")),
    ("Write a Python function that reverses a string", ("en", "coding")),
    ("```\nint main() { return 0; }\n```\nwhy does this crash?", ("en", "coding")),
    ("x^2 - 5x + 6 = 0 을 풀어 주세요", ("ko", "math")),
    ("What is 17 * 23?", ("en", "math")),
    ("삼각형의 넓이를 계산하는 방법은?", ("ko", "math")),
    ("서울에서 가볼 만한 곳을 추천해 줘", ("ko", "general")),
    ("Tell me a story about a cat", ("en", "general")),
    ("LLM이 뭐야? 간단히 설명해 줘", ("ko", "general")),
    ("東京の天気は?", ("other", "general")),
    ("회의 내용을 정리해 줘", ("ko", "general")),
])
def test_classifier(prompt, expected):
    assert classify(prompt) == expected


def board(ratings: dict[str, tuple[float, float, float, int]], votes: int = 100) -> Leaderboard:
    rows = [Row(m, r, lo, hi, rank, votes, 0, 0, 0) for m, (r, lo, hi, rank) in ratings.items()]
    return Leaderboard("half", "sandwich", "mean", sorted(rows, key=lambda x: -x.rating))


def test_pair_probabilities_are_positive_sum_to_one_and_favour_uncertain_pairs():
    models = ["a", "b", "c", "d"]
    cold = pair_probabilities(models)
    assert len(cold) == 6 and all(p == pytest.approx(1 / 6) for p in cold.values())
    lb = board({"a": (1200, 1190, 1210, 1), "b": (1000, 980, 1020, 2), "c": (995, 975, 1015, 2),
                "d": (700, 690, 710, 4)})
    probs = pair_probabilities(models + ["newcomer"], lb, counts={("b", "a"): 500})
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert min(probs.values()) > 0 and len(probs) == 10
    assert probs[("b", "c")] == max(probs[p] for p in probs if "newcomer" not in p)  # the close, uncertain pair
    assert probs[("a", "d")] == pytest.approx(0.2 / 10, rel=1e-3)  # far apart and sure: the floor alone
    assert min(probs[p] for p in probs if "newcomer" in p) > probs[("a", "d")]  # a new model is shown often
    rng = np.random.default_rng(0)
    draws = [draw_pair(probs, rng) for _ in range(20_000)]
    for pair in [("b", "c"), ("a", "d")]:
        share = sum(1 for x, y, _ in draws if tuple(sorted((x, y))) == pair) / len(draws)
        assert share == pytest.approx(probs[pair], abs=0.01)
    assert 0.45 < sum(1 for x, y, _ in draws if (x, y) == ("c", "b")) / sum(
        1 for x, y, _ in draws if {x, y} == {"b", "c"}) < 0.55  # sides are a fair coin
    assert all(p == probs[tuple(sorted((x, y)))] for x, y, p in draws[:100])
    assert vote_weight(1 / 6, 6) == pytest.approx(1.0)
    with pytest.raises(ArenaError):
        pair_probabilities(["only"])


def test_inverse_probability_weights_undo_uneven_sampling():
    """Pairs drawn unevenly, where a pair-specific effect exists: weighted ratings match the uniform design's."""
    rng = np.random.default_rng(3)
    models = ["a", "b", "c", "d"]
    theta = dict(zip(models, [0.6, 0.2, -0.1, -0.7]))
    # the true per-pair win probabilities are not Bradley–Terry (a beats d more than BT says)
    bonus = {("a", "d"): 1.2}
    pairs = [(x, y) for k, x in enumerate(models) for y in models[k + 1:]]
    probs = dict(zip(pairs, np.array([8, 1, 1, 1, 1, 8], float) / 20))

    def votes(chooser, n):
        out = []
        for k in range(n):
            x, y, p = chooser()
            d = theta[x] - theta[y] + bonus.get((x, y), 0) - bonus.get((y, x), 0)
            out.append(VoteRecord(str(k), x, y, "a" if rng.random() < 1 / (1 + np.exp(-d)) else "b",
                                  weight=vote_weight(p, len(pairs))))
        return out

    uniform = {p: 1 / 6 for p in pairs}
    truth = {r.model: r.rating for r in compute_leaderboard(votes(lambda: draw_pair(uniform, rng), 24_000)).rows}
    uneven = votes(lambda: draw_pair(probs, rng), 24_000)
    weighted = {r.model: r.rating for r in compute_leaderboard(uneven).rows}
    import dataclasses

    unweighted = {r.model: r.rating for r in compute_leaderboard([dataclasses.replace(v, weight=1.0)
                                                                  for v in uneven]).rows}
    err_w = max(abs(weighted[m] - truth[m]) for m in models)
    err_u = max(abs(unweighted[m] - truth[m]) for m in models)
    print(f"largest rating error: weighted {err_w:.1f}, unweighted {err_u:.1f}")
    assert err_w < 12 and err_u > 2 * err_w


def test_user_points_by_each_mapping():
    lb = board({"mirae": (1100, 1080, 1120, 1), "Gemma 3 270M": (1050, 1030, 1070, 1),
                "hanbit": (1000, 980, 1020, 2), "hanbit-small": (950, 930, 970, 3), "dasan": (900, 880, 920, 4)})
    teams = {"mirae": "mirae", "hanbit": "hanbit", "hanbit-small": "hanbit", "dasan": "dasan", "ghost": "nuri"}
    linear = user_points(lb, teams, mapping=Arena(), total=25)
    assert linear == {"mirae": 25.0, "hanbit": 12.5, "dasan": 0.0, "nuri": 0.0}
    floored = user_points(lb, teams, mapping=Arena(floor="hanbit"), total=25)
    assert floored["hanbit"] == 0.0 and floored["mirae"] == 25.0
    assert user_points(lb, teams, mapping=Arena(floor=800.0), total=30)["dasan"] == pytest.approx(10.0)
    rank = user_points(lb, teams, mapping=Arena(points="rank"), total=25)
    assert rank == {"mirae": 25.0, "hanbit": 18.75, "dasan": 6.25, "nuri": 0.0}  # (5 − rank) / 4 of 25
    win = model_points(lb, mapping=Arena(points="win_rate", reference="Gemma 3 270M"), total=25)
    assert win["mirae"] == 25.0 and win["Gemma 3 270M"] == 25.0
    assert win["hanbit"] == pytest.approx(25 * (1 / (1 + 10 ** (50 / 400))) / 0.5)
    with pytest.raises(ArenaError, match="arena.reference"):
        model_points(lb, mapping=Arena(points="win_rate", reference="nobody"))


def test_programme_arena_table(tmp_path):
    base = {"name": "p", "stages": [{"id": "s1", "name": "S", "date": "2025-12-30", "keep": 1}]}
    assert Programme.model_validate(base).arena == Arena()  # older programme files stay valid
    spec = Programme.model_validate(base | {"arena": {"points": "win_rate", "reference": "Gemma 3 270M",
                                                      "full_at": 0.4, "ties": "davidson"}})
    assert spec.arena.reference == "Gemma 3 270M" and spec.arena.ties == "davidson"
    with pytest.raises(ValidationError, match="reference"):
        Programme.model_validate(base | {"arena": {"points": "win_rate"}})
    with pytest.raises(ValidationError, match="half"):
        Programme.model_validate(base | {"arena": {"style": True, "ties": "davidson"}})
    with pytest.raises(ValidationError):
        Programme.model_validate(base | {"arena": {"points": "votes"}})
    assert "win_rate" in Arena.model_fields["points"].description
    from pathlib import Path

    import dokja.demo

    demo = load_programme(Path(dokja.demo.__file__).parent / "data" / "programme.toml")
    assert demo.arena.points in ("linear", "rank", "win_rate")
