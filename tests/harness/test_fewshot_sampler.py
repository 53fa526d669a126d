"""Few-shot examples as lm-evaluation-harness picks them, checked against requests lm-eval itself built.

`data/lmeval_fewshot.json` holds hand-written rows and, per task variant, every document's context as lm-eval
0.4 built it (written by `benchmarks/lmeval_fewshot_golden.py`; lm-eval is not a test dependency).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from dokja.harness import prompts
from dokja.harness.importers import imported_meta, write_suite
from dokja.harness.runner import config_of
from dokja.harness.suite import SuiteError, load_suite

GOLDEN = json.loads((Path(__file__).parent / "data" / "lmeval_fewshot.json").read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]


def task_file(folder: Path, case: dict, **extra) -> Path:
    """The case's lm-eval task over the golden rows, as a YAML file next to them."""
    for split, rows in GOLDEN["rows"].items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                               encoding="utf-8")
    doc = {"task": "golden", "dataset_path": "json", "test_split": "test", "num_fewshot": case["num_fewshot"],
           "dataset_kwargs": {"data_files": {"train": "train.jsonl", "test": "test.jsonl"}}, **case["fields"], **extra}
    path = folder / "golden.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def asked(suite, item, k: int) -> dict:
    """What Dokja sends for an item, in the golden file's shape."""
    if suite.kind == "multiple_choice":
        requests = prompts.choice_requests(suite, item, k)
        return {"context": requests[0][0], "continuations": [c for _, c in requests]}
    return {"context": prompts.generation_prompt(suite, item, k), "continuations": []}


def load_case(tmp_path: Path, name: str):
    case = CASES[name]
    suite = load_suite(task_file(tmp_path, case))
    if case["seed"] != prompts.LMEVAL_SEED:  # lm-eval takes its seed from the run, Dokja from the suite
        suite.meta["fewshot_seed"] = case["seed"]
    return suite, case


@pytest.mark.parametrize("name", sorted(CASES))
def test_requests_equal_lm_evals(tmp_path, name):
    suite, case = load_case(tmp_path, name)
    expected = "first" if case["fields"].get("fewshot_config", {}).get("sampler") == "first_n" else "lmeval"
    assert suite.meta["fewshot_sampler"] == expected
    assert [asked(suite, item, case["num_fewshot"]) for item in suite.items] == case["requests"]


def test_a_resumed_or_limited_run_gets_the_same_examples(tmp_path):
    """The generator runs through the documents in order; an item asked alone, or last, still gets its own."""
    suite, case = load_case(tmp_path, "default_same_split")
    order = list(range(len(suite.items)))
    random.Random(3).shuffle(order)
    for n in order:
        assert asked(suite, suite.items[n], case["num_fewshot"]) == case["requests"][n]


def test_first_gives_lm_evals_first_n(tmp_path):
    suite, _ = load_case(tmp_path, "default")
    k = CASES["first_n"]["num_fewshot"]
    assert [asked(suite, it, k) for it in suite.items] != CASES["first_n"]["requests"]  # lmeval is not first_n
    suite.meta["fewshot_sampler"] = "first"
    assert [asked(suite, it, k) for it in suite.items] == CASES["first_n"]["requests"]


def test_a_suite_directory_with_the_lmeval_sampler(tmp_path):
    """Imported suites are directories: few-shot examples from fewshot.jsonl, drawn as lm-eval draws them."""
    source, _ = load_case(tmp_path, "default")
    meta = {**imported_meta("golden_dir", "kmmlu", "golden"), "num_fewshot": 3}
    write_suite(tmp_path / "golden_dir", meta, source.items,
                [{**ex, "id": f"shot-{n}"} for n, ex in enumerate(source.fewshot)])
    suite = load_suite(tmp_path / "golden_dir")
    assert suite.meta["fewshot_sampler"] == "lmeval"
    assert [asked(suite, it, 3) for it in suite.items] == CASES["default"]["requests"]


def test_imported_mmlu_keeps_lm_evals_first_n():
    assert imported_meta("m", "mmlu", "mmlu.csv")["fewshot_sampler"] == "first"
    assert imported_meta("k", "kmmlu", "kmmlu.csv")["fewshot_sampler"] == "lmeval"


def test_draws_replay_one_seeded_generator():
    pool, docs = list(range(10)), ["a", "b", "c"]
    rnd = random.Random(1234)
    assert prompts.lmeval_draws(pool, docs, 3) == [rnd.sample(pool, 3) for _ in docs]
    # left out: the document itself, among k + 1 drawn
    rnd = random.Random(5)
    expected = [[j for j in rnd.sample(range(4), 3) if j != doc][:2] for doc in (0, 1)]
    assert prompts.lmeval_draws([0, 1, 2, 3], [0, 1], 2, seed=5, exclude_self=True) == expected
    assert prompts.first_draws(["x", "y", "x", "z"], "x", 2, exclude_self=True) == [1, 3]


def test_run_settings_record_the_sampler_only_when_it_is_not_first():
    base = {"kind": "multiple_choice", "metric": "acc"}
    assert "fewshot_sampler" not in config_of("s" * 64, base, None, 5)
    assert "fewshot_sampler" not in config_of("s" * 64, {**base, "fewshot_sampler": "first"}, None, 5)
    assert "fewshot_sampler" not in config_of("s" * 64, {**base, "fewshot_sampler": "lmeval"}, None, 0)
    config = config_of("s" * 64, {**base, "fewshot_sampler": "lmeval", "fewshot_seed": 7}, None, 5)
    assert (config["fewshot_sampler"], config["fewshot_seed"]) == ("lmeval", 7)


def test_unknown_sampler_is_one_line_naming_file_and_field(tmp_path):
    source, _ = load_case(tmp_path, "default")
    meta = {**imported_meta("bad", "kmmlu", "golden"), "fewshot_sampler": "random"}
    write_suite(tmp_path / "bad", meta, source.items, [])
    with pytest.raises(SuiteError, match=r"bad/suite.toml: fewshot_sampler: 'random' is not a sampler") as err:
        load_suite(tmp_path / "bad")
    assert "\n" not in str(err.value)
    toml = tmp_path / "bad" / "suite.toml"
    toml.write_text('fewshot_seed = "x"\n' + toml.read_text(encoding="utf-8").replace('"random"', '"lmeval"'),
                    encoding="utf-8")
    with pytest.raises(SuiteError, match="fewshot_seed: expected a whole number"):
        load_suite(tmp_path / "bad")


@pytest.mark.parametrize("config, fault", [
    ({"sampler": "balanced"}, "fewshot_config.sampler: 'balanced' is not supported"),
    ({"samples": [{"question": "q"}]}, "fewshot_config.samples: not supported"),
])
def test_lm_eval_fewshot_config_we_cannot_follow_is_refused(tmp_path, config, fault):
    path = task_file(tmp_path, CASES["default"], fewshot_config=config)
    with pytest.raises(SuiteError, match=fault) as err:
        load_suite(path)
    assert str(path) in str(err.value)


def test_too_few_examples_for_the_lmeval_sampler(tmp_path):
    suite, _ = load_case(tmp_path, "default_same_split")
    with pytest.raises(SuiteError, match="needs 10 and the suite has 9"):
        prompts.choice_requests(suite, suite.items[0], 9)
