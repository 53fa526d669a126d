"""IFEval-style instruction following: the checks reproduce the published verdicts on GPT-4's responses,
Korean counting and KITE's Korean instructions behave as documented, unknown instructions are refused, and the
bundled suites run end to end through the runner."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from dokja.harness import SuiteError, evaluate, load_suite
from dokja.harness import ifeval
from dokja.harness.ifeval_korean import (korean_acrostic_poem, korean_honorifics, korean_numbers,
                                         korean_postposition_drop, number_words)
from dokja.harness.ifeval_checks import count_sentences, count_words, detect_language, relation_holds, word_tokens
from dokja.harness.ifeval_korean import particles_used, speech_level
from dokja.harness.suite import BUNDLED, Suite
from dokja.store import open_store
from dokja.store import schema as db

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
IFEVAL = SHARED / "ifeval"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def golden():
    """IFEval's prompts joined to GPT-4's responses and the third-party reference verdicts (540 prompts)."""
    if not (IFEVAL / "third_party_reference_outputs").is_dir():
        pytest.skip(f"IFEval reference data not found under {IFEVAL}")
    responses = {r["prompt"]: r["response"] for r in jsonl(IFEVAL / "input_response_data_gpt4_20231107_145030.jsonl")}
    ref = {mode: {r["prompt"]: r["follow_instruction_list"]
                  for r in jsonl(IFEVAL / "third_party_reference_outputs" / f"eval_results_{mode}.jsonl")}
           for mode in ("strict", "loose")}
    rows = [dict(r, id=r["key"]) for r in jsonl(IFEVAL / "input_data.jsonl") if r["prompt"] in responses]
    return rows, responses, ref


def test_published_verdicts_on_gpt4_responses_are_reproduced(golden):
    rows, responses, ref = golden
    assert len(rows) == 540  # key 2785's response is keyed by an older prompt upstream
    differ: dict[str, set] = {"strict": set(), "loose": set()}
    prompts_agree, inst_agree, scored = Counter(), Counter(), []
    for item in rows:
        strict, loose = ifeval.verdicts(item, responses[item["prompt"]])
        scored.append(ifeval.metrics_of(strict, loose))
        for mode, got in (("strict", strict), ("loose", loose)):
            want = ref[mode][item["prompt"]]
            prompts_agree[mode] += got == want
            for iid, g, w in zip(item["instruction_id_list"], got, want):
                inst_agree[mode] += g == w
                if g != w:
                    differ[mode].add((item["key"], iid))
    assert (prompts_agree["strict"], inst_agree["strict"]) == (535, 827)  # of 540 prompts, 832 instructions
    assert (prompts_agree["loose"], inst_agree["loose"]) == (537, 829)
    # Every difference is one the reference itself cannot reproduce: langdetect (unseeded) on three-word or
    # one-letter all-caps answers, and letter_frequency drawing a random letter for "#" and "!".
    langdetect = {(2571, "change_case:english_capital"), (3572, "change_case:english_capital"),
                  (3617, "change_case:english_capital")}
    assert differ["loose"] == langdetect
    assert differ["strict"] == langdetect | {(1122, "keywords:letter_frequency"), (1129, "keywords:letter_frequency")}
    headline = ifeval.pooled(scored)  # the reference: 415/540, 695/832 strict; 431/540, 713/832 loose
    assert round(headline["prompt_strict"] * 540) == 416 and round(headline["inst_strict"] * 832) == 696
    assert round(headline["prompt_loose"] * 540) == 430 and round(headline["inst_loose"] * 832) == 712


def test_loose_scoring_forgives_a_chatty_first_line_and_markdown_stars():
    item = {"id": "x", "prompt": "p", "instruction_id_list": ["startend:quotation", "punctuation:no_comma"],
            "kwargs": [{}, {}]}
    metrics, detail = ifeval.score(item, 'Sure, here it is:\n"A quiet harbour at dawn."')
    assert detail == {"instructions": ["startend:quotation", "punctuation:no_comma"],
                      "strict": [False, False], "loose": [True, True]}
    assert metrics == {"prompt_strict": 0.0, "prompt_loose": 1.0, "inst_strict": 0.0, "inst_loose": 1.0,
                       "n_inst": 2.0, "inst_strict_n": 0.0, "inst_loose_n": 2.0}
    assert ifeval.score(item, '"A quiet harbour at dawn."')[1]["strict"] == [True, True]
    assert len(ifeval.loose_variants("a\n*b*\nc")) == 8 and ifeval.loose_variants("a\n*b*\nc")[7] == "b"
    assert ifeval.score(item, "   ")[0]["inst_loose"] == 0.0  # an empty response follows nothing


def test_pooled_instruction_accuracy_weighs_instructions_not_items():
    rows = [ifeval.metrics_of([True], [True]), ifeval.metrics_of([False, False, False], [True, False, False])]
    assert ifeval.pooled(rows) == {"prompt_strict": 0.5, "prompt_loose": 0.5, "inst_strict": 0.25, "inst_loose": 0.5}
    assert sum(r["inst_strict"] for r in rows) / 2 == 0.5  # the per-item mean differs


def test_korean_words_are_eojeol_and_english_words_follow_ifeval():
    assert count_words("저는 AI가 아닙니다. Nintendo DS에 집착하는 소녀") == 7
    assert count_words("don't stop-me now") == 5  # IFEval's \w+ runs
    assert count_words("사과를 3.5개 먹었다") == 3 and count_words("") == 0


def test_korean_sentences_end_at_terminal_punctuation():
    assert count_sentences("안녕하세요. 저는 학생입니다! 밥 먹었나요? 네") == 4
    assert count_sentences("첫 줄은 마침표가 없다\n둘째 줄도 없다") == 1  # a line break is not a sentence end
    assert count_sentences("1. 물을 끓인다.\n2. 면을 넣는다.") == 2  # list numbers before Hangul are not sentences
    assert count_sentences("\"그래요?\" 그가 물었다. '좋아요.' 끝") == 4
    assert count_sentences("Mr. Smith met Dr. Jones at 3 p.m. in the U.S. today. It rained... and then? Done!") == 3
    assert count_sentences("Wait... The end. 1. Intro") == 4 and count_sentences("  ") == 0


def test_relations_take_ifevals_and_kites_wording():
    assert relation_holds(3, "less than", 4) and relation_holds(3, "미만", 4) and not relation_holds(4, "미만", 4)
    assert all(relation_holds(4, r, 4) for r in ("at least", "최소", "적어도", "최소한"))
    with pytest.raises(ValueError):
        relation_holds(1, "at most", 2)


def test_capital_words_are_counted_on_treebank_tokens():
    assert [w for w in word_tokens("NASA's I'M DON'T (USA), well-KNOWN") if w.isupper()] == \
        ["NASA", "I", "'M", "DO", "N'T", "USA"]


@pytest.mark.parametrize("text, code", [
    ("안녕하세요, 오늘 날씨가 정말 좋네요. hello", "ko"), ("Hallo, wie geht es dir? Ich bin gut und du?", "de"),
    ("The weather is lovely and we are going out.", "en"), ("Привет, как дела? Это хорошо.", "ru"),
    ("Здравейте, как сте? Това е добре и ще дойда.", "bg"), ("سلام، حال شما چطور است؟ من خوبم.", "fa"),
    ("مرحبا، كيف حالك؟ أنا بخير والحمد لله.", "ar"), ("آپ کیسے ہیں؟ میں ٹھیک ہوں۔", "ur"),
    ("Xin chào, bạn khỏe không? Tôi khỏe.", "vi"), ("यह एक अच्छा दिन है और मैं खुश हूं।", "hi"),
    ("हे माझे घर आहे आणि ते सुंदर आहे.", "mr"), ("こんにちは、元気ですか", "ja"), ("நான் நலமாக இருக்கிறேன்", "ta"),
    ("FARE INSIGHT ANALYTICS", "und"), ("1234 !!", None),
])
def test_language_is_told_by_script_then_by_function_words(text, code):
    assert detect_language(text) == code


def test_korean_forbidden_words_and_first_words_allow_particles():
    forbid = ifeval.CHECKS["keywords:forbidden_words"][0]
    assert not forbid("밤하늘에 별이 빛난다", {"forbidden_words": ["별"]})
    assert forbid("특별한 밤이다", {"forbidden_words": ["별"]}) and not forbid("A cat.", {"forbidden_words": ["cat"]})
    first = ifeval.CHECKS["length_constraints:nth_paragraph_first_word"][0]
    kw = {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "첫째"}
    assert first("서론\n\n첫째로 물을 끓인다.", kw) and not first("서론\n\n둘째로 물을 끓인다.", kw)
    two = {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "신문 찾기"}
    assert first("서론\n\n신문 찾기, 그리고 접기.", two) and first("서론\n\n신문 찾기부터 한다.", two)
    assert not first("서론\n\n신문을 찾기.", two) and not first("서론\n\n신문 찾기.\n\n셋째", two)


def test_acrostic_lines_start_with_the_target_words_syllables():
    kw = {"target_word": "가을"}
    assert korean_acrostic_poem("<<가을>>\n\n**가**을 하늘 높고\n을씨년스러운 바람\n\n이행시 끝", kw)
    assert korean_acrostic_poem("- 가: 가을 하늘\n- 을: 을지로 골목", kw)
    assert not korean_acrostic_poem("가을 하늘\n하늘 높이", kw) and not korean_acrostic_poem("가을", kw)
    assert not korean_acrostic_poem("을지로\n가을", kw)  # order matters


def test_postposition_drop_finds_particles_but_not_adnominal_endings():
    assert particles_used("라면 끓이는 법: 물 550ml 붓기. 나는 학교에 간다. 있는 것") == ["나는", "학교에"]
    assert korean_postposition_drop("라면 끓이는 법\n1. 냄비 물 붓기\n2. 면, 스프 넣기", {})
    assert not korean_postposition_drop("물을 끓입니다.", {})


def test_speech_levels_of_sentence_endings():
    assert [speech_level(w) for w in ("쉬세요", "합니다", "입니까", "하죠", "하시오", "쉬어", "했다", "있으니까", "끝")] == \
        ["honorific"] * 5 + ["plain"] * 3 + [None]


def test_honorifics_convert_in_the_asked_direction_ignoring_copies_of_the_request():
    request = "다음 문장을 존댓말로 바꾸세요. '여기까지 오느라 고생했어. 이제 좀 쉬어.'"
    kw = ifeval.completed_kwargs("Korean:honorifics", {"direction_to": "honorific"}, request)
    assert kw["source"] == "여기까지 오느라 고생했어. 이제 좀 쉬어." and kw["request"] == request
    assert korean_honorifics(f"{request}\n\n여기까지 오시느라 고생하셨어요. 이제 좀 쉬세요.\n존댓말 반말 변환 끝", kw)
    assert not korean_honorifics("여기까지 오시느라 고생하셨어요. 이제 좀 쉬어.", kw)  # one 반말 sentence left
    assert not korean_honorifics("<<존댓말>>", kw)  # no sentence at all
    down = {"direction_to": "non-honorific"}
    assert korean_honorifics("반말로 바꾸면:\n지금 어디야? 빨리 와 줘.", down)
    assert not korean_honorifics("반말로 바꾼 문장입니다.\n지금 어디야? 빨리 와 줘.", down)


@pytest.mark.parametrize("text, found", [
    ("사과 일 개, 배 이 개, 포도 삼 송이를 샀어요.", {"chinese": 3}),
    ("사과 하나, 배 둘, 포도 세 송이를 샀어요.", {"korean": 3}),
    ("오늘은 사흘째 되는 날입니다.", {"korean": 1}), ("오늘은 삼일째 되는 날입니다.", {"chinese": 1}),
    ("이번 달에 열흘 동안 여행을 갈 거예요.", {"korean": 1}), ("이번 달에 십일 동안 여행을 갈 거예요.", {"chinese": 1}),
    ("내 나이는 삼십오 살이에요.", {"chinese": 1}), ("내 나이는 서른다섯 살이에요.", {"korean": 1}),
    ("회의는 스무 분 동안 진행될 예정입니다.", {"korean": 1}), ("우리 팀에는 쉰 명의 멤버가 있어.", {"korean": 1}),
    ("사이에 오이 구이를 먹었다. 할 일이 많아서 이분과 얘기했다. 5마리", {}),
])
def test_number_words_tell_sino_korean_from_native(text, found):
    assert dict(number_words(text)) == found


def test_numbers_convert_in_the_asked_direction():
    prompt = "다음 문장의 숫자를 한자어로 바꾸세요. '집에 강아지가 다섯 마리 있어.'"
    kw = ifeval.completed_kwargs("Korean:numbers", {"direction_to": "chinese"}, prompt)
    assert korean_numbers(f"{prompt}\n집에 강아지가 오 마리 있어.", kw)
    assert korean_numbers("집에 강아지가 다섯 마리 있어.\n\n집에 강아지가 오 마리 있어.", kw)  # the copy is set aside
    assert not korean_numbers("강아지가 다섯 마리 있어요. 오 마리", kw)
    assert not korean_numbers("집에 강아지가 5마리 있어.", kw)
    assert korean_numbers("스무 명", {"direction_to": "korean"}) and not korean_numbers("이십 명", {"direction_to": "korean"})


def test_unknown_or_unusable_instructions_are_refused_with_one_line():
    bad = {"id": "q1", "prompt": "p", "instruction_id_list": ["keywords:existence", "keywords:haiku"],
           "kwargs": [{"keywords": ["a"]}, {}]}
    with pytest.raises(SuiteError, match=r"^item q1: unknown instruction id 'keywords:haiku'$"):
        ifeval.check_items([bad])
    with pytest.raises(SuiteError, match="unknown instruction id 'keywords:haiku'"):
        ifeval.score(bad, "a")
    cases = [({"instruction_id_list": ["keywords:frequency"], "kwargs": [{"keyword": "a", "frequency": 1}]},
              "keywords:frequency needs relation"),
             ({"instruction_id_list": ["length_constraints:number_words"],
               "kwargs": [{"num_words": 3, "relation": "at most"}]}, "neither 'less than' nor 'at least'"),
             ({"instruction_id_list": ["Korean:honorifics"], "kwargs": [{"direction_to": "polite"}]}, "direction_to"),
             ({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}, {}]}, "kwargs must be a list of 1"),
             ({"instruction_id_list": [], "kwargs": []}, "non-empty list")]
    for fields, message in cases:
        with pytest.raises(SuiteError, match=message):
            ifeval.prepared({"id": "q2", "prompt": "p", **fields})


def test_kite_general_repeat_requests_are_read_off_the_prompt():
    prompt = ("Nintendo DS에 집착하는 어린 소녀에 관한 시를 써라.\n첫 번째로 요청을 단어 그대로 반복한 후 답을 제공하십시오 "
              "(1. 요청을 반복하기 전에 어떤 단어나 문자도 말하지 마십시오; 2. 반복해야 할 요청에는 이 문장이 포함되지 않습니다)")
    kw = ifeval.completed_kwargs("combination:repeat_prompt", {}, prompt)
    assert kw == {"prompt_to_repeat": "Nintendo DS에 집착하는 어린 소녀에 관한 시를 써라."}
    english = "Write a poem.\nFirst repeat the request word for word without change"
    assert ifeval.derive_request(english) == "Write a poem."
    with pytest.raises(SuiteError, match="combination:repeat_prompt needs prompt_to_repeat"):
        ifeval.prepared({"id": "q", "prompt": "시를 써라.", "instruction_id_list": ["combination:repeat_prompt"],
                         "kwargs": [{}]})


@pytest.mark.parametrize("name", ["ifeval_sample", "kite_sample"])
def test_bundled_suites_load_and_every_instruction_can_be_checked(name):
    suite = load_suite(name)
    assert suite.meta["scorer"] == "ifeval" and suite.kind == "generate" and suite.metric == "prompt_strict"
    ifeval.check_items(suite.items)
    assert all(set(it) == {"id", "prompt", "answer", "instruction_id_list", "kwargs"} for it in suite.items)
    assert "Apache License" in (BUNDLED / name / "LICENSE").read_text(encoding="utf-8")
    assert "Apache-2.0" in (BUNDLED / name / "NOTICE.md").read_text(encoding="utf-8")


def test_ifeval_sample_is_ifeval_unchanged_and_covers_every_instruction():
    suite = load_suite("ifeval_sample")
    assert len(suite.items) == 40
    covered = {i for it in suite.items for i in it["instruction_id_list"]}
    assert covered == {i for i in ifeval.INSTRUCTION_IDS if not i.startswith("Korean:")}
    source = IFEVAL / "input_data.jsonl"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    by_key = {r["key"]: r for r in jsonl(source)}
    for it in suite.items:
        row = by_key[int(it["id"].removeprefix("ifeval-"))]
        assert (it["prompt"], it["instruction_id_list"], it["kwargs"]) == (
            row["prompt"], row["instruction_id_list"], row["kwargs"])


def test_kite_sample_has_every_korean_instruction():
    suite = load_suite("kite_sample")
    assert len(suite.items) == 30
    counts = Counter(it["id"].split("-")[1] for it in suite.items)
    assert counts == {"acrostic": 5, "honorifics": 5, "numbers": 5, "postposition": 5, "general": 10}
    for it in suite.items:
        for iid, kw in zip(it["instruction_id_list"], it["kwargs"]):
            if iid == "combination:repeat_prompt":
                assert it["prompt"].startswith(kw["prompt_to_repeat"])
            if iid == "startend:end_checker":
                assert kw["end_phrase"] in it["prompt"]
            if iid in ("Korean:honorifics", "Korean:numbers"):
                assert f"'{kw['source']}'" in it["prompt"] and it["prompt"].startswith(kw["request"])


class Canned:
    """Test double for a chat endpoint: a fixed response for each prompt."""

    def __init__(self, responses: dict[str, str], default: str = ""):
        self.responses, self.default, self.name, self.chat, self.asked = responses, default, "canned", True, []

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.asked.append((max_new_tokens, stop))
        return [self.responses.get(p, self.default) for p in prompts]


def _run(tmp_path, suite: Suite, backend, **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    sessions = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="m", kind="endpoint", location="test double", chat=True))
    outcome = evaluate(sessions, model, suite, lambda: backend, **kw)
    with sessions.begin() as s:
        results = {r.item_id: (r.metrics, r.detail) for r in
                   s.scalars(select(db.Result).where(db.Result.run_id == outcome.run_id))}
        keys = {i.id: i.key for i in s.scalars(select(db.Item))}
    return outcome, {keys[i]: v for i, v in results.items()}


def test_bundled_suites_score_end_to_end_through_the_runner(tmp_path):
    gpt4, responses = IFEVAL / "input_response_data_gpt4_20231107_145030.jsonl", {}
    if gpt4.is_file():  # GPT-4's published responses where the shared data is there
        responses = {r["prompt"]: r["response"] for r in jsonl(gpt4)}
    suite = load_suite("ifeval_sample")
    canned = Canned(responses, default='"My answer is yes."')
    outcome, results = _run(tmp_path, suite, canned)
    assert canned.asked == [(1280, [])] * 3  # chunks of 16 items, no stop strings
    assert outcome.computed == 40 and outcome.summary["n"] == 40 and outcome.summary["method"] == "generation"
    direct = [ifeval.score(it, responses.get(it["prompt"], '"My answer is yes."'))[0] for it in suite.items]
    for metric in ifeval.METRICS + ("n_inst", "inst_strict_n"):
        assert outcome.summary[metric]["mean"] == pytest.approx(sum(d[metric] for d in direct) / 40)
    metrics, detail = results[suite.items[0]["id"]]
    assert set(detail) == {"output", "method", "instructions", "strict", "loose"}
    assert len(detail["strict"]) == metrics["n_inst"] == len(suite.items[0]["instruction_id_list"])
    pooled = outcome.summary["inst_strict_n"]["mean"] / outcome.summary["n_inst"]["mean"]
    assert pooled == pytest.approx(ifeval.pooled(direct)["inst_strict"])

    kite = load_suite("kite_sample")
    acrostic = next(it for it in kite.items if it["instruction_id_list"] == ["Korean:acrostic_poem"])
    answer = "\n".join(f"{s}: {s}로 시작하는 줄" for s in acrostic["kwargs"][0]["target_word"])
    outcome, results = _run(tmp_path / "k", kite, Canned({acrostic["prompt"]: answer}, default="네."))
    assert outcome.summary["n"] == 30 and results[acrostic["id"]][0]["prompt_strict"] == 1.0


def test_an_unknown_instruction_fails_the_run_with_the_id(tmp_path):
    suite = Suite("bad_if", {"kind": "generate", "metric": "prompt_strict", "scorer": "ifeval"},
                  [{"id": "b1", "prompt": "Say hi.", "answer": "", "instruction_id_list": ["startend:haiku"],
                    "kwargs": [{}]}])
    with pytest.raises(SuiteError, match="item b1: unknown instruction id 'startend:haiku'"):
        _run(tmp_path, suite, Canned({}, default="hi"))


class Capped:
    """The real model, answering in a few tokens so the test stays quick on two CPU cores."""

    def __init__(self, model):
        self.model, self.name, self.chat = model, "smol-capped", True

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return self.model.generate(prompts, max_new_tokens=min(max_new_tokens, 12), stop=stop)


def test_a_real_small_model_runs_the_kite_sample(tmp_path, smollm2_dir):
    from dokja.models.local import TransformersModel

    outcome, results = _run(tmp_path, load_suite("kite_sample"), Capped(TransformersModel(smollm2_dir, chat=True)),
                            limit=2)
    assert outcome.computed == 2 and outcome.summary["n"] == 2 and outcome.summary["failed"] == 0
    for metrics, detail in results.values():
        assert 0.0 <= metrics["prompt_strict"] <= metrics["prompt_loose"] <= 1.0
        assert isinstance(detail["output"], str) and len(detail["loose"]) == metrics["n_inst"]


def test_an_unknown_instruction_is_refused_when_the_suite_is_read(tmp_path):
    import shutil

    folder = tmp_path / "bad_ifeval"
    shutil.copytree(BUNDLED / "ifeval_sample", folder)
    lines = (folder / "items.jsonl").read_text(encoding="utf-8").splitlines()
    first = __import__("json").loads(lines[0])
    first["instruction_id_list"][0] = "keywords:haiku"
    lines[0] = __import__("json").dumps(first, ensure_ascii=False)
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"suite.toml: item ifeval-\d+: unknown instruction id 'keywords:haiku'"):
        load_suite(folder)
