"""How fast the endpoint client scores a suite against a slow, flaky model service, and what a re-run costs.

A model service stand-in on loopback (a threaded HTTP server answering OpenAI-shaped completions with echoed
log-probabilities after a fixed latency, in its own process, and a 503 for a share of requests) is scored sequentially
(concurrency 1) and concurrently; then the concurrent run is repeated over its response cache. Also times
the contamination check over the demo's Korean training corpus.

    .venv/bin/python benchmarks/endpoint_client.py [--requests 400] [--latency 0.05] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dokja.harness.contamination import check  # noqa: E402
from dokja.harness.suite import load_suite  # noqa: E402
from dokja.models.base import Failed  # noqa: E402
from dokja.models.endpoint import EndpointModel  # noqa: E402


def serve(latency: float, error_rate: float, port, seen) -> None:
    """The model service stand-in, run in its own process so it does not share the client's interpreter."""
    lock = threading.Lock()
    rng = random.Random(0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                seen.value += 1
                fail = rng.random() < error_rate
            time.sleep(latency)
            if fail:
                data, status = b'{"error": "overloaded"}', 503
            else:
                pieces = list(re.finditer(r"\s*\S+", body["prompt"]))
                lp = {"text_offset": [m.start() for m in pieces],
                      "token_logprobs": [None] + [-0.5] * (len(pieces) - 1)}
                data, status = json.dumps({"choices": [{"text": body["prompt"], "logprobs": lp}],
                                           "usage": {"prompt_tokens": len(pieces), "completion_tokens": 0}
                                           }).encode(), 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_port
    server.serve_forever(0.05)


def timed(model: EndpointModel, requests: list[tuple[str, str]]) -> tuple[float, list]:
    start = time.perf_counter()
    out = model.loglikelihood(requests)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--error-rate", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    suite = load_suite("kobest_hellaswag")
    pairs = [(it["context"], " " + choice) for it in suite.items for choice in it["choices"]]
    requests = (pairs * (args.requests // len(pairs) + 1))[:args.requests]
    requests = [(f"{c} #{i}", x) for i, (c, x) in enumerate(requests)]
    port, seen = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=serve, args=(args.latency, args.error_rate, port, seen), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port.value}/v1#bench"
    with tempfile.TemporaryDirectory() as tmp:
        common = {"retries": 6, "backoff": 0.02, "timeout": 5.0}
        sequential, out1 = timed(EndpointModel(url, concurrency=1, **common), requests[:args.requests // 8])
        model = EndpointModel(url, concurrency=args.concurrency, cache_dir=Path(tmp), **common)
        cpu = time.process_time()
        concurrent, out = timed(model, requests)
        cpu = time.process_time() - cpu
        sent = seen.value
        rerun_model = EndpointModel(url, concurrency=args.concurrency, cache_dir=Path(tmp), **common)
        rerun, again = timed(rerun_model, requests)
    server.terminate()
    assert again == out and seen.value == sent

    corpus = ROOT / "src/dokja/demo/corpus/kobest_train_ko.txt"
    start = time.perf_counter()
    report = check(suite.id, suite.items, [corpus])
    contamination_s = time.perf_counter() - start

    result = {
        "requests": len(requests), "latency_s": args.latency, "error_rate": args.error_rate,
        "sequential_req_per_s": round(len(out1) / sequential, 1),
        "concurrent_req_per_s": round(len(requests) / concurrent, 1), "concurrency": args.concurrency,
        "speedup": round((len(requests) / concurrent) / (len(out1) / sequential), 1),
        "failed_items": sum(isinstance(r, Failed) for r in out), "retries": model.usage.retries,
        "http_requests": model.usage.requests, "prompt_tokens": model.usage.prompt_tokens,
        "client_cpu_ms_per_request": round(1000 * cpu / model.usage.requests, 2),
        "rerun_s": round(rerun, 3), "rerun_http_requests": rerun_model.usage.requests,
        "rerun_cached": rerun_model.usage.cached,
        "contamination_chars": report.units, "contamination_s": round(contamination_s, 2),
        "contamination_chars_per_s": round(report.units / contamination_s),
        "contamination_flagged": len(report.flagged),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
