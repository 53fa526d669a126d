"""vLLM as an optional backend (``pip install vllm``), for fast scoring and generation on a GPU.

Untested in Dokja's own test suite, which runs without a GPU: the code follows vLLM's documented offline
API (``LLM.generate`` with ``SamplingParams``; ``prompt_logprobs`` for the log-probability of every prompt
token). Log-likelihoods use the same context/continuation split as the transformers backend
(lm-evaluation-harness's), so the two agree up to vLLM's kernels' rounding.
"""

from __future__ import annotations

from pathlib import Path

from .base import Loglikelihood, Progress, Prompt, cut_at_stop, render_plain
from .errors import ModelError
from .packing import window


class VLLMModel:
    def __init__(self, path: str | Path, *, name: str = "", chat: bool = False, max_length: int | None = None,
                 **engine_args):
        try:
            from vllm import LLM
        except ImportError:
            raise ModelError("vllm is not installed: pip install vllm (a GPU is needed)") from None
        self.name = name or Path(path).name
        self.llm = LLM(model=str(path), max_model_len=max_length, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.chat = chat and bool(getattr(self.tokenizer, "chat_template", None))
        self.max_length = self.llm.llm_engine.model_config.max_model_len
        bos = self.tokenizer.bos_token_id
        self.prefix_id = bos if bos is not None else self.tokenizer.eos_token_id

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """The transformers backend's (lm-eval's) split: trailing whitespace moves to the continuation."""
        if not context:
            return [self.prefix_id], self.tokenizer(continuation, add_special_tokens=False).input_ids
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        ctx = self.tokenizer(context).input_ids
        return ctx, self.tokenizer(context + continuation).input_ids[len(ctx):]

    def loglikelihood(self, requests: list[tuple[str, str]], progress: Progress = None) -> list[Loglikelihood]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        prompts, spans = [], []
        for context, continuation in requests:
            ctx, cont = self.encode_pair(context, continuation)
            try:
                kept = list(window(ctx, cont, self.max_length - 1))  # vLLM must also fit one sampled token
            except ValueError as exc:
                raise ModelError(f"{self.name}: {exc}") from None
            prompts.append(TokensPrompt(prompt_token_ids=kept + cont))
            spans.append((len(kept), cont))
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1, detokenize=False)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for out, (start, cont) in zip(outputs, spans):
            logprob, greedy = 0.0, True
            for position, token in zip(range(start, start + len(cont)), cont):
                ranked = out.prompt_logprobs[position]  # token id -> Logprob(logprob, rank)
                logprob += ranked[token].logprob
                greedy &= ranked[token].rank == 1
            results.append(Loglikelihood(logprob, greedy, len(cont)))
        if progress:
            progress(len(requests))
        return results

    def generate(self, prompts: list[Prompt], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=0.0, stop=stop or None)
        if self.chat:
            texts = [self.tokenizer.apply_chat_template(p if isinstance(p, list) else [{"role": "user", "content": p}],
                                                        add_generation_prompt=True, tokenize=False)
                     for p in prompts]
        else:
            texts = [p if isinstance(p, str) else render_plain(p) for p in prompts]
        outputs = self.llm.generate(texts, params, use_tqdm=False)
        if progress:
            progress(len(prompts))
        return [cut_at_stop(out.outputs[0].text, stop) for out in outputs]
