"""Agent suites: a model serves a scripted user with tools over a small database, and is scored by the state
the database ends in. The bundled civil-service desk is played by a correct clerk and by wrong ones, through
the runner and its store, by a function-calling endpoint (a stand-in server on loopback) and by SmolLM2."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from dokja.harness import evaluate, load_suite
from dokja.harness.agent import TEXT, TOOLS, agent_chunk, check_suite, protocol_of
from dokja.harness.agent_env import Environment, state_difference
from dokja.harness.suite import BUNDLED, SuiteError, budgeted
from dokja.models.base import Failed
from dokja.models.endpoint import EndpointModel
from dokja.store import open_store
from dokja.store import schema as db

SUITE = load_suite("ko_desk_agent")
ITEMS = {it["id"]: it for it in SUITE.items}
NO_CHANGE = {"desk-04-other-household", "desk-09-not-yours", "desk-10-wrong-birth"}


def said(item: dict) -> str:
    """What a clerk who did the task tells the user: the texts the task asks to hear."""
    must = [entry if isinstance(entry, str) else entry[0] for entry in item.get("answer_contains", [])]
    return " ".join(["처리했습니다.", *must])


class DeskClerk:
    """The model under evaluation, played by a script: it knows each task's reference calls (`actions`) and
    makes them one per reply in the text protocol, then tells the user what was done. `change(item, call)`
    alters a call, for a clerk who gets something wrong."""

    def __init__(self, change=None):
        self.name, self.chat, self.sent = "desk-clerk", True, []
        self.change = change or (lambda item, call: call)

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.sent += prompts
        return [self.reply(messages) for messages in prompts]

    def reply(self, messages: list[dict]) -> str:
        item = next(it for it in SUITE.items if it["prompt"] == messages[1]["content"])
        asked = [n for n, m in enumerate(messages) if m["role"] == "user" and "<tool_response>" not in m["content"]]
        answered = sum("<tool_response>" in m["content"] for m in messages[asked[-1]:] if m["role"] == "user")
        calls = item["actions"][len(asked) - 1]
        if answered < len(calls):
            return f"<tool_call>{json.dumps(self.change(item, calls[answered]), ensure_ascii=False)}</tool_call>"
        return said(item)


def run(sqlite_url, suite, model, factory=None):
    sessions = open_store(sqlite_url)
    with sessions.begin() as s:
        row = s.scalar(select(db.Model).where(db.Model.name == model.name)) or s.merge(
            db.Model(name=model.name, kind="hf", location="local", chat=True))
    out = evaluate(sessions, row, suite, factory or (lambda: model))
    with sessions.begin() as s:
        results = s.execute(select(db.Item.key, db.Result.metrics, db.Result.detail)
                            .join(db.Item, db.Item.id == db.Result.item_id).where(db.Result.run_id == out.run_id)
                            .order_by(db.Item.position)).all()
    return out, {key: (metrics, detail) for key, metrics, detail in results}


def test_the_correct_clerk_succeeds_on_every_task_and_a_resume_redoes_nothing(sqlite_url):
    out, results = run(sqlite_url, SUITE, DeskClerk())
    assert out.computed == 12 and out.summary["success"]["mean"] == 1.0 and out.summary["method"] == "agent"
    metrics, detail = results["desk-06-slot-taken"]
    assert metrics == {"success": 1.0, "turns": 5.0} and detail["protocol"] == TEXT and detail["ended"] == "done"
    assert [c.get("error") for c in detail["calls"]] == [None, "그 시간에는 이미 다른 예약이 있습니다.", None]
    assert detail["transcript"][0]["role"] == "system" and "<tools>" in detail["transcript"][0]["content"]
    assert [m["content"] for m in detail["transcript"] if m["role"] == "user" and "<tool" not in m["content"]] == [
        ITEMS["desk-06-slot-taken"]["prompt"], *ITEMS["desk-06-slot-taken"]["user_turns"]]
    assert {"appointment_id": "A004", "resident_id": "R001", "service": "인감증명 발급", "date": "2025-03-12",
            "time": "11:00", "status": "예약"} in detail["database"]["appointments"]

    def never():
        raise AssertionError("a finished run must not load the model again")

    again, _ = run(sqlite_url, SUITE, DeskClerk(), never)
    assert again.computed == 0 and again.done_before == 12 and again.run_id == out.run_id


def test_a_clerk_who_gets_an_argument_wrong_or_does_nothing_fails(sqlite_url):
    def three_copies(item, call):
        if call["name"] != "issue_certificate":
            return call
        return {**call, "arguments": {**call["arguments"], "copies": 3}}

    _, results = run(sqlite_url, SUITE, DeskClerk(three_copies))
    metrics, detail = results["desk-02-certificate"]
    assert metrics["success"] == 0.0 and detail["reason"].startswith("table certificates: missing")
    assert results["desk-01-address"][0]["success"] == 1.0  # no certificate there: still right

    class Idle(DeskClerk):  # answers politely and never calls a tool
        def reply(self, messages):
            return "확인해 보겠습니다."

    idle = Idle()
    idle.name = "idle-clerk"
    _, results = run(sqlite_url, SUITE, idle)
    assert {key for key, (metrics, _) in results.items() if metrics["success"]} == NO_CHANGE
    assert results["desk-12-lookup"][1]["reason"].startswith("no reply to the user says")


def test_the_environment_is_deterministic_across_runs():
    items = list(ITEMS.values())
    first, second = agent_chunk(SUITE, items, DeskClerk()), agent_chunk(SUITE, items, DeskClerk())
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    tools, tasks = check_suite(SUITE)
    for task in tasks:  # the reference calls, replayed twice, end in the same state each time
        states = []
        for _ in range(2):
            env = Environment(tools, task.database)
            outcomes = [env.call(c["name"], c["arguments"]) for turn in ITEMS[task.id]["actions"] for c in turn]
            states.append((env.state(), [o.content() for o in outcomes]))
        assert states[0] == states[1]
        assert task.database == ITEMS[task.id]["database"]  # the item's own tables are never changed


def test_the_final_state_is_compared_table_by_table_in_any_row_order():
    start = {"t": [{"a": 1}, {"a": 2}], "u": [{"b": 1}]}
    assert state_difference(start, {"t": [{"a": 2}, {"a": 1.0}]}, {"t": [{"a": 1}, {"a": 2}], "u": [{"b": 1}]}) == ""
    assert state_difference(start, {}, {"t": [{"a": 1}], "u": [{"b": 1}]}) == 'table t: missing {"a": 2}'
    assert state_difference(start, {"t": start["t"]}, {**start, "v": [{"c": 1}]}) == 'table v: unexpected {"c": 1}'


def test_declared_failures_and_fresh_ids_come_from_the_data():
    tools, tasks = check_suite(SUITE)
    env = Environment(tools, next(t for t in tasks if t.id == "desk-05-book").database)
    book = {"resident_id": "R005", "service": "여권 신청", "date": "2025-03-14", "time": "11:00"}
    assert env.call("book_appointment", book).result["row"]["appointment_id"] == "A004"
    assert env.call("book_appointment", book).error == "그 시간에는 이미 다른 예약이 있습니다."
    assert env.call("book_appointment", {**book, "date": "2025-03-16"}).error == "그날은 주민센터가 운영하지 않습니다."
    assert env.call("book_appointment", {**book, "time": "11:30"}).error.startswith("book_appointment: bad arguments")
    assert env.call("cancel_appointment", {"resident_id": "R005", "appointment_id": "A004"}).result["ok"]
    assert env.call("book_appointment", book).result["row"]["appointment_id"] == "A005"  # the slot is free again
    assert env.call("find_resident", {"name": "이도현", "birth": "1992-01-25", "x": 1}).error.startswith(
        "find_resident: bad arguments: Additional properties are not allowed")


class Fumbler(DeskClerk):
    """Calls a tool that does not exist, then with arguments its schema refuses, then writes a call that is not
    JSON; last, it gives up."""

    REPLIES = ['<tool_call>{"name": "print_certificate", "arguments": {}}</tool_call>',
               '<tool_call>{"name": "issue_certificate", "arguments": {"resident_id": "R003", "requested_by": '
               '"R003", "kind": "주민등록등본", "copies": "두 통"}}</tool_call>',
               "<tool_call>issue_certificate please</tool_call>", "죄송합니다, 발급하지 못했습니다."]

    def reply(self, messages):
        return self.REPLIES[sum(m["role"] == "assistant" for m in messages)]


def test_tool_errors_go_back_to_the_model_and_the_item_is_still_scored():
    ((metrics, detail),) = agent_chunk(SUITE, [ITEMS["desk-02-certificate"]], Fumbler())
    assert metrics == {"success": 0.0, "turns": 4.0} and detail["ended"] == "done"
    errors = [c["error"] for c in detail["calls"]]
    assert errors[0].startswith("unknown tool 'print_certificate' (tools: find_resident,")
    assert errors[1].startswith("issue_certificate: bad arguments: '두 통' is not of type 'integer' (at copies)")
    assert errors[2].startswith("malformed tool call")
    responses = [m["content"] for m in detail["transcript"][1:]
                 if m["role"] == "user" and "<tool_response>" in m["content"]]
    assert len(responses) == 3 and all('"error"' in r for r in responses)
    assert "'두 통' is not of type 'integer'" in responses[1]


def test_the_turn_limit_ends_a_loop():
    class Looper(DeskClerk):
        def reply(self, messages):
            call = {"name": "find_resident", "arguments": {"name": "이도현", "birth": "1992-01-25"}}
            return f"<tool_call>{json.dumps(call, ensure_ascii=False)}</tool_call>"

    looper = Looper()
    ((metrics, detail),) = agent_chunk(SUITE, [ITEMS["desk-12-lookup"]], looper)
    assert detail["ended"] == "turn limit" and metrics["turns"] == 5.0 == ITEMS["desk-12-lookup"]["max_turns"]
    assert len(looper.sent) == 5 and metrics["success"] == 0.0


def test_a_failed_reply_fails_the_item_and_a_resume_plays_it_again(sqlite_url):
    class Flaky(DeskClerk):
        def generate(self, prompts, **options):
            return [Failed("endpoint answered 503 (5 attempts)") if len(p) > 3 else self.reply(p) for p in prompts]

    suite = dataclasses.replace(SUITE, items=SUITE.items[:2])
    out, results = run(sqlite_url, suite, Flaky())
    assert out.summary["failed"] == 2 and out.summary["n"] == 0
    metrics, detail = results["desk-01-address"]
    assert metrics == {} and detail["failed"] == "endpoint answered 503 (5 attempts)"
    assert len(detail["transcript"]) == 4 and detail["calls"][0]["name"] == "find_resident"  # kept so far
    again, results = run(sqlite_url, suite, DeskClerk())
    assert again.computed == 2 and again.summary["success"]["mean"] == 1.0


# ---------------------------------------------------------------- function calling through an endpoint

class StandInFunctionCallingEndpoint(BaseHTTPRequestHandler):
    """Stands in for an OpenAI-compatible server with function calling, playing the desk for task desk-02: a
    call whose arguments are not JSON, the two right calls (arguments as text, then as an object, as servers
    differ), then the answer."""

    bodies: list = []
    REPLIES = [
        {"tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "find_resident", "arguments": '{"name": "이도현"'}}]},
        {"tool_calls": [{"id": "c2", "type": "function", "function": {
            "name": "find_resident", "arguments": '{"name": "이도현", "birth": "1992-01-25"}'}}]},
        {"content": None, "tool_calls": [{"id": "c3", "type": "function", "function": {
            "name": "issue_certificate",
            "arguments": {"resident_id": "R003", "requested_by": "R003", "kind": "주민등록등본", "copies": 2}}}]},
        {"content": "주민등록등본 2통을 발급했습니다. 증명서 번호는 C002입니다."},
    ]

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        message = self.REPLIES[sum(m["role"] == "tool" for m in body["messages"])]
        answer = {"choices": [{"message": {"role": "assistant", **message}}],
                  "usage": {"prompt_tokens": 100, "completion_tokens": 10}}
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def function_calling_api():
    StandInFunctionCallingEndpoint.bodies = []
    server = HTTPServer(("127.0.0.1", 0), StandInFunctionCallingEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_a_function_calling_endpoint_gets_the_tools_and_answers_with_tool_calls(function_calling_api, tmp_path):
    model = EndpointModel(function_calling_api + "#desk-model", chat=True, retries=0, cache_dir=tmp_path / "cache")
    assert protocol_of(model) == TOOLS and protocol_of(EndpointModel(function_calling_api)) == TEXT
    ((metrics, detail),) = agent_chunk(SUITE, [ITEMS["desk-02-certificate"]], model)
    assert metrics == {"success": 1.0, "turns": 4.0} and detail["protocol"] == TOOLS
    assert detail["calls"][0]["error"] == "malformed tool call: arguments are not a JSON object"
    assert detail["prompt_tokens"] == 400 and model.usage.requests == 4
    bodies = StandInFunctionCallingEndpoint.bodies
    sent = bodies[0]["tools"]
    assert [t["function"]["name"] for t in sent][:2] == ["find_resident", "change_address"]
    assert all(set(t) == {"type", "function"} for t in sent)  # the effects stay with Dokja
    assert bodies[0]["messages"][0] == {"role": "system", "content": SUITE.meta["description"].strip()}
    last = bodies[-1]["messages"]
    assert last[-2]["tool_calls"][0]["function"]["name"] == "issue_certificate"
    assert last[-1]["role"] == "tool" and last[-1]["tool_call_id"] == "c3" and '"C002"' in last[-1]["content"]
    again = EndpointModel(function_calling_api + "#desk-model", chat=True, retries=0, cache_dir=tmp_path / "cache")
    assert agent_chunk(SUITE, [ITEMS["desk-02-certificate"]], again)[0][0] == metrics
    assert again.usage.cached == 4 and len(bodies) == 4  # the second run sent nothing


# ---------------------------------------------------------------- suites that cannot be read

@pytest.mark.parametrize("file, old, new, message", [
    ("suite.toml", 'action = "find"', 'action = "search"',
     r"suite\.toml: agent\.tools\[0\]\.effect\.action: expected one of find, update, insert, delete"),
    ("suite.toml", 'type = "string"\ndescription = "주민의 이름', 'type = "text"\ndescription = "주민의 이름',
     r"suite\.toml: agent\.tools\[0\]\.function\.parameters: not a valid JSON Schema"),
    ("suite.toml", 'set = { address = "new_address" }', 'set = { address = "address" }',
     r"suite\.toml: agent\.tools\[1\]\.effect\.set: names 'address', which is not one of the tool's parameters"),
    ("suite.toml", 'metric = "success"', 'metric = "accuracy"', r"suite\.toml: metric: an agent suite gives"),
    ("items.jsonl", '"max_turns": 6, ', "", r"items\.jsonl: item desk-01-address: max_turns: expected"),
    ("items.jsonl", '"database": {"residents": [', '"database": {"residents": "none", "x": [',
     r"items\.jsonl: item desk-01-address: database: expected tables of rows"),
])
def test_bad_suite_files_are_one_line_naming_file_and_field(tmp_path, file, old, new, message):
    folder = tmp_path / "ko_desk_agent"
    shutil.copytree(BUNDLED / "ko_desk_agent", folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SuiteError, match=message) as info:
        agent_chunk(load_suite(folder), [], DeskClerk())
    assert "\n" not in str(info.value) and str(folder / file) in str(info.value)


def test_suite_show_prints_the_script_tools_and_reference():
    from typer.testing import CliRunner

    from dokja.cli import app

    result = CliRunner().invoke(app, ["suite", "show", "ko_desk_agent", "--items", "1"])
    assert result.exit_code == 0, result.output
    assert "ko_desk_agent" in result.output and ITEMS["desk-01-address"]["prompt"][:20] in result.output


# ---------------------------------------------------------------- a real small model

def test_smollm2_plays_a_task_to_the_end_and_it_is_scored(sqlite_url, smollm2_dir):
    """SmolLM2 at the desk, in the text protocol: it will likely fail; the transcript is kept and scored."""
    from dokja.models.local import TransformersModel

    item = {**ITEMS["desk-10-wrong-birth"], "max_turns": 2}  # two replies at most keep it to seconds
    suite = dataclasses.replace(SUITE, items=[item], meta=budgeted(SUITE.meta, 32))
    model = TransformersModel(smollm2_dir, name="smollm2-135m", chat=True)
    out, results = run(sqlite_url, suite, model)
    metrics, detail = results["desk-10-wrong-birth"]
    assert out.computed == 1 and set(metrics) == {"success", "turns"} and 1 <= metrics["turns"] <= 2
    assert detail["protocol"] == TEXT and detail["ended"] in ("done", "turn limit")
    roles = [m["role"] for m in detail["transcript"]]
    assert roles[:3] == ["system", "user", "assistant"] and detail["transcript"][1]["content"] == item["prompt"]
    assert metrics["success"] == (1.0 if detail["database"] == item["database"] else 0.0)  # no change expected
    assert detail["prompt_tokens"] > 1000  # the tools were in the prompt
