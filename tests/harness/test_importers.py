"""Importers: each preset turns a small local file into the suite item schema; bad files fail clearly."""

from __future__ import annotations

import csv
import json
import tomllib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dokja.harness.importers import PRESETS, import_items, read_table, write_suite


def write_csv(path, rows, *, header=True, delimiter=","):
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        if header:
            w.writerow(rows[0].keys())
        for r in rows:
            w.writerow(r.values())
    return path


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_read_table_formats_agree(tmp_path):
    rows = [{"q": "1+1?", "a": "2"}, {"q": "쉼표, 따옴표 \"x\"", "a": "3"}]
    write_csv(tmp_path / "t.csv", rows)
    write_csv(tmp_path / "t.tsv", rows, delimiter="\t")
    write_jsonl(tmp_path / "t.jsonl", rows)
    (tmp_path / "t.json").write_text(json.dumps(rows), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    for ext in ("csv", "tsv", "jsonl", "json", "parquet"):
        assert read_table(tmp_path / f"t.{ext}") == rows, ext


def test_kmmlu_csv(tmp_path):
    rows = [{"question": " 2+2는? ", "answer": 3, "A": "2", "B": "3", "C": "4", "D": "5", "Category": "math"}]
    items = import_items(write_csv(tmp_path / "kmmlu.csv", rows), "kmmlu")
    assert items == [{
        "id": "kmmlu-1",
        "context": "2+2는?\nA. 2\nB. 3\nC. 4\nD. 5\n정답：",
        "choices": ["A", "B", "C", "D"],
        "answer": 2,
    }]


def test_mmlu_parquet_with_choice_list(tmp_path):
    rows = [{"question": "Capital of France?", "subject": "geo", "choices": ["Lyon", "Paris", "Nice", "Rome"], "answer": 1}]
    path = tmp_path / "mmlu.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    [item] = import_items(path, "mmlu")
    assert item["context"] == "Capital of France?\nA. Lyon\nB. Paris\nC. Nice\nD. Rome\nAnswer:"
    assert item["choices"] == ["A", "B", "C", "D"] and item["answer"] == 1


def test_mmlu_original_csv_without_header(tmp_path):
    path = tmp_path / "astronomy_test.csv"
    write_csv(path, [{"q": "Closest planet to the Sun?", "a": "Venus", "b": "Mercury", "c": "Mars", "d": "Earth", "ans": "B"},
                     {"q": "Largest planet?", "a": "Jupiter", "b": "Mars", "c": "Venus", "d": "Earth", "ans": "A"}],
              header=False)
    items = import_items(path, "mmlu", header=False)
    assert [i["answer"] for i in items] == [1, 0]
    assert items[0]["context"].startswith("Closest planet to the Sun?\nA. Venus\nB. Mercury")


def test_haerae_letter_answers_and_string_options(tmp_path):
    rows = [
        {"query": "다음 중 수도는?\n(A) 서울\n(B) 부산\n(C) 대구\n(D) 광주\n(E) 울산\n### 정답:", "answer": "(A)",
         "options": "['서울', '부산', '대구', '광주', '울산']"},
        {"query": "가장 큰 섬은?", "answer": "B", "options": ["거제도", "제주도", "진도"]},
        {"query": "가장 긴 강은?", "answer": 0, "options": ["낙동강", "한강"]},
    ]
    items = import_items(write_jsonl(tmp_path / "haerae.jsonl", rows), "haerae")
    assert items[0]["choices"] == ["(A)", "(B)", "(C)", "(D)", "(E)"] and items[0]["answer"] == 0
    assert items[0]["context"].endswith("### 정답:")
    assert items[1]["choices"] == ["거제도", "제주도", "진도"] and items[1]["answer"] == 1
    assert items[2]["answer"] == 0


def test_kobest_presets_from_tsv(tmp_path):
    copa = write_csv(tmp_path / "copa.tsv", [
        {"ID": "7", "sentence": "영화를 보고 눈물을 흘렸다.", "question": "원인", "1": "재밌는 영화를 봤다.", "2": "슬픈 영화를 봤다.", "Answer": "2"},
        {"ID": "8", "sentence": "비가 왔다.", "question": "결과", "1": "우산을 썼다.", "2": "선글라스를 꼈다.", "Answer": "1"},
    ], delimiter="\t")
    items = import_items(copa, "kobest_copa")
    assert items[0] == {"id": "copa-7", "context": "영화를 보고 눈물을 흘렸다.  왜냐하면",
                        "choices": ["재밌는 영화를 봤다.", "슬픈 영화를 봤다."], "answer": 1}
    assert items[1]["context"] == "비가 왔다.  그래서" and items[1]["answer"] == 0

    boolq = write_csv(tmp_path / "boolq.tsv", [
        {"ID": "1", "Text": "콜라독립 815는 범양식품이 만들었다.", "Question": "코카콜라에서 만들었나요?", "Answer": "False"},
        {"ID": "2", "Text": "비글은 활동량이 많다.", "Question": "비글은 활발한가?", "Answer": "TRUE"},
    ], delimiter="\t")
    items = import_items(boolq, "kobest_boolq")
    assert items[0]["context"] == "콜라독립 815는 범양식품이 만들었다. 질문: 코카콜라에서 만들었나요? 답변:"
    assert items[0]["choices"] == ["아니오", "예"] and [i["answer"] for i in items] == [0, 1]

    hs = write_csv(tmp_path / "hs.tsv", [
        {"context": "남자가 공을 던진다.", "choice1": "a", "choice2": "b", "choice3": "c", "choice4": "d", "label": "3"},
    ], delimiter="\t")
    [item] = import_items(hs, "kobest_hellaswag")
    assert item == {"id": "hellaswag-1", "context": "문장: 남자가 공을 던진다.", "choices": ["a", "b", "c", "d"], "answer": 3}


def test_kobest_copa_hf_columns(tmp_path):
    row = {"premise": "물을 오래 끓였다.", "question": "결과", "alternative_1": "물이 늘었다.", "alternative_2": "물이 줄었다.", "label": 1}
    [item] = import_items(write_jsonl(tmp_path / "copa.jsonl", [row]), "kobest_copa")
    assert item["context"] == "물을 오래 끓였다.  그래서" and item["answer"] == 1


def test_kobbq_text_answer(tmp_path):
    row = {"sample_id": "age-001a-002-amb-bsd", "context": "손자와 할머니를 봤습니다.", "question": "누가 서툴렀습니까?",
           "choices": "['손자', '할머니', '알 수 없음']", "answer": "알 수 없음"}
    [item] = import_items(write_csv(tmp_path / "kobbq.tsv", [row], delimiter="\t"), "kobbq")
    assert item == {"id": "age-001a-002-amb-bsd", "context": "손자와 할머니를 봤습니다.\n질문: 누가 서툴렀습니까?\n답:",
                    "choices": ["손자", "할머니", "알 수 없음"], "answer": 2}


def test_generic_mc_with_explicit_columns_limit_and_seed(tmp_path):
    rows = [{"Q": f"질문 {i}", "o1": "가", "o2": "나", "o3": "다", "gold": "나"} for i in range(10)]
    path = write_jsonl(tmp_path / "custom.jsonl", rows)
    kw = dict(question="Q", choice_columns=("o1", "o2", "o3"), answer="gold", answer_base="text", template="ko_qa")
    items = import_items(path, "mc", limit=4, seed=1, **kw)
    assert len(items) == 4 and items == import_items(path, "mc", limit=4, seed=1, **kw)
    assert items[0]["context"].startswith("질문: 질문 ") and items[0]["context"].endswith("\n답:")
    assert all(i["choices"] == ["가", "나", "다"] and i["answer"] == 1 for i in items)
    ids = [int(i["id"].split("-")[1]) for i in items]
    assert ids == sorted(ids)  # sample keeps file order


def test_generic_mc_one_based_and_letter_answers(tmp_path):
    rows = [{"question": "x?", "choices": ["a", "b"], "answer": 2}]
    path = write_jsonl(tmp_path / "one.jsonl", rows)
    assert import_items(path, "mc", answer_base=1)[0]["answer"] == 1
    rows = [{"question": "x?", "choices": ["a", "b"], "answer": "(B)"}]
    assert import_items(write_jsonl(tmp_path / "l.jsonl", rows), "mc", answer_base="letter")[0]["answer"] == 1


def test_write_suite_round_trip(tmp_path):
    meta = {"id": "demo", "title_en": "Demo", "title_ko": "데모", "language": "ko", "category": "reasoning",
            "kind": "multiple_choice", "metric": "acc", "num_fewshot": 0, "target_delimiter": " ",
            "fewshot_delimiter": "\n\n", "source": {"name": "x", "url": "", "licence": "MIT", "notes": 'a "b"\nc'}}
    items = [{"id": "a", "context": "질문: 1+1?\n답:", "choices": ["1", "2"], "answer": 1}]
    fewshot = [{"id": "f", "context": "질문: 2+2?\n답:", "choices": ["4", "5"], "answer": 0}]
    out = write_suite(tmp_path / "demo", meta, items, fewshot, notice="# Demo", licence_text="MIT")
    assert tomllib.loads((out / "suite.toml").read_text(encoding="utf-8")) == meta
    assert [json.loads(l) for l in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()] == items
    assert (out / "NOTICE.md").read_text(encoding="utf-8") == "# Demo\n" and (out / "LICENSE").exists()


def test_write_suite_generate_section(tmp_path):
    meta = {"id": "m", "kind": "generate", "metric": "numeric", "generate": {"max_new_tokens": 16, "stop": ["\n"]}}
    out = write_suite(tmp_path / "m", meta, [{"id": "1", "prompt": "문제: 1+1\n답:", "answer": "2"}])
    assert tomllib.loads((out / "suite.toml").read_text(encoding="utf-8"))["generate"]["stop"] == ["\n"]
    assert (out / "fewshot.jsonl").read_text() == ""


# --------------------------------------------------------------------------- errors


def test_missing_column_names_file_column_and_found(tmp_path):
    path = write_csv(tmp_path / "bad.csv", [{"question": "q", "A": "1", "B": "2", "C": "3", "D": "4"}])
    with pytest.raises(ValueError) as e:
        import_items(path, "kmmlu")
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and "'answer'" in msg and "question, A, B, C, D" in msg


def test_missing_choice_columns(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "answer": 0}])
    with pytest.raises(ValueError, match=r"bad\.jsonl: missing column 'choices'.*columns found: question, answer"):
        import_items(path, "mmlu")


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"data\.xlsx: unknown table format '\.xlsx'"):
        read_table(path)


def test_unknown_preset(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"q": 1}])
    with pytest.raises(ValueError, match="unknown preset 'kmmlu2'.*kmmlu"):
        import_items(path, "kmmlu2")


def test_json_must_be_a_list(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"question": "q"}')
    with pytest.raises(ValueError, match=r"d\.json: expected a JSON list"):
        read_table(path)


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"q": 1}\n{"q": \n')
    with pytest.raises(ValueError, match=r"d\.jsonl:2: not valid JSON"):
        read_table(path)


def test_answer_out_of_range_names_row(tmp_path):
    rows = [{"question": "q", "A": "1", "B": "2", "C": "3", "D": "4", "answer": 1},
            {"question": "q", "A": "1", "B": "2", "C": "3", "D": "4", "answer": 5}]
    with pytest.raises(ValueError, match=r"k\.csv: row 2: answer '5' is out of range for 4 choices"):
        import_items(write_csv(tmp_path / "k.csv", rows), "kmmlu")


def test_bad_letter_answer(tmp_path):
    rows = [{"query": "q?", "answer": "(Z)", "options": ["a", "b"]}]
    with pytest.raises(ValueError, match=r"row 1: answer '\(Z\)' is out of range for 2 choices"):
        import_items(write_jsonl(tmp_path / "h.jsonl", rows), "haerae")


def test_write_suite_refuses_broken_items(tmp_path):
    meta = {"id": "x", "kind": "multiple_choice"}
    with pytest.raises(ValueError, match="out of range"):
        write_suite(tmp_path / "x", meta, [{"id": "a", "context": "q", "choices": ["1"], "answer": 3}])
    with pytest.raises(ValueError, match="whitespace"):
        write_suite(tmp_path / "x", meta, [{"id": "a", "context": "q ", "choices": ["1"], "answer": 0}])
    with pytest.raises(ValueError, match="few-shot ids"):
        item = {"id": "a", "context": "q", "choices": ["1"], "answer": 0}
        write_suite(tmp_path / "x", meta, [item], [item])


def test_presets_are_documented():
    assert {"kmmlu", "mmlu", "haerae", "kobest_copa", "kobest_boolq", "kobest_hellaswag", "mc"} <= set(PRESETS)
    assert all(p.description for p in PRESETS.values())
