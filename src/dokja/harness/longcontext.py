"""Long-context retrieval items: a passkey or a needle hidden at a chosen depth in filler of a chosen length.

Items are generated, not stored: the same (lengths, depths, per_cell, seed, language) always gives the
same items, so a suite file of a few lines stands for any grid. Lengths count characters of the
haystack; depth 0 puts the needle first, 1 last. Answers are numbers, scored with `numeric`.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

PASSKEY_FILLER = {
    "en": "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.",
    "ko": "풀은 푸르다. 하늘은 파랗다. 해는 노랗다. 자, 가 보자. 갔다가 다시 돌아온다.",
}
HAYSTACK = {
    "en": [
        "The library opens at nine and closes when the last reader leaves.",
        "Rivers carve valleys slowly, one season of rain after another.",
        "A good map leaves out almost everything so that the rest can be seen.",
        "The baker starts before dawn, when the streets are still quiet.",
        "Most bridges are built to carry far more weight than they ever will.",
        "Old letters often say more about the writer than about the news.",
        "The orchestra tunes to a single note before every performance.",
        "Snow on the mountain keeps the rivers full well into summer.",
        "A tidy workshop saves more time than any new tool.",
        "Trains in the morning are full of people reading the same headlines.",
        "The garden needs less water once the roots have gone deep.",
        "Every harbour has a lighthouse, even where the sea is calm.",
    ],
    "ko": [
        "도서관은 아침 아홉 시에 문을 열고 마지막 손님이 나가면 닫는다.",
        "강은 비가 오는 계절마다 조금씩 골짜기를 깎아 낸다.",
        "좋은 지도는 거의 모든 것을 빼고 꼭 필요한 것만 보여 준다.",
        "제빵사는 거리가 아직 조용한 새벽에 일을 시작한다.",
        "대부분의 다리는 실제로 견딜 무게보다 훨씬 무거운 하중을 견디도록 지어진다.",
        "오래된 편지는 소식보다 쓴 사람에 대해 더 많은 것을 알려 준다.",
        "관현악단은 공연 전에 늘 한 음에 맞추어 악기를 조율한다.",
        "산에 쌓인 눈은 여름까지 강물을 넉넉하게 채워 준다.",
        "잘 정돈된 작업실은 어떤 새 도구보다 시간을 더 아껴 준다.",
        "아침 기차 안에는 같은 기사를 읽는 사람들로 가득하다.",
        "뿌리가 깊이 내리면 정원에 물을 덜 주어도 된다.",
        "바다가 잔잔한 곳에도 항구마다 등대가 하나씩 있다.",
    ],
}
PLACES = {
    "en": ["Busan", "Lisbon", "Nairobi", "Oslo", "Quito", "Hanoi", "Tunis", "Perth", "Riga", "Lima"],
    "ko": ["부산", "전주", "강릉", "제주", "목포", "안동", "속초", "여수", "청주", "포항"],
}
PASSKEY = {
    "en": ("There is an important piece of information hidden inside a lot of irrelevant text. Find it and "
           "remember it; you will be asked about it.",
           "The pass key is {key}. Remember it. {key} is the pass key.",
           "Question: What is the pass key?\nAnswer: The pass key is"),
    "ko": ("관련 없는 많은 글 속에 중요한 정보가 하나 숨어 있습니다. 그 정보를 찾아 기억하세요. 나중에 물어보겠습니다.",
           "비밀번호는 {key}입니다. 기억하세요. {key}가 비밀번호입니다.",
           "질문: 비밀번호는 무엇입니까?\n답: 비밀번호는"),
}
NEEDLE = {
    "en": ("Read the text below and answer the question after it.",
           "The special magic number for {place} is {key}.",
           "Question: What is the special magic number for {place}?\nAnswer: The special magic number for "
           "{place} is"),
    "ko": ("아래 글을 읽고 뒤에 나오는 질문에 답하세요.",
           "{place}의 특별한 마법 숫자는 {key}입니다.",
           "질문: {place}의 특별한 마법 숫자는 무엇입니까?\n답: {place}의 특별한 마법 숫자는"),
}
TASKS = ("passkey", "needle")


class LongContextError(ValueError):
    """A generator setting out of range; the message names the setting."""


def _sentences(task: str, language: str, rng: random.Random) -> list[str]:
    if task == "passkey":
        return [s.strip() + "." for s in PASSKEY_FILLER[language].split(".") if s.strip()]
    bank = list(HAYSTACK[language])
    rng.shuffle(bank)
    return bank


def haystack(sentences: list[str], length: int, needle: str, depth: float) -> str:
    """Filler of about `length` characters (cut at a sentence), with `needle` at fraction `depth` of it."""
    parts, size, i = [], 0, 0
    while size < length:
        sentence = sentences[i % len(sentences)]
        if parts and size + 1 + len(sentence) > length:
            break
        parts.append(sentence)
        size += len(sentence) + (1 if len(parts) > 1 else 0)
        i += 1
    at, acc = 0, 0
    target = depth * size
    for j, sentence in enumerate(parts):
        if acc >= target:
            break
        acc += len(sentence) + 1
        at = j + 1
    return " ".join(parts[:at] + [needle] + parts[at:])


def items(task: str, lengths: Sequence[int], depths: Sequence[float], *, per_cell: int = 1, seed: int = 0,
          language: str = "en") -> list[dict[str, Any]]:
    """One item per (length, depth, repeat): a prompt that hides a 5-digit number, and that number."""
    if task not in TASKS:
        raise LongContextError(f"name: {task!r} is not a long-context task ({', '.join(TASKS)})")
    if language not in PASSKEY:
        raise LongContextError(f"language: {language!r} is not 'ko' or 'en'")
    if not lengths or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in lengths):
        raise LongContextError(f"lengths: expected whole numbers of characters ≥ 1, found {list(lengths)!r}")
    if not depths or any(isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d <= 1 for d in depths):
        raise LongContextError(f"depths: expected fractions between 0 and 1, found {list(depths)!r}")
    if isinstance(per_cell, bool) or not isinstance(per_cell, int) or per_cell < 1:
        raise LongContextError(f"per_cell: expected a whole number ≥ 1, found {per_cell!r}")
    intro, needle, question = (PASSKEY if task == "passkey" else NEEDLE)[language]
    out = []
    for length in lengths:
        for depth in depths:
            for n in range(per_cell):
                rng = random.Random(f"{task}/{language}/{seed}/{length}/{depth}/{n}")
                key, place = str(rng.randint(10000, 99999)), rng.choice(PLACES[language])
                text = haystack(_sentences(task, language, rng), length, needle.format(key=key, place=place), depth)
                out.append({"id": f"{task}-{language}-{length}-d{round(depth * 100):03d}-{n}",
                            "prompt": f"{intro}\n\n{text}\n\n{question.format(place=place)}",
                            "answer": key, "length": length, "depth": float(depth)})
    return out


def generate_items(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Items from a suite file's `generator` table: name, lengths, depths, per_cell, seed, language."""
    if not isinstance(spec, dict):
        raise LongContextError("expected a table (name, lengths, depths, per_cell, seed, language)")
    unknown = set(spec) - {"name", "lengths", "depths", "per_cell", "seed", "language"}
    if unknown:
        raise LongContextError(f"{sorted(unknown)[0]}: unknown setting")
    return items(spec.get("name", ""), spec.get("lengths") or [], spec.get("depths", [0.0, 0.5, 1.0]),
                 per_cell=spec.get("per_cell", 1), seed=spec.get("seed", 0), language=spec.get("language", "en"))
