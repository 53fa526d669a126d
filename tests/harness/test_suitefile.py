"""Suites as data files: Dokja's own YAML/TOML definitions and lm-evaluation-harness task YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dokja.harness import SuiteError, bundled_suites, load_suite, prompts

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
BOOLQ = SHARED / "kobest" / "v1.0" / "BoolQ"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_lmeval_yaml_over_the_bundled_items_asks_the_same_as_the_bundled_suite():
    bundled, as_task = load_suite("kobest_copa"), load_suite("kobest_copa_lmeval")
    assert "kobest_copa_lmeval" in bundled_suites()
    assert as_task.id == "kobest_copa_lmeval" and as_task.meta["definition"]["format"] == "lm-eval"
    assert [i["id"] for i in as_task.items] == [i["id"] for i in bundled.items]
    for k in (0, 3):
        for a, b in zip(bundled.items, as_task.items):
            assert prompts.choice_requests(bundled, a, k) == prompts.choice_requests(as_task, b, k)
    assert as_task.meta["source"]["licence"] == "CC-BY-SA-4.0" and as_task.meta["title_ko"].startswith("KoBEST")


@pytest.mark.skipif(not BOOLQ.is_dir(), reason="the shared KoBEST data is not beside the project")
def test_lmeval_template_over_raw_kobest_tsv_matches_the_bundled_boolq_items(tmp_path):
    task = write(tmp_path / "boolq.yaml", f"""
task: boolq_raw
dataset_path: csv
dataset_kwargs:
  data_files:
    test: {BOOLQ / 'test.tsv'}
    validation: {BOOLQ / 'dev.tsv'}
output_type: multiple_choice
test_split: test
validation_split: validation
doc_to_text: "{{{{Text | trim}}}} 질문: {{{{Question | trim}}}} 답변:"
doc_to_choice: ["아니오", "예"]
doc_to_target: "{{{{ 1 if Answer | lower == 'true' else 0 }}}}"
metric_list: [{{metric: acc}}, {{metric: f1}}]
""")
    raw = {f"boolq-{it['id']}": it for it in load_suite(task).items}
    bundled = load_suite("kobest_boolq")
    assert len(raw) == 1404
    for item in bundled.items:
        got = raw[item["id"]]
        assert (got["context"], got["choices"], got["answer"]) == (item["context"], item["choices"], item["answer"])
    assert load_suite(task).fewshot  # validation split taken for few-shot when both splits are named


def _arrow_split(directory: Path, rows: list[dict]) -> None:
    """A split as `datasets.save_to_disk` lays it out: an Arrow stream and its state.json."""
    directory.mkdir(parents=True)
    table = pa.Table.from_pylist(rows)
    with pa.OSFile(str(directory / "data-00000-of-00001.arrow"), "wb") as sink, \
            pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    (directory / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                                                      "_split": directory.name}))


ROWS = [{"premise": f"전제 {i}", "a": f"첫째 {i}", "b": f"둘째 {i}", "label": i % 2} for i in range(6)]


def test_a_saved_datasets_directory_is_read_with_pyarrow(tmp_path):
    saved = tmp_path / "copa_saved"
    saved.mkdir()
    _arrow_split(saved / "test", ROWS)
    _arrow_split(saved / "train", ROWS[:3])
    (saved / "dataset_dict.json").write_text(json.dumps({"splits": ["test", "train"]}))
    task = write(tmp_path / "task.yaml", """
task: saved_copa
dataset_path: copa_saved
output_type: multiple_choice
test_split: test
fewshot_split: train
fewshot_config:
  sampler: first_n
num_fewshot: 2
doc_to_text: "{{premise}}"
doc_to_choice: "{{[a, b]}}"
doc_to_target: label
""")
    suite = load_suite(task)
    assert [it["answer"] for it in suite.items] == [0, 1, 0, 1, 0, 1]
    assert suite.items[1] == {"id": "1", "context": "전제 1", "choices": ["첫째 1", "둘째 1"], "answer": 1}
    context, _ = prompts.choice_requests(suite, suite.items[0], 2)[0]
    assert context == "전제 0 첫째 0\n\n전제 1 둘째 1\n\n전제 0"


def test_real_save_to_disk_output_reads_the_same(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.DatasetDict({"test": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "hf"))
    write(tmp_path / "suite.yaml", """
id: hf_copa
kind: multiple_choice
data: {path: hf, split: test}
template: premise
choices: ["{{a}}", "{{b}}"]
target: label
""")
    loaded = load_suite(tmp_path)  # the directory holding one suite file
    assert [it["context"] for it in loaded.items] == [r["premise"] for r in ROWS]
    assert loaded.items[3]["choices"] == ["첫째 3", "둘째 3"] and loaded.items[3]["answer"] == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_dokja_toml_definition_over_local_tables(tmp_path, fmt):
    rows = [{"q": f"{i} 더하기 {i}은?", "sum": str(2 * i), "key": f"k{i}"} for i in range(1, 5)]
    if fmt == "csv":
        write(tmp_path / "rows.csv", "q,sum,key\n" + "".join(f"{r['q']},{r['sum']},{r['key']}\n" for r in rows))
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    else:
        write(tmp_path / "rows.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    path = write(tmp_path / "sums.toml", f"""
id = "sums"
title_en = "Sums"
title_ko = "덧셈"
language = "ko"
category = "math"
kind = "generate"
scorer = "regex"
regex = "답[:：]?\\\\s*(-?\\\\d+)"
num_fewshot = 1
template = "문제: {{{{ q }}}}\\n답:"
target = "sum"
[data]
files = {{ test = "rows.{fmt}", train = "rows.{fmt}" }}
fewshot_split = "train"
id = "{{{{ key }}}}"
[generate]
max_new_tokens = 8
""")
    suite = load_suite(path)
    assert suite.items[0] == {"id": "k1", "prompt": "문제: 1 더하기 1은?\n답:", "answer": "2"}
    assert suite.metric == "exact_match" and suite.meta["regex"] == "답[:：]?\\s*(-?\\d+)"
    assert suite.meta["generate"] == {"max_new_tokens": 8, "stop": ["\n"]}
    assert prompts.generation_prompt(suite, suite.items[1], 1) == "문제: 1 더하기 1은?\n답: 2\n\n문제: 2 더하기 2은?\n답:"


def test_generate_until_task_takes_until_and_the_regex_filter(tmp_path):
    write(tmp_path / "gsm.jsonl", json.dumps({"question": "2+2?", "answer": "2+2=4\n#### 4"}) + "\n")
    task = write(tmp_path / "gsm.yaml", r"""
task: tiny_gsm
dataset_path: json
dataset_kwargs: {data_files: gsm.jsonl}
test_split: train
output_type: generate_until
doc_to_text: "Question: {{question}}\nAnswer:"
doc_to_target: "{{answer}}"
generation_kwargs: {until: ["Question:", "</s>"], max_gen_toks: 64}
filter_list:
  - name: strict-match
    filter: [{function: regex, regex_pattern: "#### (\\-?[0-9\\.\\,]+)"}, {function: take_first}]
metric_list: [{metric: exact_match, ignore_case: true}]
""")
    suite = load_suite(task)
    assert suite.kind == "generate" and suite.metric == "exact_match" and suite.meta["scorer"] == "regex"
    assert suite.meta["generate"] == {"max_new_tokens": 64, "stop": ["Question:", "</s>"]}
    assert suite.items == [{"id": "0", "prompt": "Question: 2+2?\nAnswer:", "answer": "2+2=4\n#### 4"}]


BASE = """task: t
dataset_path: json
dataset_kwargs: {data_files: {test: rows.jsonl}}
output_type: multiple_choice
test_split: test
doc_to_choice: ["no", "yes"]
doc_to_target: label
"""


@pytest.mark.parametrize("extra, message", [
    ("", r"t\.yaml: doc_to_text: missing$"),
    ('doc_to_text: "{{ question }} {{ pasage }}"\n',
     r"t\.yaml: doc_to_text: unknown column 'pasage' in row 0 \(columns: question, label\)$"),
    ("doc_to_text: !function utils.doc_to_text\n",
     r"t\.yaml: doc_to_text: !function utils\.doc_to_text runs Python code"),
    ("doc_to_text: question\ninclude: _default_template_yaml\n", r"t\.yaml: include: "),
    ("doc_to_text: question\nprocess_docs: !function utils.process\n", r"t\.yaml: process_docs: !function"),
    ("doc_to_text: question\nmetric_list: [{metric: f1}]\n", r"t\.yaml: metric_list: none of f1 is supported"),
    ("doc_to_text: question\nnum_fewshot: 2\n", r"t\.yaml: num_fewshot: 2 asked, but only 0 few-shot"),
    ('doc_to_text: "{{ question "\n', r"t\.yaml: doc_to_text: template syntax error"),
    ("doc_to_text: question\ndoc_to_target: '{{ label + 5 }}'\n", r"t\.yaml: doc_to_target: row 0: answer 5 out"),
    ("doc_to_text: [unclosed\n", r"t\.yaml: not valid YAML at line \d+"),
])
def test_faulty_lmeval_tasks_fail_in_one_line_naming_file_and_field(tmp_path, extra, message):
    write(tmp_path / "rows.jsonl", '{"question": "Is it?", "label": 0}\n')
    base = BASE.replace("doc_to_target: label\n", "") if "doc_to_target" in extra else BASE
    with pytest.raises(SuiteError, match=message) as info:
        load_suite(write(tmp_path / "t.yaml", base + extra))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("drop, field", [("template", "template"), ("data", "data"), ("kind", "kind"),
                                         ("choices", "choices")])
def test_dokja_definition_missing_a_field_names_it(tmp_path, drop, field):
    write(tmp_path / "rows.jsonl", '{"q": "Q?", "label": 1}\n')
    lines = {"kind": "kind: multiple_choice", "data": "data: {path: rows.jsonl}", "template": "template: q",
             "choices": "choices: [a, b]", "target": "target: label"}
    text = "\n".join(v for k, v in lines.items() if k != drop) + "\n"
    with pytest.raises(SuiteError, match=rf"s\.yaml: {field}: missing$"):
        load_suite(write(tmp_path / "s.yaml", text))


def test_a_missing_data_file_names_the_file(tmp_path):
    with pytest.raises(SuiteError, match=r"s\.yaml: data: .*nothere\.jsonl: no such file"):
        load_suite(write(tmp_path / "s.yaml", "kind: generate\ndata: {path: nothere.jsonl}\ntemplate: q\n"
                                              "target: a\n"))


def test_suite_directories_keep_working_and_unknown_refs_are_one_line(tmp_path):
    assert load_suite("ko_math").items and load_suite("passkey_ko").items
    with pytest.raises(SuiteError, match="no suite 'nope'"):
        load_suite("nope")
