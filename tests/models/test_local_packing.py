"""Packing rules on plain token lists: lm-eval's per-request left truncation, shared rows, length batches."""

import pytest
import torch

from dokja.models.packing import Row, batches, pack, plan, window


def test_window_keeps_what_lm_eval_feeds():
    context, continuation = list(range(10)), [100, 101, 102]
    max_length = 8
    fed = (context + continuation)[-(max_length + 1):][:-1]  # lm-eval's input row
    kept = window(context, continuation, max_length)
    assert list(kept) + continuation[:-1] == fed
    assert window([1, 2], [3], 8) == (1, 2)
    with pytest.raises(ValueError, match="does not fit"):
        window([1], list(range(9)), 8)


def test_choices_of_different_lengths_keep_their_own_context_when_cut():
    context = list(range(20))
    short, long = [50], [60, 61, 62, 63]
    rows = pack([(context, short), (context, long), (context, [70])], max_length=10)
    by_width = sorted(rows, key=lambda r: len(r.context))
    assert [len(r.context) for r in by_width] == [7, 10]  # max_length + 1 - len(continuation)
    assert {i for i, _ in by_width[1].choices} == {0, 2}  # same kept context: one shared row
    assert by_width[0].choices == ((1, tuple(long)),)


def test_uncut_choices_share_one_row_and_single_tokens_add_nothing():
    [row] = pack([([1, 2, 3], [7]), ([1, 2, 3], [8]), ([1, 2, 3], [9])], max_length=100)
    assert row.width == 3 and row.tail == 1
    p = plan([row], pad_id=0)
    assert p.ids.tolist() == [[1, 2, 3]] and p.keep == 1
    assert p.at_col.tolist() == [0, 0, 0] and p.target.tolist() == [7, 8, 9] and p.owner == [0, 1, 2]


def test_plan_masks_each_choice_from_the_others():
    row = Row((1, 2), ((0, (5, 6)), (1, (7, 8, 9))))
    p = plan([row, Row((4,), ((2, (3,)),))], pad_id=0)
    assert p.ids.tolist()[0] == [1, 2, 5, 7, 8] and p.ids.tolist()[1] == [0, 0, 0, 0, 4]
    assert p.positions.tolist()[0] == [0, 1, 2, 2, 3]
    allowed = p.allowed[0].int().tolist()
    assert allowed[3] == [1, 1, 0, 1, 0]  # choice 2's first token: context and itself, not choice 1
    assert allowed[4] == [1, 1, 0, 1, 1]
    assert p.allowed[1, 0].tolist() == [True, False, False, False, False]  # padding sees itself only
    # every scored token reads the logit one place before it
    cols = [c + p.ids.shape[1] - p.keep for c in p.at_col.tolist()]
    assert cols[:5] == [1, 2, 1, 3, 4] and p.target.tolist()[:5] == [5, 6, 7, 8, 9]


def test_batches_are_sorted_by_width_under_the_budget():
    rows = [Row(tuple(range(n)), ((i, (1,)),)) for i, n in enumerate([5, 50, 20, 49, 6])]
    out = batches(rows, tokens_per_batch=100)
    assert [[r.width for r in b] for b in out] == [[50, 49], [20, 6, 5]]
    assert torch.tensor(1)  # plan builds tensors: torch present
