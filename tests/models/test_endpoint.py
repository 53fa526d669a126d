"""The OpenAI-compatible backend against servers on loopback: a dead one, and a flaky stand-in for a real API."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dokja.models import ModelError
from dokja.models.endpoint import EndpointModel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dead_endpoint_is_one_clear_line():
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = EndpointModel(url, name="gone", retries=1)
    with pytest.raises(ModelError) as info:
        model.generate(["hello"], max_new_tokens=4, stop=[])
    assert str(info.value).startswith(f"endpoint {url}/completions unreachable") and "\n" not in str(info.value)


class FlakyStandInAPI(BaseHTTPRequestHandler):
    """Stands in for a remote API we cannot reach here: one 503, then OpenAI-shaped answers."""

    calls = 0

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(503)
            self.end_headers()
            return
        if "messages" in body:
            answer = {"choices": [{"message": {"content": "7\n\nbecause 3 + 4"}}]}
        else:
            prompt = body["prompt"]
            cut = prompt.index(" Paris") if " Paris" in prompt else len(prompt)
            answer = {"choices": [{"text": "", "logprobs": {"text_offset": [0, cut], "token_logprobs": [None, -0.5],
                                                            "top_logprobs": [None, {" Paris": -0.5}]}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_api():
    FlakyStandInAPI.calls = 0
    server = HTTPServer(("127.0.0.1", 0), FlakyStandInAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_retries_then_generates_and_scores(flaky_api):
    model = EndpointModel(flaky_api + "#frontier-x", chat=True, retries=2)
    assert model.generate(["What is 3+4?"], max_new_tokens=8, stop=["\n\n"]) == ["7"]
    (ll,) = model.loglikelihood([("The capital of France is", " Paris")])
    assert ll.logprob == -0.5 and ll.greedy and ll.n_tokens == 1
    assert FlakyStandInAPI.calls == 3
