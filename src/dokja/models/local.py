"""The local transformers backend: HF directories (GGUF files are dequantised into one first)."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from .base import Generated, Loglikelihood, Progress, Prompt, cut_at_stop, render_plain
from .errors import ModelError
from . import single_token
from .packing import batches, pack, plan

TOKENS_PER_BATCH = {"cuda": 32768, "cpu": 2048}
SCORED_PER_STEP = 4096  # scored positions whose logits are normalised at once, to bound memory


def pick_device() -> str:
    """CUDA when there is a GPU, Apple's MPS next, the CPU otherwise."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str) -> torch.dtype:
    """bf16 on CUDA, float32 elsewhere (CPU bf16 matmuls are slow on most machines and less exact)."""
    return torch.bfloat16 if device.startswith("cuda") else torch.float32


def window_of(config, tokenizer) -> int:
    """The model's context window, looked up as lm-evaluation-harness does (then 2048)."""
    for cfg in (getattr(config, "text_config", None), config):
        for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
            value = getattr(cfg, attr, None) if cfg is not None else None
            if isinstance(value, int) and value > 0:
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 10**9 else 2048


class TransformersModel:
    """Scores continuations the way lm-evaluation-harness does: context tokens, then the continuation's.

    ``share_context=False`` scores one request per row, lm-eval's own layout; it is the reference the
    packed layout is tested against. ``single_forward=False`` sends single-token choices through the packed
    layout too: the reference the one-forward-per-context path (`single_token`) is tested against.
    """

    def __init__(self, path: str | Path, *, name: str = "", chat: bool = False, device: str | None = None,
                 dtype: torch.dtype | None = None, max_length: int | None = None,
                 tokens_per_batch: int | None = None, share_context: bool = True, single_forward: bool = True):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name or Path(path).name
        self.device = device or pick_device()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            try:
                self.model = AutoModelForCausalLM.from_pretrained(
                    str(path), dtype=dtype or pick_dtype(self.device), attn_implementation="sdpa")
            except ValueError:  # an architecture without SDPA: its default attention
                self.model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype or pick_dtype(self.device))
        except Exception as exc:  # loaders raise many kinds on damaged files (OSError, SafetensorError, ...)
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path}: cannot load model ({detail})") from None
        self.model.to(self.device).eval()
        self.chat = chat and bool(self.tokenizer.chat_template)
        self.max_length = max_length or window_of(self.model.config, self.tokenizer)
        self.tokens_per_batch = tokens_per_batch or TOKENS_PER_BATCH.get(self.device.split(":")[0], 2048)
        self.share_context = share_context
        self.single_forward = single_forward
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0
        bos = self.tokenizer.bos_token_id
        self.prefix_id = bos if bos is not None else self.tokenizer.eos_token_id
        self._prefix_text = self.tokenizer.decode([self.prefix_id]) if self.prefix_id is not None else None

    def _encode(self, text: str, special: bool = True) -> list[int]:
        if special and self._prefix_text and text.startswith(self._prefix_text):
            special = False  # the text carries its own BOS
        return self.tokenizer(text, add_special_tokens=special).input_ids

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """lm-eval's split: trailing whitespace moves to the continuation; continuation = tokens(both) minus
        as many tokens as the context has; an empty context becomes the BOS (or EOS) token."""
        if not context:
            cont = self._encode(continuation, special=False)
            if cont and cont[0] == self.prefix_id:
                return cont[:1], cont[1:]
            return [self.prefix_id], cont
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        ctx = self._encode(context)
        return ctx, self._encode(context + continuation)[len(ctx):]

    @torch.inference_mode()
    def loglikelihood(self, requests: list[tuple[str, str]], progress: Progress = None) -> list[Loglikelihood]:
        """Contexts whose choices are all one token are fed once each (`single_token`); the other requests'
        choices that keep the same context share a row (`packing`); rows are batched by length."""
        encoded = []
        for context, continuation in requests:
            ctx, cont = self.encode_pair(context, continuation)
            if not cont:
                raise ModelError("empty continuation: nothing to score")
            encoded.append((ctx, cont))
        try:
            if self.share_context and self.single_forward:
                parts = single_token.split(encoded, self.max_length)
                contexts, rest = parts.rows, parts.rest
            else:
                contexts, rest = [], list(range(len(encoded)))
            rows = pack([encoded[i] for i in rest], self.max_length, self.share_context)
        except ValueError as exc:
            raise ModelError(f"{self.name}: {exc}") from None
        sums = [0.0] * len(requests)
        greedy = [True] * len(requests)

        def add(batch, scores):
            for index, logprob, hit in scores:
                sums[index] += logprob
                greedy[index] &= hit
            if progress:
                progress(sum(len(row.choices) for row in batch))

        for batch in batches(contexts, self.tokens_per_batch):
            add(batch, single_token.score_contexts(self.model, batch, self.pad_id, self.device))
        for batch in batches(rows, self.tokens_per_batch):
            add(batch, ((rest[i], logprob, hit) for i, logprob, hit in self._score(batch)))
        return [Loglikelihood(s, g, len(cont)) for s, g, (_, cont) in zip(sums, greedy, encoded)]

    def _score(self, batch):
        """One forward; log-probabilities only at the scored positions (logsumexp in float32 at least)."""
        p = plan(batch, self.pad_id)
        mask = p.allowed.to(self.device)
        if mask.dim() == 3:
            mask = mask[:, None]
            if self.model.config._attn_implementation != "sdpa":
                dtype = self.model.dtype
                mask = torch.zeros(mask.shape, dtype=dtype, device=self.device).masked_fill(
                    ~mask, torch.finfo(dtype).min)
        else:
            mask = mask.long()
        logits = self.model(input_ids=p.ids.to(self.device), attention_mask=mask,
                            position_ids=p.positions.to(self.device), logits_to_keep=p.keep).logits
        at_row, at_col, target = (t.to(self.device) for t in (p.at_row, p.at_col, p.target))
        exact = torch.promote_types(logits.dtype, torch.float32)
        picked, hits = [], []
        for start in range(0, len(target), SCORED_PER_STEP):
            step = slice(start, start + SCORED_PER_STEP)
            chosen = logits[at_row[step], at_col[step]].to(exact)
            tgt = target[step]
            picked.append(chosen.gather(-1, tgt[:, None]).squeeze(-1) - torch.logsumexp(chosen, dim=-1))
            hits.append(chosen.argmax(-1) == tgt)
        return zip(p.owner, torch.cat(picked).tolist(), torch.cat(hits).tolist())

    def _prompt(self, text: Prompt) -> list[int]:
        """A text (wrapped as one user turn for a chat model), or a conversation (`base.Prompt`) in the chat
        template, or as plain text for a model without one."""
        if isinstance(text, list):
            if not self.tokenizer.chat_template:
                return self._encode(render_plain(text))
            rendered = self.tokenizer.apply_chat_template(
                [{"role": m["role"], "content": m.get("content") or ""} for m in text],
                add_generation_prompt=True, tokenize=False)
            return self._encode(rendered, special=False)
        if self.chat:
            rendered = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False)
            return self._encode(rendered, special=False)
        return self._encode(text)

    @torch.inference_mode()
    def generate(self, prompts: list[Prompt], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None, batch_size: int = 8, temperature: float = 0.0,
                 seeds: list[int] | None = None) -> list[str]:
        """Greedy, in batches; with a temperature, each prompt is sampled alone under its own seed, so a sample
        depends on its prompt and seed only, never on what it was batched with."""
        if temperature > 0:
            seeds = seeds if seeds is not None else [0] * len(prompts)
            return [self._sample(p, seed, temperature, max_new_tokens, stop, progress)
                    for p, seed in zip(prompts, seeds, strict=True)]
        outputs = []
        for start in range(0, len(prompts), batch_size):
            began = time.monotonic()
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
            share = (time.monotonic() - began) / len(encoded)  # a batch's time, shared by its prompts
            for e, row in zip(encoded, generated[:, width:]):
                text = self.tokenizer.decode(row, skip_special_tokens=True)
                outputs.append(self._measured(cut_at_stop(text, stop), len(e), row, share))
            if progress:
                progress(len(encoded))
        return outputs

    def _measured(self, text: str, prompt_tokens: int, row: torch.Tensor, seconds: float) -> Generated:
        """The answer with its token counts (the prompt as fed, the tokens generated before padding or end)
        and its share of the time, as an endpoint reports them, so the report can sum what a point costs."""
        done = row != self.pad_id
        if self.tokenizer.eos_token_id is not None:
            done &= row != self.tokenizer.eos_token_id
        return Generated(text, {"prompt_tokens": prompt_tokens, "completion_tokens": int(done.sum())}, seconds)

    def _sample(self, prompt: Prompt, seed: int, temperature: float, max_new_tokens: int, stop: list[str],
                progress: Progress) -> str:
        """One sample from the full distribution at `temperature` (no top-k or top-p), the RNG seeded for it
        alone and restored afterwards."""
        began = time.monotonic()
        encoded = self._prompt(prompt)[-(self.max_length - max_new_tokens):]
        ids = torch.tensor([encoded], device=self.device)
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            generated = self.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=True,
                temperature=temperature, top_k=0, top_p=1.0, pad_token_id=self.pad_id, stop_strings=stop or None,
                tokenizer=self.tokenizer)
        if progress:
            progress(1)
        row = generated[0, len(encoded):]
        text = cut_at_stop(self.tokenizer.decode(row, skip_special_tokens=True), stop)
        return self._measured(text, len(encoded), row, time.monotonic() - began)
