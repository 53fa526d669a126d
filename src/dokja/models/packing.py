"""Multiple-choice rows: a question's choices share one context, and rows are batched by length.

A row is laid out as ``[pad][context][choice 1 but its last token][choice 2 ...]...``; every choice sees the
context and itself only, and continues the context's positions, so the context is computed once for all its
choices and a single-token choice costs no extra token at all. Truncation follows lm-evaluation-harness:
each request keeps ``(context + continuation)[-(max_length + 1):]``, so choices of different lengths may keep
different contexts, and then they get rows of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

Tokens = Sequence[int]


@dataclass(frozen=True)
class Row:
    context: tuple[int, ...]
    choices: tuple[tuple[int, tuple[int, ...]], ...]  # (request index, continuation tokens)

    @property
    def width(self) -> int:
        return len(self.context) + sum(len(cont) - 1 for _, cont in self.choices)

    @property
    def tail(self) -> int:
        """Positions whose logits are read: the context's last, then every choice token but the last."""
        return self.width - len(self.context) + 1


@dataclass(frozen=True)
class Plan:
    """One forward's inputs and where to read each scored token."""

    ids: torch.Tensor  # (rows, width)
    positions: torch.Tensor  # (rows, width)
    allowed: torch.Tensor  # (rows, width, width) bool, or (rows, width) for rows of one request each
    keep: int  # logits kept at the end of each row
    at_row: torch.Tensor  # (scored tokens,)
    at_col: torch.Tensor  # index into the kept logits
    target: torch.Tensor
    owner: list[int]  # request index of every scored token


def window(context: Tokens, continuation: Tokens, max_length: int) -> tuple[int, ...]:
    """The context lm-eval keeps for one request: (context + continuation)[-(max_length + 1):] less the continuation."""
    if len(continuation) > max_length:
        raise ValueError(f"continuation of {len(continuation)} tokens does not fit the window of {max_length}")
    return tuple(context[-(max_length + 1 - len(continuation)):])


def pack(encoded: Sequence[tuple[Tokens, Tokens]], max_length: int, share_context: bool = True) -> list[Row]:
    """Requests that keep the same context share a row; without ``share_context``, one row per request."""
    groups: dict[tuple[int, ...], list[tuple[int, tuple[int, ...]]]] = {}
    rows = []
    for index, (context, continuation) in enumerate(encoded):
        kept = window(context, continuation, max_length)
        if share_context:
            groups.setdefault(kept, []).append((index, tuple(continuation)))
        else:
            rows.append(Row(kept, ((index, tuple(continuation)),)))
    return rows + [Row(ctx, tuple(choices)) for ctx, choices in groups.items()]


def batches(rows: list[Row], tokens_per_batch: int) -> list[list[Row]]:
    """Longest rows first, as many per batch as fit the token budget at the batch's width: little padding."""
    rows = sorted(rows, key=lambda row: (-row.width, row.context))
    out, start = [], 0
    while start < len(rows):
        size = max(1, tokens_per_batch // max(rows[start].width, 1))
        out.append(rows[start:start + size])
        start += size
    return out


def plan(batch: list[Row], pad_id: int) -> Plan:
    """Lay a batch out left-padded; rows of one request each need only a padding mask."""
    width = max(row.width for row in batch)
    keep = max(row.tail for row in batch)
    n = len(batch)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    segment = torch.full((n, width), -1, dtype=torch.long)
    positions = torch.zeros((n, width), dtype=torch.long)
    at_row, at_col, target, owner = [], [], [], []
    for r, row in enumerate(batch):
        pad = width - row.width
        tokens, seg, pos = list(row.context), [0] * len(row.context), list(range(len(row.context)))
        last_context = pad + len(row.context) - 1
        for k, (index, cont) in enumerate(row.choices, 1):
            start = pad + len(tokens)
            cols = [last_context] + list(range(start, start + len(cont) - 1))
            tokens += cont[:-1]
            seg += [k] * (len(cont) - 1)
            pos += range(len(row.context), len(row.context) + len(cont) - 1)
            at_row += [r] * len(cont)
            at_col += [c - (width - keep) for c in cols]
            target += cont
            owner += [index] * len(cont)
        ids[r, pad:] = torch.tensor(tokens)
        segment[r, pad:] = torch.tensor(seg)
        positions[r, pad:] = torch.tensor(pos)
    if all(len(row.choices) == 1 for row in batch):
        allowed = segment >= 0
    else:
        q, k = segment[:, :, None], segment[:, None, :]
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        allowed = causal & (k >= 0) & ((k == 0) | (k == q))
        allowed |= torch.eye(width, dtype=torch.bool) & (q < 0)  # padding attends to itself: no empty rows
    return Plan(ids, positions, allowed, keep, torch.tensor(at_row), torch.tensor(at_col), torch.tensor(target),
                owner)
