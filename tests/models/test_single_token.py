"""One forward per context when every choice is one token: the same numbers as the packed layout.

The real-model check runs SmolLM2 in float64, so a difference means a different computation, not rounding.
"""

import json
import random
from pathlib import Path

import pytest
import torch

from dokja.harness.importers import lettered_prompt
from dokja.models.local import TransformersModel
from dokja.models.packing import Row
from dokja.models.single_token import context_plan, split

SUITES = Path(__file__).resolve().parents[2] / "src" / "dokja" / "suites"


def test_split_takes_only_contexts_whose_every_choice_is_one_token():
    encoded = [([1, 2, 3], [7]), ([1, 2, 3], [8]), ([4, 5], [9]), ([4, 5], [10, 11]), ([6], [12])]
    parts = split(encoded, max_length=100)
    assert [row.choices for row in parts.rows] == [((0, (7,)), (1, (8,))), ((4, (12,)),)]
    assert parts.rest == [2, 3]  # a context with one longer choice stays whole in the packed layout


def test_split_keeps_lm_evals_window():
    [row] = split([(list(range(10)), [50]), (list(range(10)), [51])], max_length=4).rows
    assert row.context == (6, 7, 8, 9)  # (context + continuation)[-(max_length + 1):] less the continuation


def test_context_plan_left_pads_and_restarts_positions():
    p = context_plan([Row((1, 2, 3), ((0, (7,)), (1, (8,)))), Row((4,), ((2, (9,)),))], pad_id=0)
    assert p.ids.tolist() == [[1, 2, 3], [0, 0, 4]]
    assert p.positions.tolist() == [[0, 1, 2], [0, 0, 0]]
    assert p.mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert p.at_row.tolist() == [0, 0, 1] and p.target.tolist() == [7, 8, 9] and p.owner == [0, 1, 2]
    assert context_plan([Row((1, 2), ((0, (7,)),)), Row((3, 4), ((1, (8,)),))], 0).mask is None  # plain causal


def lettered_requests() -> list[tuple[str, str]]:
    """ko_knowledge's questions in the MMLU/KMMLU layout: options A-D in the context, continuations " A".." D"."""
    lines = (SUITES / "ko_knowledge" / "items.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    items = [json.loads(line) for line in lines]
    return [(lettered_prompt(it["context"], it["choices"], "정답:"), f" {letter}") for it in items for letter in "ABCD"]


def multi_token_requests() -> list[tuple[str, str]]:
    lines = (SUITES / "kobest_copa" / "items.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    return [(it["context"], " " + c) for it in map(json.loads, lines) for c in it["choices"]]


ALPHABET = "A B C D E F G"  # " H" is the model's next token, " Z" is not


@pytest.fixture(scope="module")
def model(smollm2_dir):
    return TransformersModel(smollm2_dir, dtype=torch.float64, device="cpu", tokens_per_batch=256)


def test_one_forward_equals_the_packed_layout(model):
    requests = lettered_requests() + multi_token_requests() + [(ALPHABET, " H"), (ALPHABET, " Z")]
    random.Random(0).shuffle(requests)  # results come back in request order whatever the path
    encoded = [model.encode_pair(*r) for r in requests]
    parts = split(encoded, model.max_length)
    assert len(parts.rows) == 7 and len(parts.rest) == 4  # both paths are exercised
    assert len({len(row.context) for row in parts.rows}) > 1  # and contexts of different lengths share a batch
    fast = model.loglikelihood(requests)
    model.single_forward = False
    try:
        reference = model.loglikelihood(requests)
    finally:
        model.single_forward = True
    assert [r.n_tokens for r in fast] == [r.n_tokens for r in reference]
    assert [r.greedy for r in fast] == [r.greedy for r in reference]
    assert max(abs(a.logprob - b.logprob) for a, b in zip(fast, reference)) < 1e-6
    assert {q[1]: r.greedy for r, q in zip(fast, requests) if q[0] == ALPHABET} == {" H": True, " Z": False}
