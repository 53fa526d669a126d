"""The local transformers backend: HF directories (GGUF files are dequantised into one first)."""

from __future__ import annotations

from pathlib import Path

import torch

from .base import Loglikelihood, Progress, cut_at_stop
from .errors import ModelError

TOKENS_PER_BATCH = 2048


def _packed_length(row) -> int:
    ctx, choices = row
    return len(ctx) + sum(len(cont) - 1 for _, cont in choices)


class TransformersModel:
    """Scores continuations the way lm-evaluation-harness does: context tokens, then the continuation's."""

    def __init__(self, path: str | Path, *, name: str = "", chat: bool = False, device: str | None = None,
                 dtype: torch.dtype | None = None, max_length: int | None = None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name or Path(path).name
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            self.model = AutoModelForCausalLM.from_pretrained(
                str(path), dtype=dtype or (torch.bfloat16 if self.device == "cuda" else torch.float32))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load model ({str(exc).splitlines()[0]})") from None
        self.model.to(self.device).eval()
        self.chat = chat and bool(self.tokenizer.chat_template)
        self.max_length = max_length or min(getattr(self.model.config, "max_position_embeddings", 2048), 4096)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0

    def _encode(self, text: str, special: bool = True) -> list[int]:
        return self.tokenizer(text, add_special_tokens=special).input_ids

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Trailing spaces move from context to continuation; continuation = tokens(both) minus tokens(context)."""
        spaces = len(context) - len(context.rstrip(" "))
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole = self._encode(context + continuation)
        ctx = self._encode(context)
        if whole[: len(ctx)] != ctx:
            return ctx, self._encode(continuation, special=False)
        return ctx, whole[len(ctx):]

    @torch.inference_mode()
    def loglikelihood(self, requests: list[tuple[str, str]], progress: Progress = None) -> list[Loglikelihood]:
        """Choices that share a context are packed into one row, so the context is computed once."""
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        for index, (context, continuation) in enumerate(requests):
            ctx, cont = self.encode_pair(context, continuation)
            if not cont:
                raise ModelError("empty continuation: nothing to score")
            groups.setdefault(tuple(ctx), []).append((index, cont))
        rows = []
        for ctx, choices in groups.items():
            longest = max(len(cont) for _, cont in choices)
            ctx = list(ctx)[-(self.max_length + 1 - longest):] or list(ctx)[-1:]
            rows.append((ctx, choices))
        rows.sort(key=lambda row: -_packed_length(row))
        out: list[Loglikelihood | None] = [None] * len(requests)
        start = 0
        while start < len(rows):
            width = _packed_length(rows[start])
            size = max(1, TOKENS_PER_BATCH // max(width, 1))
            batch = rows[start:start + size]
            for index, result in self._score_packed(batch, width):
                out[index] = result
            start += len(batch)
            if progress:
                progress(sum(len(choices) for _, choices in batch))
        return out  # type: ignore[return-value]

    def _score_packed(self, rows, width: int):
        """One forward for a batch of rows laid out as [pad][context][choice 1][choice 2]...

        Each choice sees the context and itself only (a 4D mask) and continues the context's positions.
        """
        n = len(rows)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        segment = torch.full((n, width), -1, dtype=torch.long)
        positions = torch.zeros((n, width), dtype=torch.long)
        tails = []
        for r, (ctx, choices) in enumerate(rows):
            tokens, seg, pos = list(ctx), [0] * len(ctx), list(range(len(ctx)))
            for k, (_, cont) in enumerate(choices, 1):
                tokens += cont[:-1]
                seg += [k] * (len(cont) - 1)
                pos += range(len(ctx), len(ctx) + len(cont) - 1)
            pad = width - len(tokens)
            ids[r, pad:], segment[r, pad:], positions[r, pad:] = (torch.tensor(tokens), torch.tensor(seg),
                                                                  torch.tensor(pos))
            tails.append(len(tokens) - len(ctx) + 1)
        q, k = segment[:, :, None], segment[:, None, :]
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        allowed = causal & (k >= 0) & ((k == 0) | (k == q))
        allowed |= torch.eye(width, dtype=torch.bool) & (q < 0)
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)[:, None]
        keep = max(tails)
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device), logits_to_keep=keep).logits
        for r, (ctx, choices) in enumerate(rows):
            base = keep - tails[r]
            offset = 1
            for index, cont in choices:
                at = [base] + list(range(base + offset, base + offset + len(cont) - 1))
                offset += len(cont) - 1
                scores = torch.log_softmax(logits[r, at].double(), dim=-1)
                target = torch.tensor(cont, device=scores.device)
                picked = scores.gather(-1, target[:, None]).squeeze(-1)
                greedy = bool((scores.argmax(-1) == target).all())
                yield index, Loglikelihood(float(picked.sum()), greedy, len(cont))

    def _prompt(self, text: str) -> list[int]:
        if self.chat:
            rendered = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False)
            return self._encode(rendered, special=False)
        return self._encode(text)

    @torch.inference_mode()
    def generate(self, prompts: list[str], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None, batch_size: int = 8) -> list[str]:
        outputs = []
        for start in range(0, len(prompts), batch_size):
            encoded = [self._prompt(p)[-(self.max_length - max_new_tokens):] for p in prompts[start:start + batch_size]]
            width = max(len(e) for e in encoded)
            ids = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, e in enumerate(encoded):
                ids[r, width - len(e):] = torch.tensor(e)
                mask[r, width - len(e):] = 1
            generated = self.model.generate(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device), max_new_tokens=max_new_tokens,
                do_sample=False, pad_token_id=self.pad_id, stop_strings=stop or None, tokenizer=self.tokenizer)
            for row in generated[:, width:]:
                text = self.tokenizer.decode(row, skip_special_tokens=True)
                outputs.append(cut_at_stop(text, stop))
            if progress:
                progress(len(encoded))
        return outputs
