"""Contamination check: how much of each suite item appears, n-gram for n-gram, in a team's training data.

Units are words for English and characters for Korean. Korean spacing varies from writer to writer and a
Korean word carries its particles, so Korean text is compared as its letters and digits with spaces and
punctuation dropped. Defaults: 13 words (the span GPT-3 and lm-evaluation-harness decontaminate on) and
20 Korean characters (about six or seven words: Korean items such as a KoSBi sentence are 30-60 characters,
too short for a 50-character window). An item's n-grams are hashed into one set; the training data is
streamed past it once, so memory grows with the suite, not with the corpus. N-grams shared by three or more
items are the suite's prompt template, not its content, and are left out. Canary strings of sealed suites
found in the data are reported too.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .sealed import CANARY_PATTERN
from .suite import SuiteError

WORDS_N = 13
CHARS_N = 20
TEMPLATE_ITEMS = 3
TEXT_SUFFIXES = (".txt", ".md", ".jsonl", ".json", ".txt.gz", ".jsonl.gz", ".json.gz")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_WORD = re.compile(r"\w+")
_SKIP = re.compile(r"[\W_]+")


class ContaminationError(SuiteError):
    """Training data that cannot be read for the check; one line naming the file."""


def is_korean(texts: Iterable[str]) -> bool:
    """Whether Hangul makes up at least a fifth of the letters."""
    hangul = letters = 0
    for text in texts:
        hangul += len(_HANGUL.findall(text))
        letters += sum(ch.isalpha() for ch in text)
    return letters > 0 and hangul / letters >= 0.2


def units(text: str, korean: bool) -> list[str]:
    """Normalised comparison units: lower-cased words, or Korean letters and digits without spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return list(_SKIP.sub("", text)) if korean else _WORD.findall(text)


def grams(seq: list[str], n: int, korean: bool) -> Iterator[int]:
    joiner = "" if korean else " "
    for i in range(len(seq) - n + 1):
        yield hash(joiner.join(seq[i:i + n]))


def item_text(item: dict[str, Any]) -> str:
    """What a leaked copy of an item would hold: its question and its correct answer."""
    text = item.get("context") or item.get("prompt") or ""
    answer = item.get("answer")
    choices = item.get("choices")
    if isinstance(choices, list) and isinstance(answer, int) and 0 <= answer < len(choices):
        text += " " + str(choices[answer])
    elif isinstance(answer, str):
        text += " " + answer
    return text


@dataclass(frozen=True)
class Overlap:
    item_id: str
    grams: int
    matched: int

    @property
    def fraction(self) -> float:
        return self.matched / self.grams if self.grams else 0.0


@dataclass
class ContaminationReport:
    suite: str
    n: int
    korean: bool
    threshold: float
    items: list[Overlap]
    documents: int = 0  # JSONL records and lines of text
    units: int = 0
    canaries: set[str] = field(default_factory=set)

    @property
    def flagged(self) -> list[Overlap]:
        """Items at or above the threshold, most overlapping first."""
        return sorted((o for o in self.items if o.grams and o.fraction >= self.threshold),
                      key=lambda o: (-o.fraction, o.item_id))

    @property
    def too_short(self) -> list[str]:
        return [o.item_id for o in self.items if not o.grams]


def _record_text(record: Any, text_field: str) -> str:
    """A record's text field, else all its string values."""
    if isinstance(record, dict):
        text = record.get(text_field)
        return str(text) if text is not None else " ".join(v for v in record.values() if isinstance(v, str))
    return record if isinstance(record, str) else ""


def _records(path: Path) -> bool:
    return ".jsonl" in path.suffixes or ".json" in path.suffixes


def documents(path: Path, text_field: str = "text") -> Iterator[tuple[str, bool]]:
    """Stream a file's texts as (text, continues): JSONL records stand alone, lines of text files run on."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    jsonl = _records(path)
    try:
        if path.name.endswith((".json", ".json.gz")):  # one JSON array: read whole, it is not a stream
            with opener(path, "rt", encoding="utf-8", errors="replace") as f:
                try:
                    records = json.load(f)
                except json.JSONDecodeError as exc:
                    raise ContaminationError(f"{path}: not valid JSON ({exc.msg})") from None
            for record in records if isinstance(records, list) else [records]:
                yield _record_text(record, text_field), False
            return
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not jsonl:
                    yield line, True
                    continue
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ContaminationError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
                yield _record_text(record, text_field), False
    except OSError as exc:
        raise ContaminationError(f"{path}: cannot read ({exc.strerror or exc})") from None


def data_files(paths: Iterable[Path]) -> list[Path]:
    """The given files, and the text and JSONL files under the given folders."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ContaminationError(f"{path}: no such file or folder")
    return found


def check(suite_id: str, items: list[dict[str, Any]], data: Iterable[Path], *, n: int | None = None,
          threshold: float = 0.5, korean: bool | None = None, text_field: str = "text") -> ContaminationReport:
    """Per item, the fraction of its n-grams found in the data; items at or above `threshold` are flagged."""
    texts = [item_text(it) for it in items]
    korean = is_korean(texts) if korean is None else korean
    n = n or (CHARS_N if korean else WORDS_N)
    if n < 1:
        raise ContaminationError(f"n must be at least 1, not {n}")
    per_item = [set(grams(units(t, korean), n, korean)) for t in texts]
    owners: dict[int, list[int]] = defaultdict(list)
    for i, gs in enumerate(per_item):
        for g in gs:
            owners[g].append(i)
    template = {g for g, who in owners.items() if len(who) >= TEMPLATE_ITEMS}
    for g in template:
        del owners[g]
    found: set[int] = set()
    report = ContaminationReport(suite_id, n, korean, threshold, [])
    for path in data_files(data):
        carry: list[str] = []
        for text, continues in documents(path, text_field):
            if "DOKJA-CANARY-" in text:
                report.canaries |= set(CANARY_PATTERN.findall(text))
            seq = units(text, korean)
            report.units += len(seq)
            report.documents += 1
            window = carry + seq if continues else seq
            for g in grams(window, n, korean):
                if g in owners:
                    found.add(g)
            carry = window[-(n - 1):] if continues and n > 1 else []
    for item, gs in zip(items, per_item):
        content = gs - template
        report.items.append(Overlap(str(item.get("id")), len(content), len(content & found)))
    return report

