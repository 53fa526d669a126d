"""The sandbox against hostile programs: each is stopped or refused, and the evaluation goes on to the next item."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import select

import dokja
from dokja.harness.runner import evaluate
from dokja.harness.sandbox import Limits, SandboxError, find_sandbox
from dokja.harness.suite import Suite
from dokja.store import open_store
from dokja.store import schema as db

TIGHT = Limits(cpu_s=1, wall_s=2, memory_mb=256, processes=16, output_bytes=2_000_000, disk_mb=4)
TOOLS = ["bubblewrap", "unshare"]


@pytest.fixture(scope="module")
def listener():
    """A real server on loopback outside the sandbox, which a program must not reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def hostile(port: int, secret: str) -> dict[str, str]:
    return {
        "network": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\nprint('reached')",
        "fork bomb": "import os\nwhile True:\n    os.fork()",
        "disk": "n = 0\nwhile True:\n    open(f'f{n}', 'wb').write(b'x' * 2**20)\n    n += 1",
        "memory": "block = bytearray(2 * 2**30)\nprint('allocated')",
        "sleep": "import time\ntime.sleep(60)\nprint('woke')",
        "key file": f"print(open({secret!r}).read())",
        "project": f"print(open({dokja.__file__!r}).read())",
    }


@pytest.mark.parametrize("tool", TOOLS)
def test_hostile_programs_are_stopped(tool, tmp_path, listener):
    key = tmp_path / "office.key"
    key.write_text("office-signing-key-0123456789")
    sandbox = find_sandbox(prefer=tool)
    assert sandbox.tool == tool
    for name, program in hostile(listener, str(key)).items():
        run = sandbox.run(program, limits=TIGHT)
        assert run.returncode != 0 or run.status != "exited", name
        assert "reached" not in run.stdout and "allocated" not in run.stdout and "woke" not in run.stdout, name
        assert "office-signing-key" not in run.stdout + run.stderr, name
        assert run.seconds < TIGHT.wall_s + 2, name
        expected = {"network": ("Connection refused", "Network is unreachable"),  # its own loopback, or none
                    "fork bomb": ("Resource temporarily unavailable",), "disk": ("No space left on device",),
                    "memory": ("MemoryError",), "key file": ("FileNotFoundError",),
                    "project": ("FileNotFoundError",)}
        if name == "sleep":
            assert run.status == "timeout"
        else:
            assert any(e in run.stderr for e in expected[name]), (name, run.stderr[-300:])
    assert sandbox.run("print(6 * 7)", limits=TIGHT).stdout == "42\n"  # and it still works afterwards


def test_output_and_cpu_limits(tmp_path):
    sandbox = find_sandbox()
    flood = sandbox.run("while True:\n    print('y' * 1000)", limits=TIGHT)
    assert flood.status != "exited" or flood.returncode != 0
    assert len(flood.stdout) <= TIGHT.output_bytes
    spin = sandbox.run("while True:\n    pass", limits=TIGHT)
    assert spin.status == "timeout" and spin.seconds < TIGHT.wall_s + 2


class Answers:
    """A model that answers each prompt with a fixed text: here, the hostile programs themselves."""

    name, chat = "scripted", False

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    def loglikelihood(self, requests, progress=None):
        raise NotImplementedError

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return [self.answers[p] for p in prompts]


def hostile_suite(tmp_path, listener) -> Suite:
    key = tmp_path / "office.key"
    key.write_text("office-signing-key-0123456789")
    programs = {**hostile(listener, str(key)), "good": "def add(a, b):\n    return a + b"}
    items = [{"id": name.replace(" ", "-"), "prompt": f"write {name}", "answer": program,
              "test": "assert add(2, 3) == 5"} for name, program in programs.items()]
    meta = {"id": "hostile", "kind": "generate", "metric": "pass@1", "scorer": "code",
            "code": {"limits": {"cpu_s": 2, "wall_s": 3, "memory_mb": 256, "processes": 16, "disk_mb": 4}},
            "generate": {"max_new_tokens": 64, "stop": []}}
    return Suite("hostile", meta, items)


def test_evaluation_carries_on_past_hostile_items(tmp_path, listener):
    suite = hostile_suite(tmp_path, listener)
    sessions = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="scripted", kind="endpoint", location="test double", chat=False))
    outcome = evaluate(sessions, model, suite, lambda: Answers({i["prompt"]: i["answer"] for i in suite.items}))
    assert outcome.computed == len(suite.items) and outcome.summary["n"] == len(suite.items)
    assert outcome.summary["pass@1"]["mean"] == pytest.approx(1 / len(suite.items))
    with sessions.begin() as s:
        run = s.get(db.Run, outcome.run_id)
        assert run.config["sandbox"] == "bubblewrap"
        rows = {s.get(db.Item, r.item_id).key: r for r in s.scalars(select(db.Result).where(
            db.Result.run_id == outcome.run_id))}
        assert rows["good"].metrics == {"pass@1": 1.0} and rows["good"].detail["verdict"] == "passed"
        assert rows["sleep"].detail["verdict"] == "timeout"
        assert rows["memory"].detail["reason"] == "MemoryError"
        for key, row in rows.items():
            assert "program" in row.detail and row.detail["seconds"] < 6, key
            assert (row.metrics["pass@1"] == 1.0) == (key == "good"), key


def test_without_a_sandbox_code_is_refused_unless_the_operator_allows_it(tmp_path, listener, monkeypatch):
    suite = hostile_suite(tmp_path, listener)
    good = Suite("good-only", suite.meta, [suite.items[-1]])
    sessions = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="scripted", kind="endpoint", location="test double", chat=False))
    opened = []

    def backend():
        opened.append(1)
        return Answers({good.items[0]["prompt"]: good.items[0]["answer"]})

    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))  # the tool lookup finds no tool
    with pytest.raises(SandboxError) as refused:
        evaluate(sessions, model, good, backend)
    assert "\n" not in str(refused.value) and "--unsafe-code" in str(refused.value) and not opened
    with pytest.raises(SandboxError):
        find_sandbox()
    outcome = evaluate(sessions, model, good, backend, unsafe_code=True)
    assert outcome.summary["pass@1"]["mean"] == 1.0 and opened
    with sessions.begin() as s:
        assert s.get(db.Run, outcome.run_id).config["sandbox"] == "none (--unsafe-code)"
