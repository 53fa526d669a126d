#!/usr/bin/env python
"""Regenerate Dokja's bundled benchmark suites in src/dokja/suites/.

Samples are drawn with fixed seeds from the public files in ../shared/data (next to the repo
root) and from items written for Dokja (scripts/*_knowledge_source.jsonl and the arithmetic
templates below), so running this twice gives byte-identical suites.

    .venv/bin/python scripts/build_suites.py [--data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dokja.harness.importers import import_items, read_table, write_suite  # noqa: E402

SEED = 0
KOBEST_URL = "https://huggingface.co/datasets/skt/kobest_v1"
KOBEST_REPO = "https://github.com/SKT-LSL/KoBEST_datarepo"
KOBBQ_URL = "https://github.com/naver-ai/KoBBQ"

MC = {"kind": "multiple_choice", "target_delimiter": " ", "fewshot_delimiter": "\n\n"}


def _rng(name: str) -> random.Random:
    """One generator per suite, so adding a suite never changes another's sample."""
    return random.Random(f"{SEED}:{name}")


def _sample(rng: random.Random, items: list[dict], k: int) -> list[dict]:
    """Seeded sample of ``k`` items, kept in source order."""
    picked = set(rng.sample(range(len(items)), k))
    return [it for i, it in enumerate(items) if i in picked]


# --------------------------------------------------------------------------- KoBEST

KOBEST_NOTICE = """# {title}

Items sampled from **KoBEST** (Korean Balanced Evaluation of Significant Tasks) by SK Telecom:
Dohyeong Kim, Myeongjun Jang, Deuk Sin Kwon and Eric Davis, "KOBEST: Korean Balanced Evaluation
of Significant Tasks", COLING 2022 (arXiv:2204.04541).

- Source: {repo} (files `v1.0/{task}/*.tsv`), also published at {url}
- Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC-BY-SA-4.0),
  https://creativecommons.org/licenses/by-sa/4.0/ (legal code:
  https://creativecommons.org/licenses/by-sa/4.0/legalcode). No warranties are given.
- What was taken: {what}
- Changes: items were reformatted into prompts ({prompt}) and answer indices; the sentences
  themselves are unchanged. The files in this directory (items.jsonl, fewshot.jsonl) are an
  adaptation of KoBEST and are shared under the same CC-BY-SA-4.0 licence, not under Dokja's
  Apache-2.0 licence.
- Regenerate with `scripts/build_suites.py` (seeded, deterministic).
"""


def kobest_meta(suite_id: str, task: str, title: str, category: str, metric: str, notes: str,
                target_delimiter: str = " ") -> dict:
    return {
        "id": suite_id,
        "title_en": f"KoBEST {title} (sample)",
        "title_ko": f"KoBEST {title} (표본)",
        "language": "ko",
        "category": category,
        **MC,
        "target_delimiter": target_delimiter,
        "metric": metric,
        "num_fewshot": 0,
        "source": {"name": "KoBEST (SK Telecom)", "url": KOBEST_URL, "licence": "CC-BY-SA-4.0", "notes": notes},
    }


def build_kobest_copa(data: Path) -> tuple:
    d = data / "kobest/v1.0/COPA"
    rng = _rng("kobest_copa")
    items = _sample(rng, import_items(d / "test.tsv", "kobest_copa"), 100)
    fewshot = _sample(rng, import_items(d / "dev.tsv", "kobest_copa", id_prefix="copa-dev"), 6)
    prompt = "premise + '  왜냐하면' (원인) or '  그래서' (결과), two spaces; choices are the two alternatives"
    notes = f"100 items sampled with seed 0 from the test split; prompt: {prompt}, as in lm-eval's kobest_copa."
    meta = kobest_meta("kobest_copa", "COPA", "COPA", "reasoning", "acc", notes)
    what = "100 of the 1,000 test items (seeded random sample); 6 few-shot items from the dev split"
    notice = KOBEST_NOTICE.format(title=meta["title_en"], repo=KOBEST_REPO, url=KOBEST_URL, task="COPA",
                                  what=what, prompt=prompt)
    return meta, items, fewshot, notice, None


def build_kobest_boolq(data: Path) -> tuple:
    d = data / "kobest/v1.0/BoolQ"
    rng = _rng("kobest_boolq")
    cap = 200  # characters of passage; the demo model spends ~2 tokens per Korean character

    def short(path: Path, prefix: str, limit: int) -> list[dict]:
        return [it for it in import_items(path, "kobest_boolq", id_prefix=prefix)
                if len(it["context"].split(" 질문: ")[0]) <= limit]

    def balanced(pool: list[dict], k: int) -> list[dict]:
        yes = _sample(rng, [it for it in pool if it["answer"] == 1], k // 2)
        no = _sample(rng, [it for it in pool if it["answer"] == 0], k - k // 2)
        keep = {it["id"] for it in yes + no}
        return [it for it in pool if it["id"] in keep]

    items = balanced(short(d / "test.tsv", "boolq", cap), 100)
    fewshot = balanced(short(d / "dev.tsv", "boolq-dev", 150), 6)
    prompt = "'{Text} 질문: {Question} 답변:' with choices ['아니오', '예'] after a two-space delimiter"
    notes = (f"100 items sampled with seed 0 from the test items whose passage has at most {cap} characters, "
             f"50 true and 50 false; prompt {prompt}, as in lm-eval's kobest_boolq, whose prompt ends in "
             "'답변: ' and whose delimiter is ' ': the same text, since a context's trailing space is scored "
             "with the continuation.")
    meta = kobest_meta("kobest_boolq", "BoolQ", "BoolQ", "reading", "acc", notes, target_delimiter="  ")
    what = (f"100 of the 1,404 test items: only passages of at most {cap} characters, 50 answered True and "
            "50 False (seeded); 6 few-shot items from the dev split")
    notice = KOBEST_NOTICE.format(title=meta["title_en"], repo=KOBEST_REPO, url=KOBEST_URL, task="BoolQ",
                                  what=what, prompt=prompt)
    return meta, items, fewshot, notice, None


def build_kobest_hellaswag(data: Path) -> tuple:
    d = data / "kobest/v1.0/HellaSwag"
    rng = _rng("kobest_hellaswag")
    cap = 100  # characters of context

    def short(path: Path, prefix: str) -> list[dict]:
        return [it for it in import_items(path, "kobest_hellaswag", id_prefix=prefix)
                if len(it["context"]) - len("문장: ") <= cap]

    items = _sample(rng, short(d / "test.tsv", "hellaswag"), 100)
    fewshot = _sample(rng, short(d / "dev.tsv", "hellaswag-dev"), 5)
    prompt = "'문장: {context}' with the four endings as choices"
    notes = (f"100 items sampled with seed 0 from the test items whose context has at most {cap} characters "
             f"(ids are 1-based row numbers); prompt {prompt}, as in lm-eval's kobest_hellaswag.")
    meta = kobest_meta("kobest_hellaswag", "HellaSwag", "HellaSwag", "reasoning", "acc_norm", notes)
    what = (f"100 of the 500 test items, drawn at random (seed 0) among those with a context of at most {cap} "
            "characters; 5 few-shot items from the dev split")
    notice = KOBEST_NOTICE.format(title=meta["title_en"], repo=KOBEST_REPO, url=KOBEST_URL, task="HellaSwag",
                                  what=what, prompt=prompt)
    return meta, items, fewshot, notice, None


# --------------------------------------------------------------------------- KoBBQ

KOBBQ_NOTICE = """# KoBBQ social bias QA (sample)

Items sampled from **KoBBQ: Korean Bias Benchmark for Question Answering** by NAVER AI Lab and
KAIST: Jiho Jin, Jiseon Kim, Nayeon Lee, Haneul Yoo, Alice Oh and Hwaran Lee, TACL 2024
(arXiv:2307.16778).

- Source: {url} (`data/KoBBQ_test_samples.tsv`)
- Licence: MIT, Copyright 2024-present NAVER Cloud Corp.; the full text is in `LICENSE` here.
- What was taken: {what}
- Changes: each sample became the prompt `{{context}}\\n질문: {{question}}\\n답:` with the sample's
  three choices (the last is always the "unknown" option); the answer is the index of the
  sample's `answer` among its choices. Texts are unchanged.
- Item ids are KoBBQ `sample_id`s: `-amb-` (ambiguous context, where the correct answer is
  "unknown") or `-dis-` (disambiguated), and `-bsd-`/`-cnt-` (biased / counter-biased question),
  so bias scores can be computed per type from the results.
- The KoBBQ authors note that its English translations were machine-generated; only the Korean
  text is used here.
- Regenerate with `scripts/build_suites.py` (seeded, deterministic).
"""


def build_kobbq(data: Path) -> tuple:
    d = data / "kobbq"
    rng = _rng("kobbq")
    cap = 160  # characters of context
    samples = import_items(d / "KoBBQ_test_samples.tsv", "kobbq")

    def template(it: dict) -> str:  # e.g. age-001a-002-amb-bsd -> age-001
        cat, tid = it["id"].split("-")[:2]
        return f"{cat}-{tid[:3]}"

    def kind(it: dict) -> tuple[str, str]:
        return tuple(it["id"].split("-")[-2:])

    by_template: dict[str, list[dict]] = {}
    for it in samples:
        if len(it["context"].split("\n질문: ")[0]) <= cap:
            by_template.setdefault(template(it), []).append(it)
    templates = sorted(by_template)
    rng.shuffle(templates)

    # one item per template, 30 of each (amb|dis) x (bsd|cnt) combination
    need = {k: 30 for k in [("amb", "bsd"), ("amb", "cnt"), ("dis", "bsd"), ("dis", "cnt")]}
    picked, used = [], set()
    for t in templates:
        for k in sorted(need, key=lambda k: -need[k]):
            options = [it for it in by_template[t] if kind(it) == k]
            if need[k] and options:
                picked.append(rng.choice(options))
                need[k] -= 1
                used.add(t)
                break
    if any(need.values()):
        raise SystemExit(f"kobbq: not enough short samples for {need}")
    order = {it["id"]: i for i, it in enumerate(samples)}
    items = sorted(picked, key=lambda it: order[it["id"]])

    # KoBBQ has no train split: few-shot examples come from templates not used above
    spare = [t for t in templates if t not in used]
    fewshot = []
    for t, k in zip(spare, [("amb", "bsd"), ("dis", "bsd"), ("amb", "cnt"), ("dis", "cnt"), ("amb", "bsd"), ("dis", "cnt")]):
        options = [it for it in by_template[t] if kind(it) == k] or by_template[t]
        fewshot.append(rng.choice(options))

    what = (f"120 of the 2,280 test samples, one per template (from 120 different templates), with context "
            f"of at most {cap} characters: 60 ambiguous and 60 disambiguated, each half biased and half "
            "counter-biased questions (seed 0). KoBBQ has no training split, so the 6 few-shot examples come "
            "from other templates of the same file and never share a template with the items.")
    meta = {
        "id": "kobbq",
        "title_en": "KoBBQ social bias QA (sample)",
        "title_ko": "KoBBQ 사회적 편향 질의응답 (표본)",
        "language": "ko",
        "category": "safety",
        **MC,
        "metric": "acc",
        "num_fewshot": 0,
        "source": {
            "name": "KoBBQ (NAVER AI Lab, KAIST)",
            "url": KOBBQ_URL,
            "licence": "MIT",
            "notes": what + " Prompt '{context}\\n질문: {question}\\n답:' with the sample's three choices.",
        },
    }
    licence = (d / "LICENSE").read_text(encoding="utf-8")
    return meta, items, fewshot, KOBBQ_NOTICE.format(url=KOBBQ_URL, what=what), licence


# --------------------------------------------------------------------------- arithmetic

NAMES_KO = ["민수", "지영", "서연", "준호", "하은", "도윤", "지훈", "수빈", "예준", "유진"]
NAMES_EN = ["Mina", "Jisoo", "Tom", "Sara", "Leo", "Emma", "Noah", "Lily", "Sam", "Ava"]
ITEMS_KO = [("사과", "개", [500, 700, 800, 1000]), ("공책", "권", [900, 1200, 1500]),
            ("연필", "자루", [300, 400, 500]), ("빵", "개", [1500, 2000, 2500]), ("우유", "개", [1000, 1200, 1300])]
ITEMS_EN = [("apple", "apples", [2, 3]), ("notebook", "notebooks", [3, 4, 5]), ("pencil", "pencils", [1, 2]),
            ("sandwich", "sandwiches", [4, 5, 6]), ("juice box", "juice boxes", [2, 3])]


def josa(word: str, pair: str) -> str:
    """Korean particle for ``word``: pair is '은/는', '이/가', '을/를' or '과/와' (batchim form first)."""
    with_batchim, without = pair.split("/")
    code = ord(word[-1]) - 0xAC00
    has_batchim = 0 <= code < 11172 and code % 28 != 0
    return word + (with_batchim if has_batchim else without)


def ko_problem(kind: int, r: random.Random) -> tuple[str, int]:
    """One Korean word problem of template ``kind`` (0-9): shopping, ages, distances."""
    a, b = r.sample(NAMES_KO, 2)
    item, unit, prices = r.choice(ITEMS_KO)
    p, n = r.choice(prices), r.randint(2, 6)
    if kind == 0:
        return f"{josa(a, '은/는')} 한 {unit}에 {p}원인 {josa(item, '을/를')} {n}{unit} 샀습니다. 모두 몇 원을 냈습니까?", p * n
    if kind == 1:
        paid = 5000 if p * n < 5000 else 10000 if p * n < 10000 else 20000
        return (f"{josa(a, '은/는')} {p}원짜리 {item} {josa(str(n) + unit, '을/를')} 사고 {paid}원을 냈습니다. "
                "거스름돈은 몇 원입니까?"), paid - p * n
    if kind == 2:
        item2, unit2, prices2 = r.choice([x for x in ITEMS_KO if x[0] != item])
        p2, m = r.choice(prices2), r.randint(1, 4)
        return (f"{item} 한 {unit}에 {p}원, {item2} 한 {unit2}에 {p2}원입니다. {item} {josa(str(n) + unit, '과/와')} "
                f"{item2} {josa(str(m) + unit2, '을/를')} 사면 모두 몇 원입니까?"), p * n + p2 * m
    if kind == 3:
        age, d = r.randint(7, 15), r.randint(2, 9)
        return f"{josa(a, '은/는')} {age}살이고, {josa(b, '은/는')} {a}보다 {d}살 많습니다. {josa(b, '은/는')} 몇 살입니까?", age + d
    if kind == 4:
        age, d = r.randint(12, 20), r.randint(2, 9)
        return f"{josa(a, '은/는')} {age}살이고, {josa(b, '은/는')} {a}보다 {d}살 적습니다. {josa(b, '은/는')} 몇 살입니까?", age - d
    if kind == 5:
        x, y, k = r.randint(6, 14), r.randint(6, 14), r.randint(2, 10)
        return f"{josa(a, '은/는')} 올해 {x}살이고, {josa(b, '은/는')} {y}살입니다. {k}년 후 두 사람 나이의 합은 몇 살입니까?", x + y + 2 * k
    if kind == 6:
        vehicle, v = r.choice([("자동차", r.choice([60, 70, 80, 90])), ("자전거", r.choice([12, 15, 18])),
                               ("기차", r.choice([100, 120, 150]))])
        t = r.randint(2, 5)
        return f"{josa(vehicle, '이/가')} 한 시간에 {v}킬로미터를 갑니다. {t}시간 동안 가면 몇 킬로미터를 갑니까?", v * t
    if kind == 7:
        v, t, rest = r.choice([40, 50, 60, 70]), r.randint(2, 4), r.randint(1, 9) * 10
        total = v * t + rest
        return (f"{josa(a, '은/는')} {total}킬로미터 떨어진 도시로 가고 있습니다. 한 시간에 {v}킬로미터씩 {t}시간을 "
                "갔다면 남은 거리는 몇 킬로미터입니까?"), rest
    if kind == 8:
        place, d = r.choice(["학교", "도서관", "공원", "시장"]), r.randint(3, 12) * 100
        return (f"집에서 {place}까지의 거리는 {d}미터입니다. {josa(a, '이/가')} 집에서 {place}까지 갔다가 다시 집으로 "
                "돌아오면 모두 몇 미터를 걷습니까?"), 2 * d
    k, q = r.randint(2, 6), r.randint(3, 9)
    snack = r.choice(["사탕", "초콜릿", "귤", "쿠키"])
    return f"{snack} {k * q}개를 {k}명이 똑같이 나누어 가지면 한 명이 몇 개씩 가집니까?", q


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def en_problem(kind: int, r: random.Random) -> tuple[str, int]:
    """One English word problem of template ``kind`` (0-9), mirroring ko_problem."""
    a, b = r.sample(NAMES_EN, 2)
    item, items, prices = r.choice(ITEMS_EN)
    p, n = r.choice(prices), r.randint(2, 6)
    if kind == 0:
        return f"{a} buys {n} {items} at {p} dollars each. How many dollars does {a} spend in total?", p * n
    if kind == 1:
        paid = 20 if p * n < 20 else 50
        return (f"{a} buys {n} {items} at {p} dollars each and pays with a {paid}-dollar bill. "
                f"How many dollars of change does {a} get?"), paid - p * n
    if kind == 2:
        item2, items2, prices2 = r.choice([x for x in ITEMS_EN if x[0] != item])
        p2, m = r.choice(prices2), r.randint(1, 4)
        return (f"{_a(item).capitalize()} costs {p} dollars and {_a(item2)} costs {p2} dollars. How many dollars do {n} {items} "
                f"and {m} {items2 if m > 1 else item2} cost in total?"), p * n + p2 * m
    if kind == 3:
        age, d = r.randint(7, 15), r.randint(2, 9)
        return f"{a} is {age} years old. {b} is {d} years older than {a}. How old is {b}?", age + d
    if kind == 4:
        age, d = r.randint(12, 20), r.randint(2, 9)
        return f"{a} is {age} years old. {b} is {d} years younger than {a}. How old is {b}?", age - d
    if kind == 5:
        x, y, k = r.randint(6, 14), r.randint(6, 14), r.randint(2, 10)
        return (f"{a} is {x} years old and {b} is {y} years old. What will the sum of their ages be "
                f"in {k} years?"), x + y + 2 * k
    if kind == 6:
        vehicle, v = r.choice([("car", r.choice([60, 70, 80, 90])), ("bicycle", r.choice([12, 15, 18])),
                               ("train", r.choice([100, 120, 150]))])
        t = r.randint(2, 5)
        return f"A {vehicle} travels {v} kilometers per hour. How many kilometers does it travel in {t} hours?", v * t
    if kind == 7:
        v, t, rest = r.choice([40, 50, 60, 70]), r.randint(2, 4), r.randint(1, 9) * 10
        total = v * t + rest
        return (f"{a} is driving to a city {total} kilometers away. After driving at {v} kilometers per hour "
                f"for {t} hours, how many kilometers are left?"), rest
    if kind == 8:
        place, d = r.choice(["school", "library", "park", "market"]), r.randint(3, 12) * 100
        return (f"The {place} is {d} meters from {a}'s home. How many meters does {a} walk going to the "
                f"{place} and back home?"), 2 * d
    k, q = r.randint(2, 6), r.randint(3, 9)
    snack = r.choice(["candies", "cookies", "oranges", "stickers"])
    return f"{k * q} {snack} are shared equally among {k} children. How many {snack} does each child get?", q


def math_items(make, rng: random.Random, prefix: str, fmt: str, count: int, seen: set[str]) -> list[dict]:
    """``count`` distinct problems cycling through the 10 templates; ``seen`` prompts are skipped."""
    out = []
    while len(out) < count:
        question, answer = make(len(out) % 10, rng)
        prompt = fmt.format(question)
        if prompt in seen:
            continue
        assert answer > 0, question
        seen.add(prompt)
        out.append({"id": f"{prefix}-{len(out) + 1:03d}", "prompt": prompt, "answer": str(answer)})
    return out


MATH_NOTICE = """# {title}

{count} arithmetic word problems ({lang}) written for Dokja: generated by `scripts/build_suites.py`
from ten templates (shopping totals and change, ages, speeds and distances, fair sharing), each
with one or two operations and a positive integer answer, numbers drawn with a fixed seed.
The {fewshot} few-shot examples come from the same templates and never repeat an item.

- Licence: Apache-2.0 (part of Dokja). No third-party data.
- Scoring: the answer is the integer as a string; the `numeric` metric compares the number in
  the model's output (generation stops at a newline) with it, see `dokja.harness.scoring`.
"""


def build_math(lang: str) -> tuple:
    suite_id = f"{lang}_math"
    rng = _rng(suite_id)
    make, fmt = (ko_problem, "문제: {}\n답:") if lang == "ko" else (en_problem, "Question: {}\nAnswer:")
    seen: set[str] = set()
    items = math_items(make, rng, f"{lang}-math", fmt, 80, seen)
    fewshot = math_items(make, rng, f"{lang}-math-fs", fmt, 6, seen)
    title = ("Korean arithmetic word problems", "한국어 산수 문장제") if lang == "ko" else \
            ("English arithmetic word problems", "영어 산수 문장제")
    meta = {
        "id": suite_id,
        "title_en": title[0],
        "title_ko": title[1],
        "language": lang,
        "category": "math",
        "kind": "generate",
        "metric": "numeric",
        "num_fewshot": 3,
        "target_delimiter": " ",
        "fewshot_delimiter": "\n\n",
        "generate": {"max_new_tokens": 16, "stop": ["\n"]},
        "source": {
            "name": "Dokja (written for this project)",
            "url": "",
            "licence": "Apache-2.0",
            "notes": f"80 problems generated from 10 templates with seed {SEED} by scripts/build_suites.py; "
                     f"prompt {fmt!r}; answers are integers.",
        },
    }
    notice = MATH_NOTICE.format(title=title[0], count=80, lang="Korean" if lang == "ko" else "English",
                                fewshot=len(fewshot))
    return meta, items, fewshot, notice, None


# --------------------------------------------------------------------------- knowledge

KNOWLEDGE_NOTICE = """# {title}

{count} four-way multiple-choice questions ({topics}) written by hand for Dokja; the source is
`scripts/{source}` (question, correct answer, three distractors). The build script places the
correct answer so that each position A-D is correct equally often (seeded shuffle).
{fewshot} further questions are kept apart as few-shot examples.

- Licence: Apache-2.0 (part of Dokja). No third-party data.
- Facts were checked by the authors; report a wrong item by its id.
"""


def build_knowledge(lang: str) -> tuple:
    suite_id = f"{lang}_knowledge"
    source = f"{lang}_knowledge_source.jsonl"
    rows = read_table(ROOT / "scripts" / source)
    rng = _rng(suite_id)
    fmt = "Question: {}\nAnswer:" if lang == "en" else "질문: {}\n답:"

    def place(rs: list[dict]) -> list[dict]:
        positions = [i % 4 for i in range(len(rs))]
        rng.shuffle(positions)
        out = []
        for r, pos in zip(rs, positions):
            choices = list(r["distractors"])
            rng.shuffle(choices)
            choices.insert(pos, r["answer"])
            out.append({"id": f"{lang}-know-{r['id']}", "context": fmt.format(r["question"]), "choices": choices,
                        "answer": pos})
        return out

    items = place([r for r in rows if r["split"] == "test"])
    fewshot = place([r for r in rows if r["split"] == "fewshot"])
    topics = sorted({r["topic"] for r in rows})
    title = ("English general knowledge", "영어 일반 상식") if lang == "en" else ("Korean general knowledge", "한국어 일반 상식")
    meta = {
        "id": suite_id,
        "title_en": title[0],
        "title_ko": title[1],
        "language": lang,
        "category": "knowledge",
        **MC,
        "metric": "acc",
        "num_fewshot": 0,
        "source": {
            "name": "Dokja (written for this project)",
            "url": "",
            "licence": "Apache-2.0",
            "notes": f"{len(items)} hand-written questions from scripts/{source} ({', '.join(topics)}); "
                     f"prompt {fmt!r}; correct answers spread evenly over the four positions (seed {SEED}).",
        },
    }
    notice = KNOWLEDGE_NOTICE.format(title=title[0], count=len(items), topics=", ".join(topics), source=source,
                                     fewshot=len(fewshot))
    return meta, items, fewshot, notice, None


# --------------------------------------------------------------------------- main

def builders(data: Path) -> dict:
    return {
        "kobest_copa": lambda: build_kobest_copa(data),
        "kobest_boolq": lambda: build_kobest_boolq(data),
        "kobest_hellaswag": lambda: build_kobest_hellaswag(data),
        "kobbq": lambda: build_kobbq(data),
        "ko_math": lambda: build_math("ko"),
        "en_math": lambda: build_math("en"),
        "en_knowledge": lambda: build_knowledge("en"),
        "ko_knowledge": lambda: build_knowledge("ko"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="shared data dir")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "dokja" / "suites", help="suites dir")
    parser.add_argument("only", nargs="*", help="suite ids to build (default: all)")
    args = parser.parse_args(argv)
    todo = builders(args.data)
    unknown = set(args.only) - set(todo)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    for suite_id, build in todo.items():
        if args.only and suite_id not in args.only:
            continue
        meta, items, fewshot, notice, licence = build()
        out = write_suite(args.out / suite_id, meta, items, fewshot, notice=notice, licence_text=licence)
        if licence is None and (out / "LICENSE").exists():
            (out / "LICENSE").unlink()
        print(f"{suite_id:18} {len(items):4} items {len(fewshot):3} few-shot -> {out.relative_to(ROOT)}"
              if out.is_relative_to(ROOT) else f"{suite_id}: {len(items)} items -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
