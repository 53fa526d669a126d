"""OpenAI-compatible HTTP endpoints: how teams serve their models and how frontier APIs are reached."""

from __future__ import annotations

import os
import time

import httpx

from .base import Loglikelihood, Progress, cut_at_stop
from .errors import ModelError

RETRY_STATUS = {429, 500, 502, 503, 504}


class EndpointModel:
    """Generation through chat or completions; log-likelihood through completions with echo and logprobs."""

    def __init__(self, url: str, *, name: str = "", chat: bool = False, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 3):
        base, _, model = url.partition("#")
        self.base = base.rstrip("/")
        self.model_id = model or name
        self.name = name or self.model_id
        self.chat = chat
        self.retries = retries
        key = api_key or os.environ.get("DOKJA_API_KEY", "")
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"} if key else {})

    def _post(self, path: str, body: dict) -> dict:
        url = f"{self.base}{path}"
        for attempt in range(self.retries + 1):
            try:
                response = self.client.post(url, json={"model": self.model_id, **body})
            except httpx.HTTPError as exc:
                if attempt == self.retries:
                    raise ModelError(f"endpoint {url} unreachable: {type(exc).__name__}: {exc}") from None
            else:
                if response.status_code not in RETRY_STATUS:
                    if response.status_code >= 400:
                        raise ModelError(f"endpoint {url} answered {response.status_code}: {response.text[:200]}")
                    return response.json()
                if attempt == self.retries:
                    raise ModelError(f"endpoint {url} kept answering {response.status_code}")
            time.sleep(min(2 ** attempt * 0.5, 8))
        raise AssertionError("unreachable")

    def generate(self, prompts: list[str], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None) -> list[str]:
        out = []
        for prompt in prompts:
            if self.chat:
                data = self._post("/chat/completions", {"messages": [{"role": "user", "content": prompt}],
                                                        "max_tokens": max_new_tokens, "temperature": 0})
                text = data["choices"][0]["message"]["content"] or ""
            else:
                data = self._post("/completions", {"prompt": prompt, "max_tokens": max_new_tokens,
                                                   "temperature": 0, "stop": stop or None})
                text = data["choices"][0]["text"]
            out.append(cut_at_stop(text, stop))
            if progress:
                progress(1)
        return out

    def loglikelihood(self, requests: list[tuple[str, str]], progress: Progress = None) -> list[Loglikelihood]:
        out = []
        for context, continuation in requests:
            data = self._post("/completions", {"prompt": context + continuation, "max_tokens": 0, "echo": True,
                                               "logprobs": 1, "temperature": 0})
            lp = data["choices"][0].get("logprobs") or {}
            offsets, tokens = lp.get("text_offset"), lp.get("token_logprobs")
            if not offsets or tokens is None:
                raise ModelError(f"endpoint {self.base} gives no prompt logprobs; score this suite by generation")
            picked = [(t, top) for off, t, top in zip(offsets, tokens, lp.get("top_logprobs") or [None] * len(tokens))
                      if off >= len(context)]
            greedy = all(top is None or t >= max(top.values()) for t, top in picked)
            out.append(Loglikelihood(float(sum(t for t, _ in picked)), greedy, len(picked)))
            if progress:
                progress(1)
        return out
