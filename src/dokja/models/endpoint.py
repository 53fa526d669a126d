"""OpenAI-compatible HTTP endpoints: how teams serve their models and how frontier APIs are reached.

Requests go out concurrently (bounded), are retried with exponential back-off and jitter on 429, 5xx,
connection errors, timeouts and unreadable answers, and every successful answer is kept on disk so a re-run
sends nothing. An item that still fails comes back as `Failed` in its place; the call itself finishes.

Generated text comes back as `Generated`, a `str` that also carries the request's token usage and latency.
A reasoning model's thinking, whether the server returns it apart (`message.reasoning_content`, as vLLM,
DeepSeek and others do) or inline as `<think>` blocks, comes back inside the text as one leading
`<think>…</think>` block, which `dokja.harness.reasoning.split_thinking` takes off again; stop strings cut
only the answer, never the thinking. (A richer return type would have changed every backend and caller;
the tagged string goes through all of them as it is.)
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from .base import Failed, Generated, Loglikelihood, Progress, Prompt, cut_at_stop, render_plain
from .cache import ResponseCache, request_key
from .errors import ModelError

RETRY_STATUS = {408, 409, 425, 429}
NO_COMPLETIONS = {400, 404, 405, 501}


@dataclass
class Usage:
    """What the endpoint cost: tokens as the server counted them, requests sent, retries, answers from the cache."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    retries: int = 0
    cached: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Malformed(ValueError):
    """An answer that parsed but lacks what was asked for: retried like garbage JSON."""


class _NoLogprobs(Exception):
    """The server answered but gives no prompt log-probabilities."""


@dataclass(frozen=True)
class _Rejected(Failed):
    status: int = 0


@dataclass(frozen=True)
class _Unreachable(Failed):
    pass


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` as seconds or as an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _tokens(answer: dict[str, Any], name: str) -> int:
    usage = answer.get("usage")
    try:
        return int(usage.get(name) or 0) if isinstance(usage, dict) else 0
    except (TypeError, ValueError):
        return 0


def _reasoning_tokens(answer: dict[str, Any]) -> int | None:
    """`usage.completion_tokens_details.reasoning_tokens`, where the server reports it."""
    usage = answer.get("usage")
    details = usage.get("completion_tokens_details") if isinstance(usage, dict) else None
    value = details.get("reasoning_tokens") if isinstance(details, dict) else None
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _request_usage(answer: dict[str, Any]) -> dict[str, int]:
    """This request's token counts, only those the server gave."""
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    out = {name: _tokens(answer, name) for name in ("prompt_tokens", "completion_tokens") if name in usage}
    reasoning = _reasoning_tokens(answer)
    if reasoning is not None:
        out["reasoning_tokens"] = reasoning
    return out


def continuation_logprob(answer: dict[str, Any], context: str, full: str) -> Loglikelihood:
    """Sum the echoed prompt tokens that carry continuation text, found by their character offsets."""
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _Malformed("no choices")
    lp = choices[0].get("logprobs")
    if not lp or not lp.get("text_offset") or lp.get("token_logprobs") is None:
        raise _NoLogprobs()
    offsets, logprobs = lp["text_offset"], lp["token_logprobs"]
    tops = lp.get("top_logprobs") or [None] * len(logprobs)
    if len(offsets) != len(logprobs):
        raise _Malformed("text_offset and token_logprobs differ in length")
    total, greedy, n = 0.0, True, 0
    for i, (start, logprob) in enumerate(zip(offsets, logprobs)):
        end = offsets[i + 1] if i + 1 < len(offsets) else len(full)
        if start >= len(full) or end <= len(context):
            continue  # a context token, or one the server generated after the prompt
        if logprob is None:
            raise _Malformed("continuation token without a log-probability")
        total += float(logprob)
        top = tops[i] if i < len(tops) else None
        greedy = greedy and (not top or float(logprob) >= max(top.values()) - 1e-6)
        n += 1
    if n == 0:
        raise _Malformed("no continuation tokens in the echoed prompt")
    return Loglikelihood(total, greedy, n)


def _thinking_first(message: dict[str, Any], text: str) -> str:
    """The answer's text with the server's separate thinking (`reasoning_content`, or `reasoning`) put in front
    as one `<think>` block, so thinking reaches the record the same way whichever way a server sends it."""
    thinking = message.get("reasoning_content") or message.get("reasoning")
    return f"<think>{thinking}</think>{text}" if isinstance(thinking, str) and thinking.strip() else text


def _chat_text(answer: dict[str, Any]) -> Generated:
    try:
        message = answer["choices"][0]["message"]
        text = message["content"]
    except (KeyError, IndexError, TypeError):
        raise _Malformed("no choices[0].message.content") from None
    return Generated(_thinking_first(message, text or ""), _request_usage(answer))


def _completion_text(answer: dict[str, Any]) -> str:
    try:
        text = answer["choices"][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise _Malformed("no choices[0].text") from None
    if not isinstance(text, str):
        raise _Malformed("choices[0].text is not text")
    return Generated(text, _request_usage(answer))


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for, as the server sent it: `arguments` is its JSON text, read by the caller
    (a malformed one is the model's fault, told back to it, not the request's)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class AssistantMessage:
    """A chat answer that may call tools: its text (thinking first as one `<think>` block, as `generate` gives
    it), its tool calls, and the request's token usage."""

    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: dict = field(default_factory=dict)


def _assistant_message(answer: dict[str, Any]) -> AssistantMessage:
    try:
        message = answer["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise _Malformed("no choices[0].message") from None
    if not isinstance(message, dict):
        raise _Malformed("choices[0].message is not an object")
    text = _thinking_first(message, message.get("content") if isinstance(message.get("content"), str) else "")
    listed = message.get("tool_calls")
    calls = []
    for n, call in enumerate(listed if isinstance(listed, list) else []):
        call = call if isinstance(call, dict) else {}
        function = call["function"] if isinstance(call.get("function"), dict) else {}
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):  # some servers send the arguments as an object
            arguments = json.dumps(arguments, ensure_ascii=False)
        calls.append(ToolCall(str(call.get("id") or f"call_{n}"), str(function.get("name") or ""), arguments))
    return AssistantMessage(text, tuple(calls), _request_usage(answer))


def cut_answer_at_stop(text: str, stop: list[str]) -> str:
    """`cut_at_stop` on the answer alone: the thinking before it is kept whole, as one leading block."""
    from ..harness.reasoning import join_thinking, split_thinking

    thinking, answer = split_thinking(text)
    if not thinking and answer == text:
        cut = cut_at_stop(text, stop)
    else:
        cut = join_thinking(thinking, cut_at_stop(answer, stop))
    if isinstance(text, Generated):
        return Generated(cut, text.usage, text.seconds)
    return cut


def _run(coro):
    """Run a coroutine to the end from synchronous code, even when the caller already has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class EndpointModel:
    """Generation through chat or completions; log-likelihood through completions with echo and logprobs."""

    function_calling = True  # a chat endpoint is sent tools (`chat_tools`); False describes them in the text

    def __init__(self, url: str, *, name: str = "", chat: bool = False, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 4, concurrency: int = 8, backoff: float = 0.5,
                 max_backoff: float = 30.0, cache_dir: Path | None = None, completions: bool = True):
        base, _, model = url.partition("#")
        self.base = base.rstrip("/")
        self.model_id = model or name
        self.name = name or self.model_id
        self.chat = chat
        self.completions = completions
        self.timeout, self.retries, self.concurrency = timeout, retries, max(1, concurrency)
        self.backoff, self.max_backoff = backoff, max_backoff
        self.cache = ResponseCache(cache_dir) if cache_dir else None
        self.usage = Usage()
        key = api_key or os.environ.get("DOKJA_API_KEY", "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), headers=self.headers,
                                 limits=httpx.Limits(max_connections=self.concurrency))

    def _delay(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            return min(asked, self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff * 2 ** attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _post(self, client: httpx.AsyncClient, gate: asyncio.Semaphore, path: str, body: dict[str, Any],
                    read: Callable[[dict[str, Any]], Any]) -> Any:
        """One request to its end: the value `read` takes from the answer, or `Failed` after the last retry."""
        url = f"{self.base}{path}"
        body = {"model": self.model_id, **body}
        key = request_key(url, body)
        if self.cache is not None and (kept := self.cache.get(key)) is not None:
            try:
                value = read(kept)
            except _Malformed:
                pass
            else:
                self.usage.cached += 1
                return value
        attempts = self.retries + 1
        for attempt in range(attempts):
            asked = None
            async with gate:
                self.usage.requests += 1
                try:
                    sent = time.monotonic()
                    response = await client.post(url, json=body)
                except httpx.TimeoutException:
                    fault = f"endpoint {url} timed out after {self.timeout:g} s"
                except httpx.HTTPError as exc:
                    fault = f"endpoint {url} unreachable: {type(exc).__name__}: {exc}"
                    if attempt == attempts - 1:
                        self.usage.failed += 1
                        return _Unreachable(f"{fault} ({attempts} attempts)")
                else:
                    status = response.status_code
                    if status in RETRY_STATUS or status >= 500:
                        fault, asked = f"endpoint {url} answered {status}", retry_after(response)
                    elif status >= 400:
                        self.usage.failed += 1
                        text = " ".join(response.text[:200].split())
                        return _Rejected(f"endpoint {url} answered {status}: {text}", status)
                    else:
                        try:
                            answer = response.json()
                            if not isinstance(answer, dict):
                                raise _Malformed("not a JSON object")
                            value = read(answer)
                        except ValueError as exc:  # garbage JSON and _Malformed alike
                            fault = f"endpoint {url} answered unreadable JSON ({str(exc)[:80]})"
                        else:
                            self.usage.prompt_tokens += _tokens(answer, "prompt_tokens")
                            self.usage.completion_tokens += _tokens(answer, "completion_tokens")
                            self.usage.reasoning_tokens += _reasoning_tokens(answer) or 0
                            if isinstance(value, Generated):
                                value.seconds = time.monotonic() - sent
                            if self.cache is not None:
                                self.cache.put(key, answer)
                            return value
            if attempt < attempts - 1:
                self.usage.retries += 1
                await asyncio.sleep(self._delay(attempt, asked))
        self.usage.failed += 1
        return Failed(f"{fault} ({attempts} attempts)")

    def _settle(self, results: list) -> list:
        """A dead endpoint is one clear error; anything less is reported item by item."""
        if results and all(isinstance(r, _Unreachable) for r in results):
            raise ModelError(results[0].reason)
        return [Failed(r.reason) if isinstance(r, Failed) else r for r in results]

    def generate(self, prompts: list[Prompt], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None, temperature: float = 0,
                 seeds: list[int] | None = None) -> list[str | Failed]:
        """Greedy by default; with a temperature, each request carries its own `seed` (servers that honour it,
        as vLLM does, give the same sample again). A conversation goes to chat completions as its messages;
        to a completions-only model it goes as plain text."""
        seeds = list(seeds) if seeds is not None else [None] * len(prompts)
        if len(seeds) != len(prompts):
            raise ValueError(f"{len(seeds)} seeds for {len(prompts)} prompts")

        def request(prompt: Prompt, seed: int | None) -> tuple[str, dict, Callable]:
            sampling = {"temperature": temperature, **({"seed": seed} if seed is not None else {})}
            if self.chat or (isinstance(prompt, list) and not self.completions):
                messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
                return "/chat/completions", {"messages": messages, "max_tokens": max_new_tokens, **sampling}, _chat_text
            text = render_plain(prompt) if isinstance(prompt, list) else prompt
            body = {"prompt": text, "max_tokens": max_new_tokens, **sampling, "stop": stop[:4] or None}
            return "/completions", body, _completion_text

        answers = self._post_each([request(p, seed) for p, seed in zip(prompts, seeds)], progress)
        return [a if isinstance(a, Failed) else cut_answer_at_stop(a, stop) for a in answers]

    def chat_tools(self, conversations: list[list[dict]], *, tools: list[dict], max_new_tokens: int,
                   progress: Progress = None) -> list[AssistantMessage | Failed]:
        """Each conversation answered greedily by chat completions with `tools` (OpenAI-shape) offered: the
        reply's text and `tool_calls`, retried and cached as `generate` is."""
        return self._post_each([("/chat/completions", {"messages": messages, "tools": tools,
                                                        "max_tokens": max_new_tokens, "temperature": 0},
                                 _assistant_message) for messages in conversations], progress)

    def _post_each(self, requests: list[tuple[str, dict, Callable]], progress: Progress) -> list:
        """(path, body, reader) requests sent at most `concurrency` at a time, each answer read by its reader."""

        async def run() -> list:
            async with self._client() as client:
                gate = asyncio.Semaphore(self.concurrency)

                async def one(path: str, body: dict, read: Callable):
                    out = await self._post(client, gate, path, body, read)
                    if progress:
                        progress(1)
                    return out

                return await asyncio.gather(*(one(*r) for r in requests))

        return self._settle(_run(run()))

    def loglikelihood(self, requests: list[tuple[str, str]],
                      progress: Progress = None) -> list[Loglikelihood | Failed]:
        """Echoed prompt log-probabilities; `NotImplementedError` where the server cannot give them."""
        if not self.completions:
            raise NotImplementedError(f"endpoint {self.base} is chat-only: no log-likelihoods")

        async def run() -> list:
            async with self._client() as client:
                gate = asyncio.Semaphore(self.concurrency)

                async def one(pair: tuple[str, str]):
                    context, continuation = pair
                    full = context + continuation
                    body = {"prompt": full, "max_tokens": 0, "echo": True, "logprobs": 1, "temperature": 0}
                    out = await self._post(client, gate, "/completions", body,
                                           lambda answer: continuation_logprob(answer, context, full))
                    if progress:
                        progress(1)
                    return out

                if not requests:
                    return []
                first = await one(requests[0])  # a probe: a server without prompt logprobs is told apart once
                if isinstance(first, _Rejected) and first.status in NO_COMPLETIONS:
                    self.completions = False
                    raise NotImplementedError(f"endpoint {self.base} offers no completions with logprobs "
                                              f"({first.reason})")
                return [first, *await asyncio.gather(*(one(pair) for pair in requests[1:]))]

        try:
            return self._settle(_run(run()))
        except _NoLogprobs:
            self.completions = False
            raise NotImplementedError(f"endpoint {self.base} gives no prompt logprobs") from None
