"""Does an answer give away which model wrote it? A battle whose answers name a model or its maker is
no longer blind, so its vote is left out of the ratings.

Each name is matched in its own spelling, in its family stem (``SmolLM2-135M-Instruct`` → "smollm",
``Gemma 3 270M`` → "gemma") and in the known Korean and English forms below, case-blind and with
flexible spaces and hyphens. Latin forms must stand as words (digits may follow, "SmolLM2");
Korean forms must not continue a Korean word (so "라마" does not fire inside "드라마"), while
particles may follow ("구글이", "허깅페이스에서").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

__all__ = ["KNOWN_FORMS", "identity_forms", "reveals_identity"]

KNOWN_FORMS: dict[str, tuple[str, ...]] = {
    "huggingface": ("hugging face", "허깅페이스", "허깅 페이스"),
    "google": ("google", "구글", "deepmind", "딥마인드"),
    "gemma": ("gemma", "젬마"),
    "gemini": ("gemini", "제미나이", "제미니"),
    "smollm": ("smollm", "스몰엘엠"),
    "meta": ("meta ai", "메타 ai", "메타ai"),
    "llama": ("llama", "라마"),
    "openai": ("openai", "오픈ai", "오픈에이아이"),
    "gpt": ("chatgpt", "gpt", "챗gpt", "챗지피티", "지피티"),
    "anthropic": ("anthropic", "앤트로픽"),
    "claude": ("claude", "클로드"),
    "naver": ("naver", "네이버"),
    "hyperclova": ("hyperclova", "하이퍼클로바"),
    "lg": ("lg ai", "엘지"),
    "exaone": ("exaone", "엑사원"),
    "upstage": ("upstage", "업스테이지"),
    "kakao": ("kakao", "카카오"),
    "mistral": ("mistral", "미스트랄"),
    "qwen": ("qwen", "큐웬", "통의천문"),
    "alibaba": ("alibaba", "알리바바"),
    "deepseek": ("deepseek", "딥시크"),
    "microsoft": ("microsoft", "마이크로소프트"),
}

_SEP = r"[\s\-_.·]*"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", _norm(text))


def _stem(name: str) -> str:
    """The family: the first word's leading letters ("SmolLM2-135M-Instruct" → "smollm")."""
    first = re.split(r"[\s\-_./:]+", _norm(name).strip())[0]
    m = re.match(r"[^\W\d_]+", first)
    return m.group(0) if m else ""


def identity_forms(names: Iterable[str], makers: Iterable[str]) -> tuple[str, ...]:
    """Every spelling that would give a model away: its names, family stems, makers and known forms."""
    forms = set()
    for raw in list(names) + list(makers):
        if not raw or not raw.strip():
            continue
        base = re.sub(r"^(?:team|팀)\s+", "", _norm(raw).strip())
        forms.add(base)
        stem = _stem(base)
        if len(stem) >= 3 or (stem and stem == _compact(base)):
            forms.add(stem)
        for key in {_compact(base), stem}:
            forms.update(KNOWN_FORMS.get(key, ()))
    return tuple(sorted(f for f in forms if f.strip()))


def _pattern(form: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-_.·]+", form) if w]
    body = _SEP.join(words)
    before = r"(?<![a-z])" if re.match(r"[a-z0-9]", form) else r"(?<![가-힣])"
    after = r"(?![a-z])" if re.search(r"[a-z0-9]$", form) else ""
    return before + body + after


@lru_cache(maxsize=256)
def _matcher(forms: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(_pattern(f) for f in sorted(forms, key=len, reverse=True)))


def reveals_identity(text: str, names: Iterable[str], makers: Iterable[str] = ()) -> bool:
    """Whether ``text`` names one of the models or makers, in Korean or English."""
    forms = identity_forms(names, makers)
    if not forms or not text:
        return False
    return _matcher(forms).search(_norm(text)) is not None
