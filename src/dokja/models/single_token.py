"""Questions whose every choice is one token (the letters of MMLU-style items): one forward per context.

When all of a context's continuations are single tokens, the log-softmax at the context's last position
holds every choice's log-likelihood, so the context is fed once, as a plain causal row: no per-choice
attention mask and no logits anywhere else. Rows are batched by length under the same token budget as
the packed layout (`packing`), which stays the reference and scores everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from .packing import Row, Tokens, window


@dataclass(frozen=True)
class Split:
    rows: list[Row]  # one per context whose requests are all single tokens
    rest: list[int]  # indices of every other request, for the packed layout


def split(encoded: Sequence[tuple[Tokens, Tokens]], max_length: int) -> Split:
    """Requests grouped by context; a context goes to the single-token rows only if all its requests do."""
    by_context: dict[tuple[int, ...], list[int]] = {}
    for index, (context, _) in enumerate(encoded):
        by_context.setdefault(tuple(context), []).append(index)
    rows, rest = [], []
    for context, indices in by_context.items():
        if all(len(encoded[i][1]) == 1 for i in indices):
            kept = window(context, encoded[indices[0]][1], max_length)
            rows.append(Row(kept, tuple((i, tuple(encoded[i][1])) for i in indices)))
        else:
            rest += indices
    return Split(rows, sorted(rest))


@dataclass(frozen=True)
class ContextPlan:
    ids: torch.Tensor  # (rows, width), left-padded
    positions: torch.Tensor  # (rows, width), each row counting from 0 at its first real token
    mask: torch.Tensor | None  # (rows, width) 1 for real tokens; None when nothing is padded (plain causal)
    at_row: torch.Tensor  # (choices,) the row holding each choice's context
    target: torch.Tensor  # (choices,) each choice's token
    owner: list[int]  # request index of each choice


def context_plan(batch: list[Row], pad_id: int) -> ContextPlan:
    """Contexts left-padded to the longest, positions restarted after the padding."""
    width = max(len(row.context) for row in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    positions = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    at_row, target, owner = [], [], []
    for r, row in enumerate(batch):
        n = len(row.context)
        ids[r, width - n:] = torch.tensor(row.context)
        positions[r, width - n:] = torch.arange(n)
        mask[r, width - n:] = 1
        for index, (token,) in row.choices:
            at_row.append(r)
            target.append(token)
            owner.append(index)
    padded = any(len(row.context) < width for row in batch)
    return ContextPlan(ids, positions, mask if padded else None, torch.tensor(at_row), torch.tensor(target), owner)


def score_contexts(model, batch: list[Row], pad_id: int, device: str):
    """(request index, log-likelihood, greedy) for every choice of the batch, from one forward."""
    p = context_plan(batch, pad_id)
    mask = p.mask.to(device) if p.mask is not None else None
    logits = model(input_ids=p.ids.to(device), attention_mask=mask, position_ids=p.positions.to(device),
                   logits_to_keep=1).logits[:, -1]
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # logsumexp in float32 at least
    at_row, target = p.at_row.to(device), p.target.to(device)
    picked = torch.log_softmax(logits, dim=-1)[at_row, target]
    hits = logits.argmax(-1)[at_row] == target
    return zip(p.owner, picked.tolist(), hits.tolist())
