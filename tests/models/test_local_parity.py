"""On real SmolLM2: the packed, length-batched path equals one request per row, and lm-evaluation-harness.

Compared in float64, so a difference means a different computation, not float32 rounding.
"""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from dokja.models.local import TransformersModel

SUITES = Path(__file__).resolve().parents[2] / "src" / "dokja" / "suites"


def suite_requests(suite_id: str, n: int) -> list[tuple[str, str]]:
    lines = (SUITES / suite_id / "items.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [(it["context"], " " + c) for it in map(json.loads, lines) for c in it["choices"]]


STORY = ("The old lighthouse keeper climbed the stairs every night to light the lamp, and every morning he "
         "wrote the weather in a book that nobody read. One winter night the lamp would not light, so he")
LONG = [(STORY, " waited."), (STORY, " went down to the village to ask the blacksmith for help with the wick")]
WINDOW = 24
LETTERS = [("Question: 2+2=?\nAnswer:", " A"), ("Question: 2+2=?\nAnswer:", " B"), ("Question: 2+2=?\nAnswer:", " C")]
OTHERS = suite_requests("kobest_copa", 2) + [
    ("질문: 하늘은 무슨 색인가요?\n답: ", "파란색"), ("질문: 하늘은 무슨 색인가요?\n답: ", "빨간색입니다"),
    ("Then\n", "it rained."), ("", "Hello world"),
]
REQUESTS = LETTERS + OTHERS + LONG


@pytest.fixture(scope="module")
def packed(smollm2_dir):
    return TransformersModel(smollm2_dir, dtype=torch.float64, device="cpu")


@pytest.fixture(scope="module")
def plain(smollm2_dir):
    return TransformersModel(smollm2_dir, dtype=torch.float64, device="cpu", share_context=False)


def close(a, b, tol=1e-6):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert abs(x.logprob - y.logprob) < tol and x.greedy == y.greedy and x.n_tokens == y.n_tokens


def test_packed_equals_one_request_per_row(packed, plain):
    close(packed.loglikelihood(REQUESTS), plain.loglikelihood(REQUESTS))


def test_left_truncation_is_per_choice(packed, plain):
    """A small window cuts each choice's context by its own length, as lm-eval does."""
    requests = LONG
    window = packed.max_length
    packed.max_length = plain.max_length = WINDOW
    try:
        cut, reference = packed.loglikelihood(requests), plain.loglikelihood(requests)
    finally:
        packed.max_length = plain.max_length = window
    close(cut, reference)
    for (context, continuation), got in zip(requests, cut):
        ctx, cont = packed.encode_pair(context, continuation)
        fed = torch.tensor([(ctx + cont)[-(WINDOW + 1):][:-1]])
        with torch.no_grad():
            logprobs = packed.model(fed).logits[0].log_softmax(-1)
        want = sum(logprobs[fed.shape[1] - len(cont) + i, t].item() for i, t in enumerate(cont))
        assert abs(got.logprob - want) < 1e-6
    assert cut[0].logprob != pytest.approx(packed.loglikelihood(requests[:1])[0].logprob, abs=1e-3)


def test_single_token_choices_take_one_forward(packed, plain):
    requests = LETTERS
    assert [packed.encode_pair(*r)[1].__len__() for r in requests] == [1, 1, 1]
    calls = []
    hook = packed.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        got = packed.loglikelihood(requests)
    finally:
        hook.remove()
    assert calls == [1]
    close(got, plain.loglikelihood(requests))


def test_lm_eval_split_of_context_and_continuation(packed):
    assert packed.encode_pair("Answer: ", "Lyon") == packed.encode_pair("Answer:", " Lyon")
    ctx, cont = packed.encode_pair("Then\n", "it rained.")  # all trailing whitespace moves, newlines too
    assert packed.tokenizer.decode(ctx) == "Then" and packed.tokenizer.decode(cont) == "\nit rained."
    ctx, cont = packed.encode_pair("", "Hello world")
    assert ctx == [packed.prefix_id] and packed.tokenizer.decode(cont) == "Hello world"


@pytest.mark.skipif(importlib.util.find_spec("lm_eval") is None,
                    reason="lm-eval is a benchmark-only dependency: pip install -e '.[bench]'")
def test_equals_lm_evaluation_harness(smollm2_dir, packed):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    full = packed.max_length
    for window in (full, WINDOW):
        requests = [r for r in REQUESTS if len(packed.encode_pair(*r)[1]) <= window]
        instances = [Instance("loglikelihood", {}, r, i) for i, r in enumerate(requests)]
        lm = HFLM(pretrained=packed.model, tokenizer=packed.tokenizer, batch_size=4, max_length=window,
                  device="cpu")
        theirs = lm.loglikelihood(instances, disable_tqdm=True)
        packed.max_length = window
        try:
            ours = packed.loglikelihood(requests)
        finally:
            packed.max_length = full
        for (lp, greedy), got in zip(theirs, ours):
            assert abs(got.logprob - lp) < 1e-4 and got.greedy == greedy
