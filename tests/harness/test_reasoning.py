"""Reasoning models: thinking kept but never scored, per-item tokens and latency, and pass@k / maj@k."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from dokja.harness.reasoning import item_measures, maj_at_k, mean, pass_at_k, split_thinking
from dokja.harness.runner import _generation_chunk
from dokja.harness.suite import Suite
from dokja.models.base import Generated
from dokja.models.endpoint import EndpointModel


@pytest.mark.parametrize("text, thinking, answer", [
    ("42", "", "42"),
    ("  plain\nanswer ", "", "  plain\nanswer "),  # no tags: returned unchanged
    ("<think>3 + 4 = 7</think>\n\n7", "3 + 4 = 7", "7"),
    ("<THINK>loud</Think> quiet", "loud", "quiet"),
    ("<think>\nfirst\n</think>A<think>second</think>B", "first\n\nsecond", "AB"),
    ("<think>cut off while thinking, 3 + 4 is", "cut off while thinking, 3 + 4 is", ""),
    ("  <think>unclosed\n\nstill thinking", "unclosed\n\nstill thinking", ""),
    ("opened in the prompt</think>The answer is 9", "opened in the prompt", "The answer is 9"),
    ("<think></think>5", "", "5"),
    ("<think>a</think>b<think>c", "a\n\nc", "b"),
])
def test_split_thinking(text, thinking, answer):
    assert split_thinking(text) == (thinking, answer)


def test_item_measures_from_usage_and_latency():
    text = Generated("x", {"prompt_tokens": 11, "completion_tokens": 50, "reasoning_tokens": 45}, 0.25)
    assert item_measures(text, "hm") == {"thinking": "hm", "prompt_tokens": 11, "reasoning_tokens": 45,
                                         "answer_tokens": 5, "seconds": 0.25}
    assert item_measures(Generated("x", {"completion_tokens": 4}), "") == {"answer_tokens": 4}
    assert item_measures(Generated("x", {"completion_tokens": 4}), "inline") == {"thinking": "inline"}
    assert item_measures("plain", "") == {}


# ---- an OpenAI-compatible reasoning server on loopback --------------------------------------------------

class ReasoningServer:
    """Answers like vLLM or DeepSeek serving a reasoning model: chat answers carry `reasoning_content` apart
    (with `reasoning_tokens` in the usage), completions think inline in `<think>` blocks."""

    def __init__(self):
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append(body)
                if "messages" in body:
                    prompt = body["messages"][0]["content"]
                    n = int(prompt.split()[-1])
                    message = {"role": "assistant", "content": f"\n\n{n * 2}\nmore text",
                               "reasoning_content": f"Doubling {n}: the wrong guess {n * 3}, then {n * 2}.\nDone."}
                    usage = {"prompt_tokens": 7, "completion_tokens": 30,
                             "completion_tokens_details": {"reasoning_tokens": 24}}
                    answer = {"choices": [{"message": message}], "usage": usage}
                else:
                    n = int(body["prompt"].split()[-1])
                    text = f"<think>Maybe {n * 3}?\nNo: {n * 2}.</think> {n * 2}\nrest"
                    answer = {"choices": [{"text": text}], "usage": {"prompt_tokens": 5, "completion_tokens": 12}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> "ReasoningServer":
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def doubling_suite(scorer: str = "numeric") -> Suite:
    items = [{"id": f"d{n}", "prompt": f"Double {n}", "answer": str(n * 2)} for n in (3, 5)]
    return Suite(id="doubling", meta={"kind": "generation", "scorer": scorer,
                                      "generate": {"max_new_tokens": 64, "stop": ["\n"]}}, items=items)


def test_endpoint_keeps_reasoning_content_and_stop_cuts_only_the_answer(tmp_path):
    with ReasoningServer() as server:
        model = EndpointModel(server.url + "#r1", chat=True, retries=0, cache_dir=tmp_path / "responses")
        (out,) = model.generate(["Double 3"], max_new_tokens=64, stop=["\n"])
        assert split_thinking(out) == ("Doubling 3: the wrong guess 9, then 6.\nDone.", "6")
        assert out.usage == {"prompt_tokens": 7, "completion_tokens": 30, "reasoning_tokens": 24}
        assert out.seconds is not None and out.seconds >= 0
        assert model.usage.reasoning_tokens == 24 and model.usage.completion_tokens == 30

        again = EndpointModel(server.url + "#r1", chat=True, retries=0, cache_dir=tmp_path / "responses")
        (kept,) = again.generate(["Double 3"], max_new_tokens=64, stop=["\n"])
        assert kept == out and kept.usage == out.usage and kept.seconds is None  # from the cache: no latency
        assert again.usage.requests == 0 and len(server.bodies) == 1


@pytest.mark.parametrize("chat", [True, False])
def test_scorers_see_only_the_answer_and_the_detail_keeps_the_thinking(chat):
    with ReasoningServer() as server:
        model = EndpointModel(server.url + "#r1", chat=chat, retries=0)
        scored = _generation_chunk(doubling_suite(), doubling_suite().items, model, 0, None)
    for n, (metrics, detail) in zip((3, 5), scored):
        # the thinking mentions a wrong number last-but-one and the right one; only the answer is scored
        assert metrics == {"exact_match": 1.0, "numeric": 1.0}
        assert detail["output"] == str(n * 2) and detail["extracted"] == n * 2
        assert str(n * 3) in detail["thinking"] and "<think>" not in detail["output"]
        assert detail["seconds"] >= 0 and detail["method"] == "generation"
        if chat:
            assert (detail["prompt_tokens"], detail["reasoning_tokens"], detail["answer_tokens"]) == (7, 24, 6)
        else:  # inline thinking and no reasoning count: the answer's own tokens are unknown
            assert detail["prompt_tokens"] == 5 and "answer_tokens" not in detail
        json.dumps(detail)  # stored as JSON


def test_thinking_alone_scores_nothing():
    """A model cut off while thinking has answered nothing, even if its thinking holds the right number."""

    class CutOff:
        name, chat = "cut-off", False

        def generate(self, prompts, *, max_new_tokens, stop, progress=None):
            return ["<think>double 3 is 6" for _ in prompts]

    suite = doubling_suite()
    ((metrics, detail), _) = _generation_chunk(suite, suite.items, CutOff(), 0, None)
    assert metrics == {"exact_match": 0.0, "numeric": 0.0}
    assert detail["output"] == "" and detail["thinking"] == "double 3 is 6" and detail["extracted"] is None


# ---- pass@k and maj@k ------------------------------------------------------------------------------------

def numpy_pass_at_k(n: int, c: int, k: int) -> float:
    """The reference form from Chen et al. (2021), Figure 3."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


@pytest.mark.parametrize("n, c, k, want", [
    (10, 3, 1, 0.3), (10, 0, 1, 0.0), (10, 0, 10, 0.0), (10, 1, 10, 1.0), (10, 10, 1, 1.0),
    (5, 2, 2, 1 - 3 / 10), (4, 1, 2, 0.5), (1, 1, 1, 1.0), (1, 0, 1, 0.0),
])
def test_pass_at_k_goldens(n, c, k, want):
    assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_pass_at_k_equals_numpy_form_and_is_monotone():
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 200)
        c, k = rng.randint(0, n), rng.randint(1, n)
        assert pass_at_k(n, c, k) == pytest.approx(numpy_pass_at_k(n, c, k), abs=1e-12)
    for n in (1, 7, 20, 100):
        for c in range(n + 1):
            by_k = [pass_at_k(n, c, k) for k in range(1, n + 1)]
            assert all(a <= b + 1e-12 for a, b in zip(by_k, by_k[1:]))
            assert all(0.0 <= p <= 1.0 for p in by_k)
        for k in range(1, n + 1):
            by_c = [pass_at_k(n, c, k) for c in range(n + 1)]
            assert all(a <= b + 1e-12 for a, b in zip(by_c, by_c[1:]))
    assert pass_at_k(10_000, 1, 1) == pytest.approx(1e-4)  # large n stays exact, no overflow
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_maj_at_k_and_mean():
    gold = lambda a: a == "6"  # noqa: E731
    assert maj_at_k(["6", "9", "6"], gold) == 1.0
    assert maj_at_k(["9", "6", "9"], gold) == 0.0
    assert maj_at_k(["9", "6", "6", "6"], gold, k=2) == 0.0  # a tie in the first two goes to the first seen
    assert maj_at_k([None, None, "6"], gold) == 1.0  # nothing extracted does not vote
    assert maj_at_k([None], gold) == 0.0 and maj_at_k([], gold) == 0.0
    assert maj_at_k([" 6", "6 ", "9"], gold, key=str.strip) == 0.0  # grouped, but the first spelling wins
    assert maj_at_k([" 6", "6 ", "9"], lambda a: a.strip() == "6", key=str.strip) == 1.0
    assert mean([1, 0, 1, 1]) == 0.75 and mean([]) != mean([])
