"""Turn locally downloaded benchmark files into Dokja suite items.

Operators fetch KMMLU, HAE-RAE Bench, MMLU or KoBEST themselves (licences and sizes vary), then
point Dokja at the files. This module reads the common table formats, maps each dataset's columns
to the suite item schema (``id``/``context``/``choices``/``answer``) and writes a suite directory
in the bundled-suite format. Prompts follow lm-evaluation-harness where it has a convention, so
scores stay comparable.
"""

from __future__ import annotations

import ast
import csv
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .suite import check_items

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Prompt templates for question + lettered options (lm-eval's MMLU / KMMLU defaults), and for
# question + option texts scored directly.
TEMPLATES = {
    "mmlu": "Answer:",
    "kmmlu": "정답：",  # lm-eval's kmmlu uses a full-width colon
}
QA_TEMPLATES = {"qa": ("Question: ", "\nAnswer:"), "ko_qa": ("질문: ", "\n답:"), "raw": ("", "")}

Row = dict[str, Any]


# --------------------------------------------------------------------------- reading tables


def read_table(path: str | Path, *, fieldnames: Sequence[str] | None = None) -> list[Row]:
    """Read .jsonl, .json (a list of objects), .csv, .tsv or .parquet into a list of dicts.

    ``fieldnames`` is for header-less CSV/TSV files (the original MMLU release): the names are
    given to the columns in order and the first line is read as data.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    rows.append(_json(line, f"{path}:{n}"))
    elif suffix == ".json":
        rows = _json(path.read_text(encoding="utf-8"), str(path))
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of objects, found {type(rows).__name__}")
    elif suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, fieldnames=list(fieldnames) if fieldnames else None, delimiter=delimiter)
            rows = [dict(r) for r in reader]
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        raise ValueError(
            f"{path}: unknown table format {suffix or '(no extension)'!r}; use .jsonl, .json, .csv, .tsv or .parquet"
        )
    if rows and not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{path}: expected one object per row")
    return rows


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e.msg})") from None


# --------------------------------------------------------------------------- column helpers


class _Ctx:
    """The file being imported and its options, so errors can name both."""

    def __init__(self, path: Path, opts: Mapping[str, Any]):
        self.path = path
        self.opts = opts

    def col(self, row: Row, role: str) -> Any:
        """Value of the column playing ``role``; the option may list alternative names."""
        return row[self.name(row, role)]

    def name(self, row: Row, role: str) -> str:
        wanted = self.opts.get(role)
        if wanted is None:
            raise ValueError(f"{self.path}: no column given for {role!r} (pass {role}=...)")
        names = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        for n in names:
            if n in row:
                return n
        found = ", ".join(map(str, row)) or "(none)"
        raise ValueError(f"{self.path}: missing column {' or '.join(map(repr, names))} (columns found: {found})")

    def has(self, row: Row, role: str) -> bool:
        wanted = self.opts.get(role)
        if wanted is None:
            return False
        names = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        return any(n in row for n in names)

    def fail(self, row_no: int, message: str) -> ValueError:
        return ValueError(f"{self.path}: row {row_no}: {message}")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_list(value: Any) -> list[str]:
    """A list column: a real list (parquet/JSON) or a list written as text (CSV)."""
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays from some parquet readers
        return [_text(v) for v in value.tolist()]
    text = _text(value)
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, (list, tuple)):
            return [_text(v) for v in parsed]
    raise ValueError(f"not a list: {text[:60]!r}")


def answer_index(value: Any, base: str | int, n: int, choices: Sequence[str] = ()) -> int:
    """Map a raw answer to a 0-based index.

    ``base``: 0 or 1 (integer answers), "letter" ("B", "(B)", "b"), "bool" (True/False ->
    1/0, for yes/no items whose choices are [no, yes]), "text" (the answer is a choice's text),
    or "auto" (a letter if it looks like one, else a 0-based integer).
    """
    base = str(base)
    raw = value
    if base == "auto":
        s = _text(value).strip("()").strip()
        base = "letter" if len(s) == 1 and s.upper() in LETTERS else "0"
    if base == "text":
        text = _text(raw)
        if text not in choices:
            raise ValueError(f"answer {text!r} is not one of the choices {list(choices)}")
        return list(choices).index(text)
    if base == "bool":
        s = _text(raw).lower()
        if s in ("true", "1", "yes", "예"):
            idx = 1
        elif s in ("false", "0", "no", "아니오"):
            idx = 0
        else:
            raise ValueError(f"answer {raw!r} is not true/false")
    elif base == "letter":
        s = _text(raw).strip("()").strip().upper()
        if len(s) != 1 or s not in LETTERS:
            raise ValueError(f"answer {raw!r} is not a letter")
        idx = LETTERS.index(s)
    elif base in ("0", "1"):
        try:
            idx = int(float(_text(raw))) - int(base)
        except ValueError:
            raise ValueError(f"answer {raw!r} is not an integer") from None
    else:
        raise ValueError(f"unknown answer base {base!r}; use 0, 1, letter, bool, text or auto")
    if not 0 <= idx < n:
        raise ValueError(f"answer {raw!r} is out of range for {n} choices")
    return idx


def lettered_prompt(question: str, choices: Sequence[str], answer_cue: str) -> str:
    """``{question}\\nA. {a}\\nB. {b}...\\n{cue}`` as in lm-eval's MMLU and KMMLU tasks."""
    lines = [question.strip()] + [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    return "\n".join(lines) + "\n" + answer_cue


# --------------------------------------------------------------------------- presets

Make = Callable[[Row, _Ctx], tuple[str, list[str], int]]


@dataclass(frozen=True)
class Preset:
    """How one dataset's rows become items: default column names and a row -> item function."""

    name: str
    make: Make
    columns: Mapping[str, Any] = field(default_factory=dict)
    id_column: str | None = None
    id_prefix: str = ""
    headerless: tuple[str, ...] | None = None  # column names for files without a header row
    description: str = ""
    sampler: str = "lmeval"  # how lm-eval's task for this dataset picks few-shot examples (`prompts.SAMPLERS`)


def _choices(row: Row, ctx: _Ctx) -> list[str]:
    """Choices from a list column (``choices``) or from separate columns (``choice_columns``)."""
    if ctx.has(row, "choices"):
        return _parse_list(ctx.col(row, "choices"))
    cols = ctx.opts.get("choice_columns")
    if cols and all(c in row for c in cols):
        return [_text(row[c]) for c in cols]
    wanted = [repr(ctx.opts["choices"])] if ctx.opts.get("choices") else []
    wanted += [repr(c) for c in cols or () if c not in row][:1]
    found = ", ".join(map(str, row))
    raise ValueError(f"{ctx.path}: missing column {' or '.join(wanted) or 'choices'} (columns found: {found})")


def _make_mc(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    question = _text(ctx.col(row, "question"))
    choices = _choices(row, ctx)
    answer = answer_index(ctx.col(row, "answer"), ctx.opts.get("answer_base", 0), len(choices), choices)
    template = ctx.opts.get("template", "mmlu")
    if template in TEMPLATES:
        return lettered_prompt(question, choices, TEMPLATES[template]), list(LETTERS[: len(choices)]), answer
    if template in QA_TEMPLATES:
        head, tail = QA_TEMPLATES[template]
        return f"{head}{question}{tail}".rstrip(), choices, answer
    known = ", ".join([*TEMPLATES, *QA_TEMPLATES])
    raise ValueError(f"unknown template {template!r}; use one of {known}")


_OPTION_LABEL = re.compile(r"\(([A-J])\)")


def _make_haerae(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    """HAE-RAE: the query usually lists its options as (A)..(E) already; then, as in lm-eval,
    the choices are the labels. Without labels in the query, the option texts are scored."""
    query = _text(ctx.col(row, "question"))
    labels = sorted(set(_OPTION_LABEL.findall(query)))
    options = _parse_list(ctx.col(row, "choices")) if ctx.has(row, "choices") else []
    if labels:
        n = max(len(options), LETTERS.index(labels[-1]) + 1)
        choices = [f"({LETTERS[i]})" for i in range(n)]
    elif options:
        choices = options
    else:
        raise ValueError(f"{ctx.path}: query has no (A)-style options and no options column")
    raw = ctx.col(row, "answer")
    base = ctx.opts.get("answer_base", "auto")
    return query, choices, answer_index(raw, base, len(choices), options or choices)


def _make_copa(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    """lm-eval's kobest_copa prompt, character for character: f"{premise} {connector}" with " 왜냐하면"."""
    premise = _text(ctx.col(row, "question"))
    kind = _text(ctx.col(row, "relation"))
    connector = {"원인": "왜냐하면", "결과": "그래서"}.get(kind)
    if connector is None:
        raise ValueError(f"question type {kind!r} is not 원인 or 결과")
    choices = [_text(row[c]) for c in _choice_cols(row, ctx)]
    base = 0 if ctx.name(row, "answer") == "label" else 1  # HF files use 0/1, the TSVs 1/2
    return f"{premise}  {connector}", choices, answer_index(ctx.col(row, "answer"), base, 2)


def _choice_cols(row: Row, ctx: _Ctx) -> tuple[str, ...]:
    """First set of ``choice_columns`` alternatives present in the row (TSV vs HF names)."""
    sets = ctx.opts["choice_columns"]
    sets = [sets] if isinstance(sets[0], str) else sets
    for cols in sets:
        if all(c in row for c in cols):
            return tuple(cols)
    found = ", ".join(map(str, row))
    raise ValueError(f"{ctx.path}: missing columns {' or '.join(map(str, sets))} (columns found: {found})")


def _make_boolq(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    text, question = _text(ctx.col(row, "passage")), _text(ctx.col(row, "question"))
    return f"{text} 질문: {question} 답변:", ["아니오", "예"], answer_index(ctx.col(row, "answer"), "bool", 2)


def _make_hellaswag(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    choices = [_text(row[c]) for c in _choice_cols(row, ctx)]
    return f"문장: {_text(ctx.col(row, 'question'))}", choices, answer_index(ctx.col(row, "answer"), 0, 4)


def _make_kobbq(row: Row, ctx: _Ctx) -> tuple[str, list[str], int]:
    context, question = _text(ctx.col(row, "passage")), _text(ctx.col(row, "question"))
    choices = _parse_list(ctx.col(row, "choices"))
    return f"{context}\n질문: {question}\n답:", choices, answer_index(ctx.col(row, "answer"), "text", 3, choices)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "kmmlu",
            _make_mc,
            {"question": "question", "choice_columns": ("A", "B", "C", "D"), "answer": "answer",
             "answer_base": 1, "template": "kmmlu"},
            id_prefix="kmmlu",
            description="KMMLU (HAERAE-HUB/KMMLU CSV): question, A-D, answer 1-4",
        ),
        Preset(
            "mmlu",
            _make_mc,
            {"question": "question", "choices": "choices", "choice_columns": ("A", "B", "C", "D"),
             "answer": "answer", "answer_base": "auto", "template": "mmlu"},
            id_prefix="mmlu",
            headerless=("question", "A", "B", "C", "D", "answer"),
            description="MMLU: cais/mmlu parquet (choices list, answer 0-3) or original header-less CSV",
            sampler="first",  # lm-eval's mmlu takes the first k of the dev split (first_n)
        ),
        Preset(
            "haerae",
            _make_haerae,
            {"question": "query", "choices": "options", "answer": "answer", "answer_base": "auto"},
            id_prefix="haerae",
            description="HAE-RAE Bench: query, options, answer '(A)'/'A'/index",
        ),
        Preset(
            "kobest_copa",
            _make_copa,
            {"question": ("sentence", "premise"), "relation": "question",
             "choice_columns": (("1", "2"), ("alternative_1", "alternative_2")), "answer": ("Answer", "label")},
            id_column="ID",
            id_prefix="copa",
            description="KoBEST COPA TSV (ID, sentence, question, 1, 2, Answer) or HF columns",
        ),
        Preset(
            "kobest_boolq",
            _make_boolq,
            {"passage": ("Text", "paragraph"), "question": ("Question", "question"), "answer": ("Answer", "label")},
            id_column="ID",
            id_prefix="boolq",
            description="KoBEST BoolQ TSV (ID, Text, Question, Answer) or HF columns",
        ),
        Preset(
            "kobest_hellaswag",
            _make_hellaswag,
            {"question": "context", "answer": "label",
             "choice_columns": (("choice1", "choice2", "choice3", "choice4"),
                                ("ending_1", "ending_2", "ending_3", "ending_4"))},
            id_prefix="hellaswag",
            description="KoBEST HellaSwag TSV (context, choice1-4, label) or HF columns",
        ),
        Preset(
            "kobbq",
            _make_kobbq,
            {"passage": "context", "question": "question", "choices": "choices", "answer": "answer"},
            id_column="sample_id",
            description="KoBBQ samples TSV: context, question, choices (list literal), answer (text)",
        ),
        Preset(
            "mc",
            _make_mc,
            {"question": "question", "choices": "choices", "answer": "answer", "answer_base": 0, "template": "mmlu"},
            id_prefix="item",
            description="generic multiple choice: pass question=, choices= or choice_columns=, answer=, "
            "answer_base= (0, 1, letter, bool, text, auto), template= (mmlu, kmmlu, qa, ko_qa, raw)",
        ),
    ]
}


# --------------------------------------------------------------------------- importing


def import_items(
    path: str | Path,
    preset: str | Preset,
    *,
    limit: int | None = None,
    seed: int = 0,
    header: bool = True,
    fieldnames: Sequence[str] | None = None,
    id_prefix: str | None = None,
    **columns: Any,
) -> list[dict]:
    """Read ``path`` and return suite items (``id``, ``context``, ``choices``, ``answer``).

    ``columns`` override the preset's column names and options (``question=``, ``choices=``,
    ``choice_columns=``, ``answer=``, ``answer_base=``, ``template=``, ``id=``). With ``limit``,
    a seeded random sample is returned, kept in file order so runs are reproducible.
    """
    path = Path(path)
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"{path}: unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        preset = PRESETS[preset]
    if not header and fieldnames is None:
        fieldnames = preset.headerless
        if fieldnames is None:
            raise ValueError(f"{path}: preset {preset.name!r} needs fieldnames=... for a file without a header")
    opts = {**preset.columns, **columns}
    ctx = _Ctx(path, opts)
    rows = read_table(path, fieldnames=fieldnames if not header else None)
    prefix = preset.id_prefix if id_prefix is None else id_prefix
    id_col = opts.get("id", preset.id_column)

    items, seen = [], set()
    for row_no, row in enumerate(rows, start=1):
        try:
            context, choices, answer = preset.make(row, ctx)
        except ValueError as e:
            if str(e).startswith(str(path)):
                raise
            raise ctx.fail(row_no, str(e)) from None
        key = _text(row.get(id_col)) if id_col else ""
        key = key or str(row_no)  # files without ids get their 1-based row number
        item_id = f"{prefix}-{key}" if prefix else key
        if item_id in seen:
            raise ctx.fail(row_no, f"duplicate id {item_id!r}")
        seen.add(item_id)
        items.append({"id": item_id, "context": context.rstrip(), "choices": choices, "answer": answer})
    if limit is not None and limit < len(items):
        keep = set(random.Random(seed).sample(range(len(items)), limit))
        items = [it for i, it in enumerate(items) if i in keep]
    return items


# --------------------------------------------------------------------------- writing suites

TOP_KEYS = ("id", "title_en", "title_ko", "language", "category", "kind", "metric", "num_fewshot",
            "target_delimiter", "fewshot_delimiter")


def imported_meta(suite_id: str, preset: str, source: str, *, title: str = "", language: str = "ko",
                  category: str = "knowledge", licence: str = "", num_fewshot: int = 0) -> dict[str, Any]:
    """suite.toml of an imported public benchmark: few-shot examples drawn as lm-eval's task for the dataset
    draws them (its seeded default sampler, or the first k for MMLU), so k-shot scores compare with lm-eval's."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    return {"id": suite_id, "title_en": title or suite_id, "title_ko": title or suite_id, "language": language,
            "category": category, "kind": "multiple_choice", "metric": "acc", "num_fewshot": num_fewshot,
            "target_delimiter": " ", "fewshot_delimiter": "\n\n", "fewshot_sampler": PRESETS[preset].sampler,
            "source": {"name": source, "licence": licence, "notes": f"imported with preset {preset}"}}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to suite.toml")


def to_toml(meta: Mapping[str, Any]) -> str:
    """Small TOML writer for suite.toml: scalars and lists, then one level of tables."""
    scalars = [k for k in TOP_KEYS if k in meta] + [k for k in meta if k not in TOP_KEYS and not isinstance(meta[k], Mapping)]
    lines = [f"{k} = {_toml_value(meta[k])}" for k in scalars]
    for k, table in meta.items():
        if isinstance(table, Mapping):
            lines += ["", f"[{k}]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in table.items()]
    return "\n".join(lines) + "\n"


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_suite(
    dir: str | Path,
    meta: Mapping[str, Any],
    items: Sequence[dict],
    fewshot: Sequence[dict] | None = None,
    *,
    notice: str | None = None,
    licence_text: str | None = None,
) -> Path:
    """Write suite.toml, items.jsonl, fewshot.jsonl (+ NOTICE.md, LICENSE) into ``dir``."""
    dir = Path(dir)
    kind = meta.get("kind", "multiple_choice")
    check_items(items, kind)
    check_items(fewshot or [], kind)
    overlap = {i["id"] for i in items} & {i["id"] for i in fewshot or []}
    if overlap:
        raise ValueError(f"few-shot ids also in items: {sorted(overlap)[:5]}")
    dir.mkdir(parents=True, exist_ok=True)
    (dir / "suite.toml").write_text(to_toml(meta), encoding="utf-8")
    _write_jsonl(dir / "items.jsonl", items)
    _write_jsonl(dir / "fewshot.jsonl", fewshot or [])
    if notice is not None:
        (dir / "NOTICE.md").write_text(notice.rstrip() + "\n", encoding="utf-8")
    if licence_text is not None:
        (dir / "LICENSE").write_text(licence_text, encoding="utf-8")
    return dir
