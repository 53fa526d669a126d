"""The local transformers backend: HF directories (GGUF files are dequantised into one first)."""

from __future__ import annotations

from pathlib import Path

import torch

from .base import Loglikelihood, Progress, cut_at_stop
from .errors import ModelError

TOKENS_PER_BATCH = 2048


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
        encoded = [self.encode_pair(c, x) for c, x in requests]
        rows = []
        for ctx, cont in encoded:
            if not cont:
                raise ModelError("empty continuation: nothing to score")
            seq = (ctx + cont)[-(self.max_length + 1):]
            rows.append((seq[:-1], cont))
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))
        out: list[Loglikelihood | None] = [None] * len(rows)
        start = 0
        while start < len(order):
            width = len(rows[order[start]][0])
            size = max(1, TOKENS_PER_BATCH // max(width, 1))
            batch = order[start:start + size]
            for i, result in zip(batch, self._score_batch([rows[i] for i in batch], width)):
                out[i] = result
            start += len(batch)
            if progress:
                progress(len(batch))
        return out  # type: ignore[return-value]

    def _score_batch(self, rows: list[tuple[list[int], list[int]]], width: int) -> list[Loglikelihood]:
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (inp, _) in enumerate(rows):
            ids[r, width - len(inp):] = torch.tensor(inp)
            mask[r, width - len(inp):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        keep = max(len(cont) for _, cont in rows)
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device), logits_to_keep=keep).logits
        results = []
        for r, (_, cont) in enumerate(rows):
            scores = torch.log_softmax(logits[r, keep - len(cont):].double(), dim=-1)
            target = torch.tensor(cont, device=scores.device)
            picked = scores.gather(-1, target[:, None]).squeeze(-1)
            greedy = bool((scores.argmax(-1) == target).all())
            results.append(Loglikelihood(float(picked.sum()), greedy, len(cont)))
        return results

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
