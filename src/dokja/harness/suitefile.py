"""A suite written as one file (YAML or TOML): where its rows are, how a row becomes a prompt, how it is scored.

Rows are rendered into Dokja's item format when the file is loaded (`context`/`choices`/`answer` for
multiple choice, `prompt`/`answer` for generation), so the runner, the store and the item commitment
treat a suite file exactly like a suite directory. lm-evaluation-harness task YAML is translated into
the same definition first (`lmeval_yaml`).
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .datasource import SourceError, is_saved_dataset, read_rows
from .judge import Rubric
from .suite import Suite, SuiteError, check_code_and_samples, check_items

SUFFIXES = (".yaml", ".yml", ".toml")
KINDS = ("multiple_choice", "generate")
SCORERS = {"multiple_choice": ("loglikelihood", "letter"),
           "generate": ("exact_match", "numeric", "regex", "rubric", "math", "ifeval", "code")}
METRICS = {"multiple_choice": ("acc", "acc_norm", "acc_bytes"),
           "generate": ("exact_match", "numeric", "rubric", "math", "prompt_strict", "prompt_loose", "inst_strict",
                        "inst_loose", "pass@1", "win_rate", "consistent")}
_RESERVED = ("data", "template", "choices", "target", "generator", "fewshot", "fields")
_ITEM_KEYS = ("id", "prompt", "answer", "context", "choices")


def _regex_replace(value: str, pattern: str, repl: str = "", count: int = 0) -> str:
    return re.sub(pattern, repl, value, count=count)


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_ENV.filters["regex_replace"] = _regex_replace  # as lm-evaluation-harness offers it


class FunctionTag:
    """A `!function module.name` reference: Python code, which a suite file may not run."""

    def __init__(self, target: str):
        self.target = target


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!function", lambda loader, node: FunctionTag(loader.construct_scalar(node)))


def read_definition(path: Path) -> dict[str, Any]:
    """The file's mapping; a syntax error is one line naming the file and the place."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text) if path.suffix == ".toml" else yaml.load(text, Loader=_Loader)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: not valid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SuiteError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise SuiteError(f"{path}: a suite file must be a mapping of fields, not {type(doc).__name__}")
    return doc


class _Fields:
    """Raises one-line errors naming the file and the field as the author wrote it."""

    def __init__(self, path: Path, names: dict[str, str] | None = None):
        self.path, self.names = path, names or {}

    def error(self, field: str, fault: str) -> SuiteError:
        return SuiteError(f"{self.path}: {self.names.get(field, field)}: {fault}")


_COMPILED: dict[str, Any] = {}


def _compile(source: str, fields: _Fields, field: str):
    if source not in _COMPILED:
        try:
            _COMPILED[source] = _ENV.from_string(source)
        except TemplateError as exc:
            raise fields.error(field, f"template syntax error: {exc}") from None
    return _COMPILED[source]


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _value(spec: Any, row: dict[str, Any], fields: _Fields, field: str, n: int) -> Any:
    """A field's value for one row: a literal, a column's value, or a rendered Jinja template."""
    if isinstance(spec, FunctionTag):
        raise fields.error(field, f"!function {spec.target} runs Python code; write it as a Jinja template")
    if isinstance(spec, bool) or spec is None:
        raise fields.error(field, f"expected a template, column or value, found {spec!r}")
    if isinstance(spec, (int, float)):
        return spec
    if isinstance(spec, list):  # literal choices; an element may itself be a template
        return [_value(v, row, fields, field, n) if isinstance(v, str) and _is_template(v) else v for v in spec]
    if isinstance(spec, dict):
        return list(spec.values())
    if spec in row:
        return row[spec]
    try:
        return _compile(spec, fields, field).render(**row)
    except UndefinedError as exc:
        m = re.match(r"'([^']+)' is undefined", str(exc))
        what = f"unknown column {m.group(1)!r}" if m else str(exc)
        raise fields.error(field, f"{what} in row {n} (columns: {', '.join(map(str, row))})") from None
    except Exception as exc:  # the template's own fault on this row, e.g. a failing filter
        raise fields.error(field, f"row {n}: {type(exc).__name__}: {exc}") from None


def _choice_list(value: Any, fields: _Fields, n: int) -> list[str]:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise fields.error("choices", f"row {n}: {value[:60]!r} is not a list") from None
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise fields.error("choices", f"row {n}: expected a list of at least two choices, found {value!r}")
    return [str(c) for c in value]


def _answer_index(value: Any, choices: list[str], fields: _Fields, n: int) -> int:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, str):
        if value in choices:
            return choices.index(value)
        raise fields.error("target", f"row {n}: {value!r} is neither an index nor one of the choices")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(choices):
        raise fields.error("target", f"row {n}: answer {value!r} out of range for {len(choices)} choices")
    return value


def _item_id(row: dict, spec: Any, prefix: str, n: int, fields: _Fields) -> str:
    if spec is not None:
        return str(_value(spec, row, fields, "data.id", n))
    for column in ("id", "ID", "idx"):
        if column in row and row[column] not in (None, ""):
            return f"{prefix}{row[column]}"
    return f"{prefix}{n}"


def render_items(rows: list[dict], spec: dict, kind: str, fields: _Fields, prefix: str = "") -> list[dict]:
    """Rows to items: the template gives the prompt, `choices` the options, `target` the answer."""
    items = []
    for n, row in enumerate(rows):
        item_id = _item_id(row, (spec.get("data") or {}).get("id"), prefix, n, fields)
        text = _value(spec["template"], row, fields, "template", n)
        if not isinstance(text, str):
            text = str(text)
        target = _value(spec["target"], row, fields, "target", n)
        if kind == "multiple_choice":
            choices = _choice_list(_value(spec["choices"], row, fields, "choices", n), fields, n)
            items.append({"id": item_id, "context": text, "choices": choices,
                          "answer": _answer_index(target, choices, fields, n)})
        else:
            if "choices" in spec and isinstance(target, int) and not isinstance(target, bool):
                target = _choice_list(_value(spec["choices"], row, fields, "choices", n), fields, n)[target]
            if isinstance(target, list):
                target = target[0] if target else ""
            items.append({"id": item_id, "prompt": text, "answer": str(target)})
        for name, value in (spec.get("fields") or {}).items():  # e.g. a code item's tests
            items[-1][name] = _value(value, row, fields, f"fields.{name}", n)
    return items


def _source_rows(data: dict, role: str, base: Path, fields: _Fields) -> list[dict] | None:
    """Rows for the items (`role` "items") or the few-shot examples ("fewshot"); None if there are none."""
    files, path = data.get("files"), data.get("path")
    split = data.get("split") if role == "items" else data.get("fewshot_split")
    if role == "fewshot" and data.get("fewshot_path"):
        where, split = base / str(data["fewshot_path"]), data.get("fewshot_split")
    elif files is not None:
        if not isinstance(files, dict):
            raise fields.error("data.files", "expected a mapping of split to file")
        if split is None and role == "items":
            split = "test" if "test" in files else next(iter(files), None)
        if split is None:
            return None
        if split not in files:
            raise fields.error("data.files", f"no file for split {split!r} (splits: {', '.join(files)})")
        where = base / str(files[split])
    elif path is not None:
        where = base / str(path)
        if role == "fewshot" and (split is None or not is_saved_dataset(where)):
            return None
    else:
        raise fields.error("data", "missing: give data.path or data.files")
    try:
        return read_rows(where, split)
    except SourceError as exc:
        raise fields.error("data", str(exc)) from None


def _require(spec: dict, field: str, fields: _Fields) -> Any:
    if field not in spec or spec[field] is None or spec[field] == "":
        raise fields.error(field, "missing")
    return spec[field]


def _plain(value: Any) -> Any:
    """The definition as JSON can store it (YAML may hold dates and other objects)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def build_suite(spec: dict, path: Path, names: dict[str, str] | None = None, *, format: str = "dokja") -> Suite:
    """A Suite from a definition; every fault is one line naming the file and the field."""
    fields = _Fields(path, names)
    generator = spec.get("generator")
    kind = spec.get("kind", "generate" if generator else None)
    if kind is None:
        raise fields.error("kind", "missing")
    if kind not in KINDS:
        raise fields.error("kind", f"must be 'multiple_choice' or 'generate', not {kind!r}")
    if generator is not None:
        from .longcontext import LongContextError, generate_items

        try:
            items, fewshot = generate_items(generator), []
        except LongContextError as exc:
            raise fields.error("generator", str(exc)) from None
        if kind != "generate":
            raise fields.error("kind", "long-context generators make generation items; use kind 'generate'")
    else:
        data = _require(spec, "data", fields)
        if not isinstance(data, dict):
            raise fields.error("data", "expected a mapping (path or files, split, fewshot_split)")
        _require(spec, "template", fields)
        _require(spec, "target", fields)
        if kind == "multiple_choice":
            _require(spec, "choices", fields)
        rows = _source_rows(data, "items", path.parent, fields)
        if not rows:
            raise fields.error("data", "no rows")
        items = render_items(rows, spec, kind, fields)
        shot_rows = _source_rows(data, "fewshot", path.parent, fields) or []
        fewshot = render_items(shot_rows, spec, kind, fields, prefix="fewshot-")
    extra = spec.get("fields")
    if extra is not None and (not isinstance(extra, dict) or set(extra) & set(_ITEM_KEYS)):
        raise fields.error("fields", f"expected a mapping of other item fields to columns or templates "
                                     f"(not {', '.join(_ITEM_KEYS)})")
    meta = _meta(spec, kind, path, fields, format)
    if meta["num_fewshot"] > len(fewshot):
        raise fields.error("num_fewshot", f"{meta['num_fewshot']} asked, but only {len(fewshot)} few-shot "
                                          "examples (set data.fewshot_split or data.fewshot_path)")
    try:
        check_items(items, kind, strict_text=False)
        check_items(fewshot, kind, strict_text=False)
    except ValueError as exc:
        raise fields.error("data", str(exc)) from None
    suite = Suite(meta["id"], meta, items, fewshot, path)
    check_code_and_samples(suite, path)
    return suite


def _meta(spec: dict, kind: str, path: Path, fields: _Fields, format: str) -> dict:
    scorer = spec.get("scorer", SCORERS[kind][0])
    if scorer not in SCORERS[kind]:
        raise fields.error("scorer", f"{scorer!r} is not a {kind} scorer ({', '.join(SCORERS[kind])})")
    default = {"loglikelihood": "acc", "letter": "acc", "numeric": "numeric", "rubric": "rubric", "code": "pass@1"}
    metric = spec.get("metric", default.get(scorer, "exact_match"))
    if metric not in METRICS[kind]:
        raise fields.error("metric", f"{metric!r} is not a {kind} metric ({', '.join(METRICS[kind])})")
    if scorer == "regex" and not isinstance(spec.get("regex"), str):
        raise fields.error("regex", "missing: the regex scorer needs a pattern whose first group is the answer")
    if scorer == "rubric":
        judge = spec.get("judge")
        if not isinstance(judge, dict) or not judge.get("model"):
            raise fields.error("judge", "missing: the rubric scorer needs judge.model and judge.rubric")
        try:
            if judge.get("mode", "score") == "score":  # a pairwise judge compares, it has no rubric
                Rubric.from_meta(judge, spec.get("language", ""))
        except (ValueError, TypeError) as exc:
            raise fields.error("judge", str(exc)) from None
    k = spec.get("num_fewshot", 0)
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise fields.error("num_fewshot", f"expected a whole number ≥ 0, found {k!r}")
    for field in ("target_delimiter", "fewshot_delimiter"):
        if not isinstance(spec.get(field, ""), str):
            raise fields.error(field, "expected a string")
    source = dict(spec.get("source") or {})
    if "licence" in spec:
        source.setdefault("licence", spec["licence"])
    source.setdefault("name", path.name)
    meta = {key: value for key, value in spec.items() if key not in _RESERVED and key != "licence"}
    meta.update(id=str(spec.get("id") or path.stem), kind=kind, metric=metric, scorer=scorer, num_fewshot=k,
                target_delimiter=spec.get("target_delimiter", " "),
                fewshot_delimiter=spec.get("fewshot_delimiter", "\n\n"), source=source,
                definition={"format": format, "file": path.name,
                            **{key: spec[key] for key in _RESERVED if key in spec}})
    meta.setdefault("title_en", meta["id"])
    meta.setdefault("title_ko", meta["title_en"])
    meta.setdefault("language", "")
    meta.setdefault("category", "")
    if kind == "generate":
        gen = dict(meta.get("generate") or {})
        gen.setdefault("max_new_tokens", 32)
        gen.setdefault("stop", ["\n"])
        meta["generate"] = gen
    return _plain(meta)


def load_suite_file(path: Path) -> Suite:
    """A suite from a YAML or TOML file: Dokja's own definition, or an lm-evaluation-harness task."""
    from . import lmeval_yaml

    doc = read_definition(path)
    if lmeval_yaml.looks_like_task(doc):
        spec, names = lmeval_yaml.translate(doc, path)
        return build_suite(spec, path, names, format="lm-eval")
    return build_suite(doc, path)
