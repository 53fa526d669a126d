"""What the endpoint client sends: a temperature and a seed per request when sampling, and a conversation as
chat messages (or as plain text to a completions-only model)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dokja.models.endpoint import EndpointModel


class RecordingStandInAPI(BaseHTTPRequestHandler):
    """Stands in for an OpenAI-compatible server: keeps every request body, answers with the seed it was sent."""

    bodies: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append((self.path, body))
        said = f"seed {body.get('seed')}"
        answer = {"choices": [{"message": {"content": said}} if "messages" in body else {"text": said}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    RecordingStandInAPI.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingStandInAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_samples_carry_their_temperature_and_seed(api):
    model = EndpointModel(f"{api}#m", chat=True)
    out = model.generate(["q", "q"], max_new_tokens=8, stop=[], temperature=0.7, seeds=[11, 12])
    assert out == ["seed 11", "seed 12"]
    sent = sorted((b["seed"], b["temperature"]) for _, b in RecordingStandInAPI.bodies)
    assert sent == [(11, 0.7), (12, 0.7)]
    greedy = EndpointModel(f"{api}#m", chat=True).generate(["q"], max_new_tokens=8, stop=[])
    assert greedy == ["seed None"] and RecordingStandInAPI.bodies[-1][1]["temperature"] == 0
    assert "seed" not in RecordingStandInAPI.bodies[-1][1]
    with pytest.raises(ValueError, match="1 seeds for 2 prompts"):
        model.generate(["a", "b"], max_new_tokens=8, stop=[], temperature=0.7, seeds=[1])


def test_a_conversation_goes_as_messages_or_as_text(api):
    turns = [{"role": "user", "content": "첫 질문"}, {"role": "assistant", "content": "첫 답"},
             {"role": "user", "content": "둘째 질문"}]
    EndpointModel(f"{api}#m", chat=True).generate([turns], max_new_tokens=8, stop=[])
    path, body = RecordingStandInAPI.bodies[-1]
    assert path.endswith("/chat/completions") and body["messages"] == turns
    EndpointModel(f"{api}#m").generate([turns], max_new_tokens=8, stop=[])
    path, body = RecordingStandInAPI.bodies[-1]
    assert path.endswith("/completions") and body["prompt"] == (
        "User: 첫 질문\n\nAssistant: 첫 답\n\nUser: 둘째 질문\n\nAssistant:")
