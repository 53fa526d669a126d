#!/usr/bin/env python
"""lm-evaluation-harness's own few-shot requests for small tasks, saved as test data.

lm-eval is a benchmark-only peer (``pip install -e '.[bench]'``), so Dokja's tests cannot call it; this script
runs it once over a few hand-written rows and writes what it asked, document by document, to
``tests/harness/data/lmeval_fewshot.json``. ``tests/harness/test_fewshot_sampler.py`` then checks that Dokja's
``lmeval`` sampler (and ``first`` for lm-eval's ``first_n``) gives exactly the same strings.

    python benchmarks/lmeval_fewshot_golden.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "harness" / "data" / "lmeval_fewshot.json"

FACTS = [  # (question, choices, answer index): hand-written for these tests
    ("한국의 수도는?", ["부산", "서울", "대구"], 1), ("물의 화학식은?", ["H2O", "CO2", "O2"], 0),
    ("1 더하기 1은?", ["3", "1", "2"], 2), ("태양계에서 가장 큰 행성은?", ["목성", "지구", "화성"], 0),
    ("한글을 만든 왕은?", ["태조", "세종", "정조"], 1), ("일주일은 며칠?", ["5일", "6일", "7일"], 2),
    ("What is the capital of France?", ["Paris", "Rome", "Berlin"], 0), ("2 times 3?", ["5", "6", "8"], 1),
    ("Which is a mammal?", ["shark", "frog", "whale"], 2), ("The colour of grass?", ["green", "blue", "red"], 0),
    ("독도가 속한 도는?", ["경상북도", "강원도", "전라남도"], 0), ("가장 긴 강은?", ["한강", "나일강", "낙동강"], 1),
]
TRAIN = [{"question": q, "choices": c, "label": a} for q, c, a in FACTS]
TEST = [{"question": q, "choices": c, "label": a} for q, c, a in [
    ("서울에 있는 궁궐은?", ["경복궁", "불국사", "첨성대"], 0), ("3 빼기 1은?", ["1", "2", "3"], 1),
    ("얼음이 녹으면?", ["불", "돌", "물"], 2), ("Which is a fruit?", ["apple", "stone", "chair"], 0),
    ("서울에 있는 궁궐은?", ["경복궁", "불국사", "첨성대"], 0),  # a duplicate row: lm-eval removes every copy
    ("백두산이 있는 곳은?", ["한반도 북부", "제주도", "울릉도"], 0), ("Ten minus four?", ["6", "5", "4"], 0),
    ("가을 다음 계절은?", ["봄", "겨울", "여름"], 1), ("The opposite of hot?", ["warm", "cold", "big"], 1),
]]
MC = {"output_type": "multiple_choice", "doc_to_text": "질문: {{question}}\n답:", "doc_to_choice": "choices",
      "doc_to_target": "label"}
GEN = {"output_type": "generate_until", "doc_to_text": "질문: {{question}}\n답:",
       "doc_to_target": "{{choices[label]}}", "generation_kwargs": {"until": ["\n"]}}
CASES = {  # name: (task fields, num_fewshot, seed)
    "default": ({**MC, "fewshot_split": "train"}, 3, 1234),
    "default_description": ({**MC, "fewshot_split": "train", "description": "다음은 상식 문제입니다.\n\n"}, 2, 1234),
    "default_seed_7": ({**MC, "fewshot_split": "train"}, 3, 7),
    "first_n": ({**MC, "fewshot_split": "train", "fewshot_config": {"sampler": "first_n"}}, 3, 1234),
    "default_same_split": ({**MC, "fewshot_split": "test"}, 3, 1234),
    "first_n_same_split": ({**MC, "fewshot_split": "test", "fewshot_config": {"sampler": "first_n"}}, 2, 1234),
    "generate_default": ({**GEN, "fewshot_split": "train"}, 2, 1234),
}


def requests(fields: dict, k: int, seed: int, files: dict[str, str]) -> list[dict]:
    """Per document in order, the context lm-eval builds and its continuations (none for generation)."""
    from lm_eval.api.task import ConfigurableTask

    config = {"task": "golden", "dataset_path": "json", "dataset_kwargs": {"data_files": files},
              "test_split": "test", "num_fewshot": k, **fields}
    task = ConfigurableTask(config=config)
    task.set_fewshot_seed(seed=seed)  # as lm-eval's evaluator does, with its default 1234
    task.build_all_requests(limit=None, rank=0, world_size=1)
    docs: dict[int, dict] = {}
    for inst in sorted(task.instances, key=lambda i: (i.doc_id, i.idx)):
        doc = docs.setdefault(inst.doc_id, {"context": inst.args[0], "continuations": []})
        assert doc["context"] == inst.args[0], "one context per document"
        if fields["output_type"] == "multiple_choice":
            doc["continuations"].append(inst.args[1])
    return [docs[i] for i in sorted(docs)]


def main() -> int:
    try:
        import lm_eval
    except ImportError:
        print("lm-eval is not installed: pip install -e '.[bench]'")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for split, rows in (("train", TRAIN), ("test", TEST)):
            files[split] = str(Path(tmp) / f"{split}.jsonl")
            Path(files[split]).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        cases = {name: {"fields": fields, "num_fewshot": k, "seed": seed,
                        "requests": requests(fields, k, seed, files)}
                 for name, (fields, k, seed) in CASES.items()}
    golden = {"lm_eval": lm_eval.__version__, "python": sys.version.split()[0],
              "rows": {"train": TRAIN, "test": TEST}, "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
