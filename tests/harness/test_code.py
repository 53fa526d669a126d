"""Code scoring through the real sandbox: HumanEval/MBPP programs with their tests, stdin/stdout problems."""

from __future__ import annotations

import pytest

from dokja.harness import load_suite
from dokja.harness.code import extract_code, program_of, same_output, score
from dokja.harness.sandbox import find_sandbox
from dokja.harness.suite import Suite, SuiteError, check_code_and_samples


@pytest.fixture(scope="module")
def sandbox():
    return find_sandbox()


@pytest.mark.parametrize("text, code", [
    ("    return a + b\n", "    return a + b\n"),  # a completion: the text is the code
    ("Sure:\n```python\ndef f():\n    return 1\n```\nDone.", "def f():\n    return 1\n"),
    ("```js\nx\n```\n```py\ny = 2\n```", "y = 2\n"),  # the Python block, not the first
    ("```\nz = 3\n```", "z = 3\n"),
    ("def f():\n    return 1\n```\nmore text", "def f():\n    return 1\n"),  # the prompt opened the block
    ("Here:\n```python\ndef f():\n    return 1\n", "def f():\n    return 1\n"),  # cut off before closing
])
def test_extract_code(text, code):
    assert extract_code(text) == code


def test_canonical_humaneval_passes_and_a_broken_one_fails(sandbox):
    suite = load_suite("humaneval_sample")
    item = suite.items[0]
    metrics, detail = score(sandbox, item, item["answer"], suite.meta)
    assert metrics == {"pass@1": 1.0} and detail["verdict"] == "passed" and detail["seconds"] > 0
    assert detail["program"].startswith(item["prompt"].strip("\n")) and detail["program"].rstrip().endswith(
        f"check({item['entry_point']})")
    broken = item["answer"].replace("return", "return None and", 1)
    metrics, detail = score(sandbox, item, broken, suite.meta)
    assert metrics == {"pass@1": 0.0} and detail["verdict"] == "failed" and detail["reason"] == "AssertionError"
    fenced = f"Here it is:\n```python\n{item['prompt'].strip()}{item['answer']}```"  # a chat model's whole code
    assert score(sandbox, item, fenced, suite.meta)[0] == {"pass@1": 1.0}


def test_every_bundled_reference_solution_passes(sandbox):
    for name in ("humaneval_sample", "mbpp_sample", "ko_code_sample"):
        suite = load_suite(name)
        assert suite.meta["scorer"] == "code" and suite.metric == "pass@1"
        for item in suite.items:
            metrics, detail = score(sandbox, item, item["answer"], suite.meta)
            assert metrics == {"pass@1": 1.0}, (item["id"], detail["reason"])


def test_verdicts_name_the_last_line_of_stderr(sandbox):
    item = {"id": "x", "prompt": "p", "answer": "", "test": "assert double(2) == 4"}
    meta = {"code": {"limits": {"wall_s": 2, "cpu_s": 1}}}
    assert score(sandbox, item, "def double(x):\n    return undefined", meta)[1]["reason"] == \
        "NameError: name 'undefined' is not defined"
    assert score(sandbox, item, "def double(x) return", meta)[1]["verdict"] == "error"
    timeout = score(sandbox, item, "def double(x):\n    while True:\n        pass", meta)[1]
    assert timeout["verdict"] == "timeout" and timeout["seconds"] < 4


def test_stdin_stdout_items(sandbox):
    item = load_suite("ko_code_sample").items[7]
    assert "cases" in item
    assert score(sandbox, item, f"```python\n{item['answer']}```", {})[0] == {"pass@1": 1.0}
    spaced = "n = int(input())\nxs = list(map(int, input().split()))\nprint(max(xs) - min(xs), '  ')\nprint()\n"
    assert score(sandbox, item, spaced, {})[0] == {"pass@1": 1.0}  # trailing whitespace does not count
    wrong = score(sandbox, item, "input()\nprint(max(map(int, input().split())))", {})[1]
    assert wrong["verdict"] == "failed" and wrong["reason"] == "case 0: wrong output"
    assert same_output("a  \nb\n\n", "a\nb") and not same_output("a b", "a  b")


def test_program_of_joins_prefix_completion_setup_and_check():
    item = {"prompt": "def f(x):\n    \"\"\"doc\"\"\"", "test": "def check(c):\n    assert c(1) == 2",
            "entry_point": "f", "test_setup": "import math"}
    assert program_of(item, "\n    return x + 1\n", True) == (
        'def f(x):\n    """doc"""\n    return x + 1\n\nimport math\n\ndef check(c):\n    assert c(1) == 2\n\ncheck(f)\n')


def test_code_suites_are_checked_when_read(tmp_path):
    meta = {"id": "c", "kind": "generate", "metric": "pass@1", "scorer": "code"}
    with pytest.raises(SuiteError, match="needs `test`"):
        check_code_and_samples(Suite("c", meta, [{"id": "a", "prompt": "p", "answer": ""}]), tmp_path)
    with pytest.raises(SuiteError, match="code.limits"):
        check_code_and_samples(Suite("c", {**meta, "code": {"limits": {"gpu": 1}}},
                                     [{"id": "a", "prompt": "p", "answer": "", "test": "pass"}]), tmp_path)
    with pytest.raises(SuiteError, match="same answer"):
        check_code_and_samples(Suite("c", {**meta, "samples": {"n": 4}}, []), tmp_path)


def test_a_suite_file_carries_code_fields(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"q": "add", "sol": "def add(a, b):\\n    return a + b", '
                                         '"t": "assert add(1, 2) == 3"}\n')
    (tmp_path / "code.yaml").write_text("kind: generate\nscorer: code\ndata: {path: rows.jsonl}\n"
                                        "template: 'Write {{q}}'\ntarget: sol\nfields: {test: t}\n")
    suite = load_suite(tmp_path / "code.yaml")
    assert suite.metric == "pass@1" and suite.items[0]["test"] == "assert add(1, 2) == 3"
    assert score(find_sandbox(), suite.items[0], suite.items[0]["answer"], suite.meta)[0] == {"pass@1": 1.0}
