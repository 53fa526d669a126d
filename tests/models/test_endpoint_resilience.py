"""The endpoint client against a misbehaving model service served on loopback.

`FlakyModelServer` is a test double of an outside model service (a team's vLLM server or a frontier API): per
prompt it follows a script of answers such as 429, 500, garbage JSON, a hang past the client's timeout, then
success. It counts the requests it receives and the most it ever held in flight at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dokja.models import Failed, Loglikelihood, ModelError
from dokja.models.endpoint import EndpointModel, continuation_logprob, retry_after

HANG = 1.0


class FlakyModelServer:
    """Test double of an outside OpenAI-compatible model service, scripted per prompt."""

    def __init__(self, script: dict[str, list[str]] | None = None, default: str = "ok", delay: float = 0.0,
                 chat_only: bool = False, logprobs: bool = True):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.default, self.delay, self.chat_only, self.logprobs = default, delay, chat_only, logprobs
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.tokens = {"prompt_tokens": 0, "completion_tokens": 0}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner.lock:
                    owner.requests += 1
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                try:
                    owner.answer(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> "FlakyModelServer":
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self, prompt: str) -> str:
        with self.lock:
            steps = self.script.get(prompt)
            return steps.pop(0) if steps else self.default

    def answer(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        chat = "messages" in body
        prompt = body["messages"][0]["content"] if chat else body["prompt"]
        step = self._next(prompt)
        if self.delay:
            time.sleep(self.delay)
        if step == "hang":
            time.sleep(HANG)
            return
        if self.chat_only and not chat:
            return send(handler, 404, b'{"error": "not found"}')
        if step in ("429", "500", "503"):
            return send(handler, int(step), b'{"error": "busy"}', {"Retry-After": "0"} if step == "429" else {})
        if step == "garbage":
            return send(handler, 200, b'{"choices": [{"text": "unfinished')
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": 0 if body.get("echo") else 3}
        with self.lock:
            for k, v in usage.items():
                self.tokens[k] += v
        if chat:
            answer = {"choices": [{"message": {"content": f"answer: {prompt}\n\nmore"}}]}
        elif body.get("echo"):
            pieces = list(re.finditer(r"\s*\S+", prompt))
            lps = [None] + [-0.25 * (i + 1) for i in range(len(pieces) - 1)]
            tops = [None] + [{m.group(): lp} for m, lp in zip(pieces[1:], lps[1:])]
            logprobs = {"text_offset": [m.start() for m in pieces], "token_logprobs": lps,
                        "top_logprobs": tops, "tokens": [m.group() for m in pieces]}
            answer = {"choices": [{"text": prompt, "logprobs": logprobs if self.logprobs else None}]}
        else:
            answer = {"choices": [{"text": f" answer: {prompt}\n\nmore"}]}
        send(handler, 200, json.dumps({**answer, "usage": usage}).encode())


def send(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def fast_client(url: str, **kw) -> EndpointModel:
    return EndpointModel(url + "#team-model", **{"timeout": 0.3, "retries": 4, "backoff": 0.01, **kw})


def test_429_500_garbage_and_hang_are_retried_then_answered():
    prompts = [f"question {i}" for i in range(6)]
    with FlakyModelServer({p: ["429", "500", "garbage", "hang", "ok"] for p in prompts}) as server:
        model = fast_client(server.url, chat=True)
        started = time.monotonic()
        out = model.generate(prompts, max_new_tokens=8, stop=["\n\n"])
        elapsed = time.monotonic() - started
    assert out == [f"answer: {p}" for p in prompts]
    assert server.requests == 6 * 5 and model.usage.requests == 30 and model.usage.retries == 24
    assert model.usage.failed == 0 and model.usage.cached == 0
    assert model.usage.prompt_tokens == server.tokens["prompt_tokens"] == 12
    assert model.usage.completion_tokens == server.tokens["completion_tokens"] == 18
    assert elapsed < HANG * 2  # the hangs ran concurrently and were cut at the client's timeout


def test_persistent_failures_come_back_per_item_and_the_call_finishes():
    doomed = {"doomed a": ["500"] * 10, "doomed b": ["garbage"] * 10, "doomed c": ["hang"] * 10}
    prompts = ["fine 1", "doomed a", "fine 2", "doomed b", "doomed c"]
    with FlakyModelServer(doomed) as server:
        model = fast_client(server.url, retries=2)
        out = model.generate(prompts, max_new_tokens=8, stop=["\n\n"])
    assert out[0] == " answer: fine 1" and out[2] == " answer: fine 2"
    failed = {prompts[i]: r.reason for i, r in enumerate(out) if isinstance(r, Failed)}
    assert set(failed) == {"doomed a", "doomed b", "doomed c"}
    assert "answered 500" in failed["doomed a"] and "unreadable JSON" in failed["doomed b"]
    assert "timed out after 0.3 s" in failed["doomed c"]
    assert all(r.endswith("(3 attempts)") and "\n" not in r for r in failed.values())
    assert model.usage.failed == 3 and type(out[1]) is Failed


def test_a_client_error_is_not_retried():
    with FlakyModelServer(chat_only=True) as server:
        (out,) = fast_client(server.url).generate(["hello"], max_new_tokens=4, stop=[])
        assert isinstance(out, Failed) and "answered 404" in out.reason and server.requests == 1


def test_cache_makes_a_rerun_send_nothing(tmp_path):
    prompts = ["a", "b", "c", "doomed"]
    with FlakyModelServer({"doomed": ["500"] * 100}) as server:
        first = fast_client(server.url, retries=1, cache_dir=tmp_path / "responses")
        out1 = first.generate(prompts, max_new_tokens=8, stop=[])
        sent = server.requests
        again = fast_client(server.url, retries=1, cache_dir=tmp_path / "responses")
        out2 = again.generate(prompts[:3], max_new_tokens=8, stop=[])
        assert server.requests == sent and again.usage.requests == 0 and again.usage.cached == 3
        assert again.usage.prompt_tokens == 0 and out2 == out1[:3]
        retry = again.generate(["doomed"], max_new_tokens=8, stop=[])  # failures are never kept
        assert server.requests == sent + 2 and isinstance(retry[0], Failed)
        other = fast_client(server.url, retries=1, cache_dir=tmp_path / "responses")
        other.generate(["a"], max_new_tokens=9, stop=[])  # another request body is another key
        assert server.requests == sent + 3
    assert len(list((tmp_path / "responses").glob("??/*.json"))) == 4


def test_concurrency_is_bounded_at_the_server():
    with FlakyModelServer(delay=0.05) as server:
        model = fast_client(server.url, concurrency=3)
        out = model.generate([f"p{i}" for i in range(15)], max_new_tokens=4, stop=[])
    assert len(out) == 15 and not any(isinstance(r, Failed) for r in out)
    assert server.max_in_flight == 3


def test_loglikelihood_by_text_offsets_with_failures_in_place():
    requests = [("서울은 한국의", " 수도이다"), ("The capital of France is", " Paris"), ("doomed", " x y")]
    with FlakyModelServer({"doomed x y": ["503"] * 10, "서울은 한국의 수도이다": ["garbage", "ok"]}) as server:
        model = fast_client(server.url, retries=2)
        out = model.loglikelihood(requests)
    assert out[0] == Loglikelihood(-0.5, True, 1)
    assert out[1] == Loglikelihood(-1.25, True, 1)
    assert isinstance(out[2], Failed) and "answered 503" in out[2].reason


def test_continuation_spanning_tokens_and_a_trailing_generated_token():
    full = "Q: 2+2=\nA: 4"
    answer = {"choices": [{"logprobs": {"text_offset": [0, 2, 7, 8, 10, 12], "token_logprobs":
                                        [None, -1.0, -0.5, -0.25, -0.1, -3.0],
                                        "top_logprobs": [None, None, None, None, {" 4": -0.1, " 5": -0.2}, None]}}]}
    ll = continuation_logprob(answer, "Q: 2+2=\nA:", full)
    assert ll == Loglikelihood(-0.1, True, 1)  # the token after the prompt (offset 12) is not counted
    answer["choices"][0]["logprobs"]["top_logprobs"][4] = {" 5": -0.05}
    assert not continuation_logprob(answer, "Q: 2+2=\nA:", full).greedy


def test_chat_only_endpoint_raises_not_implemented_for_loglikelihood():
    with FlakyModelServer(chat_only=True) as server:
        model = fast_client(server.url, chat=True)
        with pytest.raises(NotImplementedError, match="no completions"):
            model.loglikelihood([("a", " b"), ("c", " d")])
        assert server.requests == 1  # told apart by one probe, not by every item
        with pytest.raises(NotImplementedError, match="chat-only"):
            model.loglikelihood([("a", " b")])
        assert model.generate(["hi"], max_new_tokens=4, stop=["\n\n"]) == ["answer: hi"]
    with FlakyModelServer(logprobs=False) as server:
        with pytest.raises(NotImplementedError, match="no prompt logprobs"):
            fast_client(server.url).loglikelihood([("a", " b")])


def test_dead_endpoint_is_one_error_not_per_item_failures():
    with FlakyModelServer() as server:
        url = server.url
    model = fast_client(url, retries=1)
    with pytest.raises(ModelError, match="unreachable"):
        model.loglikelihood([("a", " b"), ("c", " d")])


def test_retry_after_is_honoured():
    with FlakyModelServer() as server:
        model = fast_client(server.url, backoff=0.001)

        class Slow:
            headers = {"retry-after": "0.4"}

        assert retry_after(Slow()) == 0.4 and model._delay(0, 0.4) == 0.4 and model._delay(0, 99) == 30.0
        assert 0.0005 <= model._delay(0, None) <= 0.001
        Slow.headers = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
        assert retry_after(Slow()) == 0.0
        Slow.headers = {"retry-after": "soon"}
        assert retry_after(Slow()) is None


def test_works_when_called_from_running_event_loop():
    with FlakyModelServer() as server:
        model = fast_client(server.url)

        async def inside():
            return model.generate(["x"], max_new_tokens=4, stop=["\n\n"])

        assert asyncio.run(inside()) == [" answer: x"]
