"""KITE's Korean instructions (`Korean:*`) as pure checks `(response, kwargs) -> bool`; the rules are documented
on each function (see `ifeval_checks` for the IFEval ones and the shared counting)."""

from __future__ import annotations

import re
from collections import Counter

from .ifeval_checks import _SYLLABLE, Check, Kwargs


# --- KITE's Korean instructions -------------------------------------------------------------------------

_LINE_LEAD = re.compile(r"^(?:[-*+•>#]+\s*|\d+[.)]\s*|[\"'“‘(\[【「『*_~\s])*")


def korean_acrostic_poem(response: str, kw: Kwargs) -> bool:
    """An acrostic (N행시) on `target_word`: N consecutive non-empty lines, the i-th starting with the word's
    i-th syllable once list marks, emphasis, quotes and brackets are set aside ("**가**을 하늘", "- 가: ...").
    Other lines (a title, the repeated request, an end phrase) may come before or after."""
    word = str(kw["target_word"]).strip()
    leads = [_LINE_LEAD.sub("", line.strip())[:1] for line in response.splitlines() if line.strip()]
    n = len(word)
    return n > 0 and any("".join(leads[i:i + n]) == word for i in range(len(leads) - n + 1))


POSTPOSITIONS = ("에서", "으로", "가", "이", "은", "는", "을", "를", "에", "와", "과", "로")
# Adnominal verb forms end like the topic particles 은/는 but are endings, not particles: common ones, and any
# before a noun they typically modify ("끓이는 법", "타는 방법", "만드는 것").
_ADNOMINAL = re.compile(r"(?:하|되|있|없|않|같|많|좋|싶|다|라)[는은]$")
_MODIFIED = {"법", "것", "거", "방법", "수", "중", "때", "데", "곳", "사람", "이유", "과정", "순서", "경우", "방식",
             "동안", "날", "점", "편", "적", "습관", "모습", "느낌", "기분", "시간"}


def _hangul_word(token: str) -> str:
    return "".join(_SYLLABLE.findall(token)) if re.fullmatch(r"\W*[\uac00-\ud7a3]+\W*", token) else ""


def particles_used(response: str) -> list[str]:
    """The eojeols that end in one of KITE's particles (가 이 은 는 을 를 에 에서 와 과 로 으로): Hangul words
    of two or more syllables, punctuation stripped; a word in 은/는 is taken for an adnominal ending, not a
    particle, when it is a common adnominal form ("하는", "있는", "같은") or comes before a noun such forms
    modify ("끓이는 법"). Without a morphological analyser a noun that ends in such a syllable ("사과",
    "아이") is counted too."""
    tokens = response.split()
    found = []
    for token, following in zip(tokens, tokens[1:] + [""]):
        word = _hangul_word(token)
        if len(word) < 2 or not word.endswith(POSTPOSITIONS):
            continue
        nxt = _hangul_word(following)
        before_noun = token == word and (nxt in _MODIFIED or _core(nxt) in _MODIFIED)
        if word[-1] in "은는" and (_ADNOMINAL.search(word) or before_noun):
            continue
        found.append(word)
    return found


def korean_postposition_drop(response: str, kw: Kwargs) -> bool:
    """No eojeol ends in a particle (see `particles_used`)."""
    return not particles_used(response)


def _without_quotes(response: str, kw: Kwargs) -> str:
    """The response less verbatim copies of the request and of the sentence it quotes (kwargs `request`,
    `source`), so that repeating them (as `combination:repeat_prompt` asks) is not judged as the answer."""
    for copy in (kw.get("request"), kw.get("source")):
        if copy and str(copy).strip():
            response = response.replace(str(copy).strip(), " ")
    return response


_SENTENCE_END = re.compile(r"([\uac00-\ud7a3]+)[\"'”’)\]]*\s*[.?!。？！]")
# Final syllables of plain (반말, 해라체) sentence endings: 했다, 했어, 가자, 할까, 됐지, 쉬어, 와, 줘, ...
_PLAIN_FINALS = set("다어아야지자니냐래네군걸게께까해돼봐줘와워라렴마대데나가고여져쳐켜둬놔써서")


def _has_final_b(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 == 17  # final ㅂ: 합, 입, 습, 갑


def speech_level(word: str) -> str | None:
    """'honorific' for 존댓말 endings (-요, -죠, -ㅂ니다, -ㅂ니까, -시오, -소서), 'plain' for 반말/해라체
    endings (see `_PLAIN_FINALS`), None for anything else (a noun: "끝", "변환")."""
    if word.endswith(("요", "죠", "시오", "소서")):
        return "honorific"
    if word.endswith(("니다", "니까")) and len(word) >= 3 and _has_final_b(word[-3]):
        return "honorific"
    if word[-1:] in _PLAIN_FINALS:
        return "plain"
    return None


def speech_levels(text: str) -> Counter:
    """How many sentences (a Hangul word before ".", "?" or "!") end in each speech level."""
    return Counter(level for word in _SENTENCE_END.findall(text) if (level := speech_level(word)))


def korean_honorifics(response: str, kw: Kwargs) -> bool:
    """`direction_to` "honorific": at least one sentence in 존댓말 and none in 반말; "non-honorific": the
    reverse. Sentences are Hangul words before terminal punctuation; copies of the request and of the
    quoted source sentence are set aside first (kwargs `request`, `source`)."""
    levels = speech_levels(_without_quotes(response, kw))
    want, other = ("honorific", "plain") if kw["direction_to"] == "honorific" else ("plain", "honorific")
    return levels[want] > 0 and levels[other] == 0


_SINO_DIGIT = "일이삼사오육칠팔구"
_SINO_BELOW_MAN = r"(?:[이삼사오육칠팔구]?천)?(?:[이삼사오육칠팔구]?백)?(?:[이삼사오육칠팔구]?십)?[일이삼사오육칠팔구]?"
_SINO = re.compile(rf"(?:{_SINO_BELOW_MAN}만)?{_SINO_BELOW_MAN}")
_TENS = "열|스물|스무|서른|마흔|쉰|예순|일흔|여든|아흔"
_NATIVE_FREE = re.compile(rf"(?:{_TENS})?(?:하나|둘|셋|넷|다섯|여섯|일곱|여덟|아홉)")
_NATIVE_MOD = re.compile(rf"(?:(?:{_TENS})?(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉)|{_TENS})")
_NATIVE_DAYS = re.compile(r"(?:하루|이틀|사흘|나흘|닷새|엿새|이레|여드레|아흐레|열흘|보름)")
COUNTERS = ("개", "명", "분", "시", "초", "살", "세", "번", "마리", "송이", "가지", "권", "장", "잔", "병", "대",
            "벌", "켤레", "그루", "채", "척", "곳", "군데", "층", "원", "쪽", "페이지", "조각", "과목", "학년",
            "달", "날", "년", "월", "일", "주", "주일", "개월", "시간", "사람", "그릇", "점", "회", "줄", "통")
_NATIVE_ATTACHED = ("개", "명", "분", "시", "번", "마리", "송이", "가지", "권", "장", "잔", "병", "살", "달", "사람",
                    "그릇", "벌", "켤레", "시간")
_SINO_ATTACHED = ("일", "년", "월", "분", "초", "시", "층", "세")
_NOT_NUMBERS = {"이분", "오일", "일세", "이세", "오시", "이시", "사시", "일시", "구시", "구세", "사세", "일분"}
_PARTICLE_TAIL = re.compile(r"(?:째)?(?:에서|에게|한테|부터|까지|으로|처럼|보다|이나|이랑|하고|은|는|이|가|을|를|"
                            r"에|의|와|과|로|도|만|쯤|씩)?$")


def _core(word: str) -> str:
    return _PARTICLE_TAIL.sub("", word, count=1) or word


def _counter_led(word: str | None) -> bool:
    return word is not None and any(_core(word) == c or word == c for c in COUNTERS)


def _native(word: str, following: str | None) -> bool:
    core = _core(word)
    if _NATIVE_DAYS.fullmatch(core) or _NATIVE_FREE.fullmatch(core):  # 열흘, 하나, 스물둘
        return True
    if _NATIVE_MOD.fullmatch(word) and following is not None and (  # 세 송이, 서른 다섯
            _counter_led(following) or _NATIVE_FREE.fullmatch(_core(following))):
        return True
    return any(len(core) > len(c) and core.endswith(c) and _NATIVE_MOD.fullmatch(core[:-len(c)])  # 세시, 한번
               for c in _NATIVE_ATTACHED)


def _sino(word: str, following: str | None) -> bool:
    core = _core(word)
    if core in _NOT_NUMBERS or core[:1] not in tuple(_SINO_DIGIT + "십백천만"):
        return False
    if (len(core) >= 2 and _SINO.fullmatch(core)) or (_SINO.fullmatch(word) and _counter_led(following)):
        return True  # 이십, 삼십오; 삼 송이
    return any(len(core) > len(c) and core.endswith(c) and _SINO.fullmatch(core[:-len(c)])  # 삼일째, 칠년
               for c in _SINO_ATTACHED)


def number_words(text: str) -> Counter:
    """How many Sino-Korean ('chinese': 이십, 삼 송이, 칠 일, 삼일째) and native Korean ('korean': 하나, 세 송이,
    스무 살, 열흘) numerals the text holds. Native modifier forms (한, 두, 세, 네, 스무) and one-syllable
    Sino-Korean numerals count only before a counter word (개, 명, 시, 송이, ...) or with one attached;
    Arabic digits count as neither."""
    words = re.findall(r"[\uac00-\ud7a3]+", text)
    found: Counter = Counter()
    for word, following in zip(words, words[1:] + [None]):
        if _native(word, following):
            found["korean"] += 1
        elif _sino(word, following):
            found["chinese"] += 1
    return found


def korean_numbers(response: str, kw: Kwargs) -> bool:
    """`direction_to` "chinese": at least one Sino-Korean numeral and no native one; "korean": the reverse
    (see `number_words`). Copies of the request and of the quoted source sentence are set aside first."""
    found = number_words(_without_quotes(response, kw))
    want, other = ("chinese", "korean") if kw["direction_to"] == "chinese" else ("korean", "chinese")
    return found[want] > 0 and found[other] == 0


# instruction id -> (check, required kwargs, optional kwargs), as `ifeval_checks.CHECKS`
KOREAN_CHECKS: dict[str, tuple[Check, tuple[str, ...], tuple[str, ...]]] = {
    "Korean:acrostic_poem": (korean_acrostic_poem, ("target_word",), ()),
    "Korean:postposition_drop": (korean_postposition_drop, (), ()),
    "Korean:honorifics": (korean_honorifics, ("direction_to",), ("source", "request")),
    "Korean:numbers": (korean_numbers, ("direction_to",), ("source", "request")),
}
DIRECTIONS = {"Korean:honorifics": ("honorific", "non-honorific"), "Korean:numbers": ("chinese", "korean")}
