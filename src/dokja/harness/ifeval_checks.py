"""IFEval's verifiable instructions as pure checks `(response, kwargs) -> bool`, Korean-aware.

The rules follow the published checker (Zhou et al. 2023, google-research `instruction_following_eval`, also
lm-evaluation-harness `tasks/ifeval/instructions.py`), re-implemented without nltk or langdetect:

- Words: each whitespace-separated token counts as one word if it holds Hangul (a Korean eojeol, particles
  and all: "사과를" is one word), else as its runs of letters/digits (`\\w+`, IFEval's rule: "don't" is two).
- Sentences: a stand-in for NLTK's Punkt (English model). A sentence ends at a token ending in "?" / "!" (or
  "。？！"), closing quotes and brackets allowed after it, or in "." unless the token is an abbreviation
  ("Mr.", "e.g."), an initial ("J.") or an ellipsis followed by something that does not start a sentence, or a
  number followed by a lowercase word. Korean endings before ".", "?" and "!" ("합니다.", "했나요?") end
  sentences like any other word; a line break alone does not, nor does a list number before Hangul ("1. 물을").
- Language: the script with the most letters decides (Hangul "ko", kana "ja", Han "zh", Thai "th", the Indic
  scripts, ...); within a shared script (Latin, Cyrillic, Arabic, Devanagari) letters peculiar to a language
  and a few common function words decide, and text with none of those words is "und" (undetermined: three
  names or a lone "YES" say nothing of their language). Text without letters passes, as IFEval lets text
  langdetect cannot read pass.
- Relations: "less than" / "미만" is <, "at least" / "최소" / "적어도" / "최소한" / "이상" is >=.
- Korean keywords: a forbidden Korean word is found at the start of an eojeol ("별" in "별이", "별빛", not in
  "특별한"); a Korean first word may carry a particle ("첫째로" for "첫째").
- Where the reference is not deterministic it is made so: `keywords:letter_frequency` counts the requested
  character even when it is not a-z ("#", "!"), where IFEval draws a random letter.

KITE's Korean instructions (`Korean:*`) are in `ifeval_korean`, with their rules.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Callable

Kwargs = dict[str, Any]
Check = Callable[[str, Kwargs], bool]

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")

# --- relations ------------------------------------------------------------------------------------------

LESS = ("less than", "미만")
AT_LEAST = ("at least", "최소", "적어도", "최소한", "이상")


def relation_holds(actual: int, relation: str, threshold: int) -> bool:
    """`actual < threshold` for "less than", `actual >= threshold` for "at least" (and their Korean forms)."""
    rel = str(relation).strip().lower()
    if rel in LESS:
        return actual < threshold
    if rel in AT_LEAST:
        return actual >= threshold
    raise ValueError(f"relation {relation!r} is neither 'less than' nor 'at least'")


# --- counting -------------------------------------------------------------------------------------------


def count_words(text: str) -> int:
    """Korean eojeol count for tokens with Hangul, IFEval's `\\w+` count for the rest."""
    return sum(1 if HANGUL.search(tok) else len(re.findall(r"\w+", tok)) for tok in text.split())


_TERMINAL = re.compile(r"^(?P<body>.*?)(?P<punct>[.?!。？！]+)(?P<close>[\"'”’)\]}*_»」』]*)$")
_OPENERS = "\"'“‘([{*_«「『"
_NUMBER = re.compile(r"^-?[.,]?\d[\d,.\-]*$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr vs etc inc ltd co corp gen gov sen rep lt col capt sgt rev hon messrs mt ft "
    "ave dept est approx fig no vol jan feb apr jun jul aug sep sept oct nov dec mon tue tues thu thur thurs "
    "fri a.m p.m e.g i.e u.s u.k u.n u.s.a cf al".split())
# Capitalised, these usually open a sentence (Punkt has seen them in lower case): after an abbreviation,
# initial or ellipsis they mark a sentence break.
_STARTERS = frozenset(
    "the a an this that these those it its he she they we you his her their our my your there here in on at "
    "for to from with by as of and but or so if when while after before however also then now what how why "
    "where who which each every all some many most one two three first second finally additionally "
    "furthermore moreover overall lastly next is are was were do does did can could will would should may "
    "not no yes let please remember make use try".split())


def _starts_sentence(token: str) -> bool:
    word = token.lstrip(_OPENERS)
    word = re.split(r"['’]", word.rstrip(".,;:!?\"')]}*").lower(), maxsplit=1)[0]
    return bool(word) and token.lstrip(_OPENERS)[0].isupper() and word in _STARTERS


def _ends_sentence(token: str, following: str) -> bool:
    m = _TERMINAL.match(token)
    if m is None:
        return False
    punct, body = m["punct"], m["body"].lstrip(_OPENERS)
    if set(punct) & set("?!。？！"):
        return True
    if len(punct) > 1:  # an ellipsis
        return _starts_sentence(following)
    if not body:
        return True
    nxt = following.lstrip(_OPENERS)
    if _NUMBER.match(body):
        if HANGUL.match(nxt):  # "1. 물을 끓인다": a list number, not a sentence
            return False
        return not (nxt[:1].islower() or nxt[:1] in tuple(";:,.!?"))
    word = body.lower()
    if (len(body) == 1 and body.isalpha()) or word in _ABBREVIATIONS or word.split("-")[-1] in _ABBREVIATIONS \
            or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return _starts_sentence(following)
    return True


def count_sentences(text: str) -> int:
    """Sentences as described in the module notes; empty text has none."""
    tokens = text.split()
    if not tokens:
        return 0
    return 1 + sum(_ends_sentence(tok, nxt) for tok, nxt in zip(tokens, tokens[1:]))


_SPLIT_CHARS = re.compile(r"([;@#$%&?!,\"()\[\]{}<>]|--|``|'')")
_CONTRACTION = re.compile(r"(?i)^(.+?)(n't|'s|'m|'d|'ll|'re|'ve|')$")


def word_tokens(text: str) -> list[str]:
    """Treebank-like tokens (as `nltk.word_tokenize` gives them) for counting all-capital words."""
    out = []
    for piece in _SPLIT_CHARS.sub(r" \1 ", text).split():
        m = _CONTRACTION.match(piece)
        if m and m[1] not in ("'", ""):
            out += [m[1], m[2]]
        elif piece.lower() == "cannot":
            out += [piece[:3], piece[3:]]
        else:
            out.append(piece)
    return out


# --- language -------------------------------------------------------------------------------------------

_SCRIPTS = (  # (first, last, script)
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"), (0x1E00, 0x1EFF, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"), (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"),
    (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "bn"), (0x0A00, 0x0A7F, "pa"), (0x0A80, 0x0AFF, "gu"),
    (0x0B00, 0x0B7F, "or"), (0x0B80, 0x0BFF, "ta"), (0x0C00, 0x0C7F, "te"), (0x0C80, 0x0CFF, "kn"),
    (0x0D00, 0x0D7F, "ml"), (0x0D80, 0x0DFF, "si"), (0x0E00, 0x0E7F, "th"), (0x0E80, 0x0EFF, "lo"),
    (0x10A0, 0x10FF, "ka"), (0x1100, 0x11FF, "ko"), (0x3040, 0x30FF, "ja"), (0x3130, 0x318F, "ko"),
    (0x4E00, 0x9FFF, "Han"), (0xAC00, 0xD7A3, "ko"), (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
)
_SHARED_SCRIPT = {"Greek": "el", "Armenian": "hy", "Hebrew": "he"}
_FUNCTION_WORDS = {
    "Latin": {
        "en": "the and of to a an in is that it for you with on as are this be was have or not they your we our "
              "my his her their at by from but so if all can will what there which one has had more when who "
              "do up out just me its were been would like than then some them into over about only how",
        "de": "der die und das ist nicht ein eine zu den mit sich des auf für im dem von es auch ich sie wir",
        "es": "el la de que y en los las del se por un una es con para no su al lo como más pero",
        "pt": "o a de que e do da em um uma para é com não os as no na dos das se por mais ao você são",
        "it": "il di che e la per un una non è del della in sono con si le da al lo gli ma come anche",
        "fr": "le la les de des et est un une du en que qui pas pour dans sur avec il elle nous vous au ce",
        "nl": "de het een en van ik te dat is niet op zijn voor met die er maar ook",
        "sw": "na ya wa kwa ni za katika la kwamba hii cha kuwa yake lakini kama pia mimi wewe sana watu au",
        "fi": "ja on ei se että oli hän ovat kun mutta tai niin kuin myös ole mitä joka tämä sen minä olla",
        "pl": "i w nie na się z jest że do to jak ale co tak od jego",
        "tr": "ve bir bu da de için ile çok ne olarak daha gibi ama olan",
        "id": "yang dan di ini itu dengan untuk tidak dari dalam akan pada juga saya ke ada",
        "vi": "và của là có không một những được cho trong người này các với để đã",
    },
    "Cyrillic": {
        "ru": "и в не на что это как с он я по но так все был она мы они вы его",
        "bg": "на и е да се за от че са по ще това не как но към има",
        "uk": "і в не на що це як з він я по але так та ми вони ви його",
    },
    "Devanagari": {
        "hi": "है हैं के की का में और को से यह पर था कि लिए नहीं भी हो तो ही गया कर",
        "mr": "आहे आणि व या हे ते होते आहेत मध्ये करून त्या ही तो साठी पण नाही म्हणून केले असे",
        "ne": "छ र मा हो छन् गर्न पनि यो त्यो लागि गरेको भएको हुन्छ थियो भन्ने तथा रहेको",
    },
}
_PUNCT = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()) + "।॥«»“”‘’…–—¿¡،؟"
_VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")


def _script(ch: str) -> str | None:
    code = ord(ch)
    for first, last, name in _SCRIPTS:
        if first <= code <= last:
            return name
    return None


def _by_words(text: str, script: str) -> str:
    """The language whose function words the text uses most; "und" (undetermined) when it uses none, as a
    few names or a lone "YES" say nothing of their language."""
    words = Counter(w.strip(_PUNCT) for w in text.lower().split())
    scores = {lang: sum(words[w] for w in listed.split()) for lang, listed in _FUNCTION_WORDS[script].items()}
    best = max(scores, key=lambda lang: scores[lang])  # ties go to the first listed (en, ru, hi)
    return best if scores[best] else "und"


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code for the text's language, or None when it has no letters."""
    counts = Counter(s for s in map(_script, text) if s)
    if not counts:
        return None
    script = max(counts, key=lambda s: counts[s])
    if script == "Han":
        return "ja" if counts.get("ja", 0) > 0.1 * counts[script] else "zh"
    if script == "Latin":
        latin = counts[script]
        if len(_VIETNAMESE.findall(text)) > 0.05 * latin:
            return "vi"
        return _by_words(text, "Latin")
    if script == "Cyrillic":
        if len(re.findall(r"[іїєґІЇЄҐ]", text)) > 0.01 * counts[script]:
            return "uk"
        if re.search(r"[ыэёЫЭЁ]", text):
            return "ru"
        found = _by_words(text, "Cyrillic")
        return "ru" if found == "uk" else found
    if script == "Arabic":
        if re.search(r"[\u06d2\u0679\u0688\u0691\u06ba\u06c1\u06be]", text):  # ے ٹ ڈ ڑ ں ہ ھ
            return "ur"
        persian = len(re.findall(r"[\u06cc\u06a9\u067e\u0686\u0698\u06af]", text))  # ی ک پ چ ژ گ
        arabic = len(re.findall(r"[\u064a\u0643\u0629]", text))  # ي ك ة
        return "fa" if persian > arabic else "ar"
    if script == "Devanagari":
        return _by_words(text, "Devanagari")
    return _SHARED_SCRIPT.get(script, script)


# --- IFEval checks --------------------------------------------------------------------------------------


def keywords_existence(response: str, kw: Kwargs) -> bool:
    return all(re.search(re.escape(k), response, flags=re.IGNORECASE) for k in kw["keywords"])


def keywords_frequency(response: str, kw: Kwargs) -> bool:
    found = len(re.findall(re.escape(kw["keyword"].strip()), response, flags=re.IGNORECASE))
    return relation_holds(found, kw["relation"], kw["frequency"])


def _word_pattern(word: str) -> str:
    # A Korean word takes particles on its right ("별이", "별빛"), so only its start must be a word boundary.
    right = "" if HANGUL.search(word[-1:]) else r"\b"
    return r"(?<!\w)" + re.escape(word) + right if HANGUL.search(word[:1]) else r"\b" + re.escape(word) + right


def keywords_forbidden_words(response: str, kw: Kwargs) -> bool:
    return not any(re.search(_word_pattern(w), response, flags=re.IGNORECASE) for w in kw["forbidden_words"])


def keywords_letter_frequency(response: str, kw: Kwargs) -> bool:
    # IFEval draws a random letter when the requested one is not a-z ("#", "!"); here the character is counted.
    letter = str(kw["letter"]).strip().lower()
    return relation_holds(response.lower().count(letter), kw["let_relation"], kw["let_frequency"])


def language_response_language(response: str, kw: Kwargs) -> bool:
    found = detect_language(response)
    return found is None or found == kw["language"]


def length_number_sentences(response: str, kw: Kwargs) -> bool:
    return relation_holds(count_sentences(response), kw["relation"], kw["num_sentences"])


def length_number_paragraphs(response: str, kw: Kwargs) -> bool:
    paragraphs = re.split(r"\s?\*\*\*\s?", response)
    count = len(paragraphs)
    for i, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if i in (0, len(paragraphs) - 1):
                count -= 1
            else:
                return False
    return count == kw["num_paragraphs"]


def length_number_words(response: str, kw: Kwargs) -> bool:
    return relation_holds(count_words(response), kw["relation"], kw["num_words"])


_PARTICLES = ("에서", "에게", "한테", "부터", "까지", "으로", "처럼", "보다", "은", "는", "이", "가", "을", "를",
              "에", "의", "와", "과", "로", "도", "만")


def _first_words(paragraph: str, n: int) -> str:
    words = []
    for word in paragraph.split()[:n]:
        word = word.lstrip("'").lstrip('"')
        words.append(re.split(r"[.,?!'\"]", word, maxsplit=1)[0].lower())
    return " ".join(words)


def length_nth_paragraph_first_word(response: str, kw: Kwargs) -> bool:
    """IFEval's rule (paragraphs split on "\\n\\n", empty ones not counted); a Korean first word may carry a
    particle ("첫째로" for "첫째"), and a first "word" of several words ("신문 찾기") is matched word by word."""
    paragraphs = re.split(r"\n\n", response)
    count = sum(1 for p in paragraphs if p.strip())
    nth, want = kw["nth_paragraph"], str(kw["first_word"]).lower().strip()
    if nth > count or not paragraphs[nth - 1].strip():
        return False
    got = _first_words(paragraphs[nth - 1].strip(), max(1, len(want.split())))
    same = got == want or (HANGUL.search(want[-1:]) is not None and got.startswith(want)
                           and got[len(want):] in _PARTICLES)
    return count == kw["num_paragraphs"] and same


def content_number_placeholders(response: str, kw: Kwargs) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= kw["num_placeholders"]


def content_postscript(response: str, kw: Kwargs) -> bool:
    marker = str(kw["postscript_marker"]).strip()
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
    return bool(re.findall(pattern, response.lower(), flags=re.MULTILINE))


def format_number_bullet_lists(response: str, kw: Kwargs) -> bool:
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    return len(stars) + len(dashes) == kw["num_bullets"]


CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def format_constrained_response(response: str, kw: Kwargs) -> bool:
    value = response.strip()
    return any(option in value for option in kw.get("options") or CONSTRAINED_OPTIONS)


def format_number_highlighted_sections(response: str, kw: Kwargs) -> bool:
    # As the current reference counts them: *single* highlights, and **double** ones once more.
    single = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
    return len(single) + len(double) >= kw["num_highlights"]


def format_multiple_sections(response: str, kw: Kwargs) -> bool:
    splitter = str(kw["section_spliter"]).strip()
    sections = re.split(r"\s?" + re.escape(splitter) + r"\s?\d+\s?", response)
    return len(sections) - 1 >= kw["num_sections"]


def format_json_format(response: str, kw: Kwargs) -> bool:
    value = response.strip()
    for prefix in ("```json", "```Json", "```JSON", "```"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    value = value.removesuffix("```").strip()
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def format_title(response: str, kw: Kwargs) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))


def combination_two_responses(response: str, kw: Kwargs) -> bool:
    parts = response.split("******")
    valid = []
    for i, part in enumerate(parts):
        if part.strip():
            valid.append(part)
        elif i not in (0, len(parts) - 1):
            return False
    return len(valid) == 2 and valid[0].strip() != valid[1].strip()


def combination_repeat_prompt(response: str, kw: Kwargs) -> bool:
    return response.strip().lower().startswith(str(kw["prompt_to_repeat"]).strip().lower())


def startend_end_checker(response: str, kw: Kwargs) -> bool:
    return response.strip().strip('"').lower().endswith(str(kw["end_phrase"]).strip().lower())


def startend_quotation(response: str, kw: Kwargs) -> bool:
    value = response.strip()
    return len(value) > 1 and value[0] == '"' and value[-1] == '"'


def change_case_capital_word_frequency(response: str, kw: Kwargs) -> bool:
    capitals = sum(1 for word in word_tokens(response) if word.isupper())
    return relation_holds(capitals, kw["capital_relation"], kw["capital_frequency"])


def change_case_english_capital(response: str, kw: Kwargs) -> bool:
    return response.isupper() and detect_language(response) in ("en", None)


def change_case_english_lowercase(response: str, kw: Kwargs) -> bool:
    return response.islower() and detect_language(response) in ("en", None)


def punctuation_no_comma(response: str, kw: Kwargs) -> bool:
    return "," not in response


# --- registry -------------------------------------------------------------------------------------------

# instruction id -> (check, required kwargs, optional kwargs)
CHECKS: dict[str, tuple[Check, tuple[str, ...], tuple[str, ...]]] = {
    "keywords:existence": (keywords_existence, ("keywords",), ()),
    "keywords:frequency": (keywords_frequency, ("keyword", "frequency", "relation"), ()),
    "keywords:forbidden_words": (keywords_forbidden_words, ("forbidden_words",), ()),
    "keywords:letter_frequency": (keywords_letter_frequency, ("letter", "let_frequency", "let_relation"), ()),
    "language:response_language": (language_response_language, ("language",), ()),
    "length_constraints:number_sentences": (length_number_sentences, ("num_sentences", "relation"), ()),
    "length_constraints:number_paragraphs": (length_number_paragraphs, ("num_paragraphs",), ()),
    "length_constraints:number_words": (length_number_words, ("num_words", "relation"), ()),
    "length_constraints:nth_paragraph_first_word": (
        length_nth_paragraph_first_word, ("num_paragraphs", "nth_paragraph", "first_word"), ()),
    "detectable_content:number_placeholders": (content_number_placeholders, ("num_placeholders",), ()),
    "detectable_content:postscript": (content_postscript, ("postscript_marker",), ()),
    "detectable_format:number_bullet_lists": (format_number_bullet_lists, ("num_bullets",), ()),
    "detectable_format:constrained_response": (format_constrained_response, (), ("options",)),
    "detectable_format:number_highlighted_sections": (format_number_highlighted_sections, ("num_highlights",), ()),
    "detectable_format:multiple_sections": (format_multiple_sections, ("section_spliter", "num_sections"), ()),
    "detectable_format:json_format": (format_json_format, (), ()),
    "detectable_format:title": (format_title, (), ()),
    "combination:two_responses": (combination_two_responses, (), ()),
    "combination:repeat_prompt": (combination_repeat_prompt, ("prompt_to_repeat",), ()),
    "startend:end_checker": (startend_end_checker, ("end_phrase",), ()),
    "startend:quotation": (startend_quotation, (), ()),
    "change_case:capital_word_frequency": (
        change_case_capital_word_frequency, ("capital_frequency", "capital_relation"), ()),
    "change_case:english_capital": (change_case_english_capital, (), ()),
    "change_case:english_lowercase": (change_case_english_lowercase, (), ()),
    "punctuation:no_comma": (punctuation_no_comma, (), ()),
}
RELATION_KEYS = ("relation", "let_relation", "capital_relation")
