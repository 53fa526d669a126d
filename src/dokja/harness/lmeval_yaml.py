"""lm-evaluation-harness task YAML, translated into Dokja's suite definition.

The common cases are read: `multiple_choice` and `generate_until` tasks over local data
(`dataset_kwargs.data_files`, or a `datasets` directory saved to disk), with `doc_to_text`,
`doc_to_choice`, `doc_to_target`, delimiters, `num_fewshot`, `generation_kwargs.until` and
`metric_list`. Python hooks (`!function`) and `include` are refused: a suite is data, not code.
Few-shot examples are drawn as lm-eval draws them: its default sampler (seed 1234, one generator through the
documents in order; Dokja's "lmeval"), or the first `num_fewshot` when `fewshot_config.sampler` is `first_n`
(Dokja's "first"); `fewshot_config.split` names the few-shot split as in lm-eval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .suite import SuiteError
from .suitefile import FunctionTag

OUTPUT_TYPES = {"multiple_choice": "multiple_choice", "generate_until": "generate"}
METRICS = {"acc": "acc", "acc_norm": "acc_norm", "acc_bytes": "acc_bytes", "exact_match": "exact_match"}
FILE_BUILDERS = ("json", "csv", "parquet", "arrow")
# lm-eval fields and the Dokja fields they become, so that errors name what the author wrote.
NAMES = {"template": "doc_to_text", "choices": "doc_to_choice", "target": "doc_to_target", "data": "dataset_path",
         "data.files": "dataset_kwargs.data_files", "kind": "output_type", "metric": "metric_list",
         "num_fewshot": "num_fewshot", "regex": "filter_list"}
SAMPLERS = {"default": "lmeval", "first_n": "first"}  # lm-eval's sampler names and Dokja's
FEWSHOT_KEYS = ("sampler", "split")  # what of `fewshot_config` is read; the rest would change the examples
_REFUSED = {"process_docs": "runs Python code on the dataset", "process_results": "runs Python code to score",
            "doc_to_image": "images are not supported", "doc_to_audio": "audio is not supported",
            "use_prompt": "promptsource prompts are not supported", "custom_dataset": "runs Python code"}


def looks_like_task(doc: dict) -> bool:
    return any(key in doc for key in ("task", "output_type", "doc_to_text", "dataset_path", "include"))


def _functions(value: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(value, FunctionTag):
        return [(where, value.target)]
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _functions(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _functions(v, f"{where}[{i}]")]
    return []


def _refuse(doc: dict, path: Path) -> None:
    if "include" in doc:
        raise SuiteError(f"{path}: include: including another task file is not supported; "
                         "copy its fields into this file")
    found = _functions(doc, "")
    if found:
        field, target = found[0]
        raise SuiteError(f"{path}: {field}: !function {target} runs Python code; write it as a Jinja "
                         "template or a column name")
    for key, why in _REFUSED.items():
        if doc.get(key) not in (None, False, ""):
            raise SuiteError(f"{path}: {key}: {why}")
    if isinstance(doc.get("task"), list) or "group" in doc and "task" not in doc:
        raise SuiteError(f"{path}: task: a group of tasks; give each task its own file")
    if int(doc.get("repeats", 1) or 1) != 1:
        raise SuiteError(f"{path}: repeats: only 1 is supported")


def _fewshot_config(doc: dict, path: Path) -> tuple[str, str | None]:
    """Dokja's sampler for the task's `fewshot_config.sampler`, and the split it names, if any."""
    config = doc.get("fewshot_config") or {}
    if not isinstance(config, dict):
        raise SuiteError(f"{path}: fewshot_config: expected a mapping")
    for key in config:
        if key not in FEWSHOT_KEYS:
            raise SuiteError(f"{path}: fewshot_config.{key}: not supported (only {', '.join(FEWSHOT_KEYS)})")
    sampler = config.get("sampler", "default")
    if sampler not in SAMPLERS:
        raise SuiteError(f"{path}: fewshot_config.sampler: {sampler!r} is not supported ({', '.join(SAMPLERS)})")
    split = config.get("split")
    return SAMPLERS[sampler], str(split) if split is not None else None


def _data(doc: dict, path: Path) -> dict:
    source, kwargs = doc.get("dataset_path"), doc.get("dataset_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{path}: dataset_kwargs: expected a mapping")
    split = doc.get("test_split") or doc.get("validation_split")
    if split is None:
        raise SuiteError(f"{path}: test_split: missing (or validation_split)")
    shots = _fewshot_config(doc, path)[1] or doc.get("fewshot_split") or doc.get("training_split")
    if shots is None and doc.get("test_split") and doc.get("validation_split"):
        shots = doc["validation_split"]
    data: dict[str, Any] = {"split": split, "fewshot_split": shots}
    files = kwargs.get("data_files")
    if files is not None:
        if isinstance(files, (str, list)):
            files = {"train": files}
        if not isinstance(files, dict):
            raise SuiteError(f"{path}: dataset_kwargs.data_files: expected a file, a list or a split mapping")
        flat = {}
        for name, value in files.items():
            if isinstance(value, list):
                if len(value) != 1:
                    raise SuiteError(f"{path}: dataset_kwargs.data_files.{name}: give one file per split")
                value = value[0]
            flat[str(name)] = str(value)
        data["files"] = flat
        return data
    if source is None:
        raise SuiteError(f"{path}: dataset_path: missing")
    where = path.parent / str(source)
    name = doc.get("dataset_name")
    if name and (where / str(name)).is_dir():
        where = where / str(name)
    if not where.exists():
        raise SuiteError(f"{path}: dataset_path: {source!r} is not on this machine; save it with "
                         "datasets' save_to_disk or list local files in dataset_kwargs.data_files")
    data["path"] = str(where.relative_to(path.parent)) if where.is_relative_to(path.parent) else str(where)
    return data


def _metric(doc: dict, kind: str, path: Path) -> str:
    listed = doc.get("metric_list")
    if not listed:
        return "acc" if kind == "multiple_choice" else "exact_match"
    names = [m.get("metric") if isinstance(m, dict) else m for m in listed]
    for name in names:
        if name in METRICS:
            return METRICS[name]
    raise SuiteError(f"{path}: metric_list: none of {', '.join(map(str, names))} is supported "
                     f"({', '.join(METRICS)})")


def _regex_filter(doc: dict) -> str | None:
    """The first regex filter of `filter_list` (e.g. GSM8K's "#### (-?[0-9.,]+)"), if any."""
    for entry in doc.get("filter_list") or []:
        for step in (entry or {}).get("filter") or []:
            if isinstance(step, dict) and step.get("function") == "regex" and step.get("regex_pattern"):
                return str(step["regex_pattern"])
    return None


def translate(doc: dict, path: Path) -> tuple[dict, dict[str, str]]:
    """The Dokja suite definition of an lm-eval task, and the field names to use in errors."""
    _refuse(doc, path)
    output = doc.get("output_type", "generate_until")
    if output not in OUTPUT_TYPES:
        raise SuiteError(f"{path}: output_type: {output!r} is not supported ({', '.join(OUTPUT_TYPES)})")
    kind = OUTPUT_TYPES[output]
    for field in ("doc_to_text", "doc_to_target") + (("doc_to_choice",) if kind == "multiple_choice" else ()):
        if doc.get(field) is None or doc.get(field) == "":
            raise SuiteError(f"{path}: {field}: missing")
    meta = doc.get("metadata") or {}
    fewshot_delimiter = doc.get("fewshot_delimiter", "\n\n")
    spec: dict[str, Any] = {
        "id": str(doc.get("task") or path.stem),
        "title_en": meta.get("title_en", str(doc.get("task") or path.stem)),
        "kind": kind,
        "metric": _metric(doc, kind, path),
        "data": _data(doc, path),
        "template": doc["doc_to_text"],
        "target": doc["doc_to_target"],
        "num_fewshot": doc.get("num_fewshot") or 0,
        "target_delimiter": doc.get("target_delimiter", " "),
        "fewshot_delimiter": fewshot_delimiter,
        "fewshot_sampler": _fewshot_config(doc, path)[0],
    }
    if "doc_to_choice" in doc:
        spec["choices"] = doc["doc_to_choice"]
    if doc.get("description"):
        spec["description"] = str(doc["description"])
    for key in ("title_ko", "language", "category"):
        if key in meta:
            spec[key] = meta[key]
    spec["source"] = {"name": meta.get("source", str(doc.get("dataset_path") or path.name)),
                      "licence": meta.get("licence", ""), "notes": f"lm-evaluation-harness task {spec['id']}"}
    if kind == "generate":
        gen = doc.get("generation_kwargs") or {}
        until = gen.get("until", [fewshot_delimiter])
        spec["generate"] = {"max_new_tokens": int(gen.get("max_gen_toks", 256)),
                            "stop": [until] if isinstance(until, str) else list(until)}
        pattern = _regex_filter(doc)
        if pattern:
            spec["scorer"], spec["regex"] = "regex", pattern
    return spec, NAMES
