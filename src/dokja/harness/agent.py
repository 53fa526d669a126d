"""Agent suites: the model serves a scripted user with tools, and succeeds when the world ends as it should.

As in τ-bench, a suite (`scorer = "agent"`, `metric = "success"`) declares its tools in `suite.toml` under
`[agent]` (OpenAI-shape tools, each with its effect on the database: `agent_env`), and `description` is the
policy the model works under. Each item gives the initial `database`, the user's first message (`prompt`) and
later ones (`user_turns`), the turn limit (`max_turns`, the model's replies), the `expected` tables at the end
(tables it does not name must be as they began) and, optionally, `answer_contains`: what the replies to the
user must say (each entry a text, or a list of texts of which one will do). `answer` says in words what should
happen, and `actions` (optional) lists reference calls for each user message, as τ-bench's tasks do: both are
for people and tests, never shown to the model.

The loop: the model answers; its tool calls are run and their results given back; an answer without a call
gets the user's next message, and when the script is done the episode ends (or at the turn limit). Models
reached through a chat endpoint that offers function calling are sent the `tools` and answer with
`tool_calls`; every other model is shown the tools in the system message and calls them in text,
`<tool_call>{"name": ..., "arguments": {...}}</tool_call>` (Hermes and Qwen style), its results coming back in
a user message as `<tool_response>` blocks. Which protocol was used is kept in the item's detail, with the
whole transcript, every call and its result, and the final database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..models.base import Backend, Failed
from .agent_env import Database, Environment, Outcome, Tool, read_database, read_tools, state_difference
from .calls import parse_calls
from .judge import suite_file
from .reasoning import item_measures, split_thinking
from .suite import Suite, SuiteError

METHOD = "agent"
TEXT, TOOLS = "text", "tools"
WIRE = ("role", "content", "tool_calls", "tool_call_id")  # what a message sends; the rest is the record's
MEASURES = ("prompt_tokens", "reasoning_tokens", "answer_tokens", "seconds")
MALFORMED = 'malformed tool call: expected <tool_call>{"name": ..., "arguments": {...}}</tool_call>'
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
INSTRUCTION = {
    "ko": ("다음 도구를 쓸 수 있습니다 (JSON Schema로 기술).\n<tools>\n{tools}\n</tools>\n\n"
           "도구를 부르려면 답에 다음 형식을 그대로 쓰세요 (여러 번 불러도 됩니다):\n"
           '<tool_call>{{"name": "도구 이름", "arguments": {{"인자": "값"}}}}</tool_call>\n'
           "도구의 결과는 <tool_response> 안에 돌아옵니다. 도구를 부르지 않은 답은 사용자에게 전해집니다."),
    "en": ("You can use the tools below (described in JSON Schema).\n<tools>\n{tools}\n</tools>\n\n"
           "To call a tool, write exactly this in your answer (you may call several):\n"
           '<tool_call>{{"name": "tool name", "arguments": {{"argument": "value"}}}}</tool_call>\n'
           "Results come back inside <tool_response>. An answer without a tool call goes to the user."),
}


@dataclass(frozen=True)
class Task:
    id: str
    turns: tuple[str, ...]
    database: Database
    expected: Database
    contains: tuple[tuple[str, ...], ...]
    max_turns: int


@dataclass(frozen=True)
class Request:
    """A call read from the model's reply; `problem` says why it cannot be run (a malformed call)."""

    id: str
    name: str
    arguments: Any
    problem: str = ""


@dataclass(frozen=True)
class Reply:
    """One answer of the model, whichever protocol brought it."""

    message: dict  # as the model is shown it again
    text: str  # its words to the user
    requests: tuple[Request, ...]
    measures: dict  # thinking, tokens and seconds, where known


@dataclass
class Episode:
    task: Task
    env: Environment
    transcript: list[dict]
    calls: list[dict] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    next_turn: int = 1
    turns: int = 0
    ended: str = ""
    failed: str = ""


# ---------------------------------------------------------------- the suite

def check_suite(suite: Suite) -> tuple[dict[str, Tool], list[Task]]:
    """The suite's tools and tasks; a fault is one line naming the file and the field."""
    meta_file, items_file = suite_file(suite, "suite.toml"), suite_file(suite, "items.jsonl")
    if suite.meta.get("metric") not in ("success", "turns"):
        raise SuiteError(f"{meta_file}: metric: an agent suite gives success and turns, "
                         f"not {suite.meta.get('metric')!r}")
    agent = suite.meta.get("agent")
    if not isinstance(agent, dict):
        raise SuiteError(f"{meta_file}: agent: expected an [agent] table with the suite's tools")
    tools = read_tools(agent.get("tools"), meta_file)
    return tools, [task_of(item, f"{items_file}: item {item.get('id')}") for item in suite.items]


def task_of(item: dict, at: str) -> Task:
    turns = [item.get("prompt"), *_listed(item, "user_turns", at)]
    if not all(isinstance(t, str) and t.strip() for t in turns):
        raise SuiteError(f"{at}: user_turns: expected non-empty texts")
    limit = item.get("max_turns")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise SuiteError(f"{at}: max_turns: expected a whole number of replies, 1 or more, not {limit!r}")
    contains = []
    for entry in _listed(item, "answer_contains", at):
        options = (entry,) if isinstance(entry, str) else tuple(entry) if isinstance(entry, list) else ()
        if not options or not all(isinstance(o, str) and o.strip() for o in options):
            raise SuiteError(f"{at}: answer_contains: expected texts, or lists of texts of which one will do")
        contains.append(options)
    return Task(str(item["id"]), tuple(turns), read_database(item.get("database"), f"{at}: database"),
                read_database(item.get("expected"), f"{at}: expected"), tuple(contains), limit)


def _listed(item: dict, name: str, at: str) -> list:
    value = item.get(name, [])
    if not isinstance(value, list):
        raise SuiteError(f"{at}: {name}: expected a list")
    return value


def protocol_of(backend: Backend) -> str:
    """Function calling where the backend is a chat endpoint that offers it; tool calls in text otherwise."""
    offers = callable(getattr(backend, "chat_tools", None)) and getattr(backend, "function_calling", False)
    return TOOLS if offers and getattr(backend, "chat", False) else TEXT


def system_message(suite: Suite, tools: dict[str, Tool], protocol: str) -> str:
    """The suite's policy, and for tool calls in text the tools and how to call them."""
    policy = suite.meta.get("description", "").strip()
    if protocol == TOOLS:
        return policy
    listed = "\n".join(json.dumps(t.document, ensure_ascii=False) for t in tools.values())
    how = INSTRUCTION["ko" if suite.meta.get("language") == "ko" else "en"].format(tools=listed)
    return f"{policy}\n\n{how}" if policy else how


# ---------------------------------------------------------------- the loop

def agent_chunk(suite: Suite, items: list[dict], backend: Backend) -> list[tuple[dict, dict]]:
    """Every item played to its end, all of them a turn at a time (one batch of requests per turn); a `Failed`
    reply fails its item, kept with its reason and transcript so far, and retried on resume."""
    tools, tasks = check_suite(suite)
    by_id = {task.id: task for task in tasks}
    protocol = protocol_of(backend)
    opening = [{"role": "system", "content": system}] if (system := system_message(suite, tools, protocol)) else []
    episodes = [Episode(task, Environment(tools, task.database), [*opening, {"role": "user", "content": task.turns[0]}])
                for task in (by_id[str(item["id"])] for item in items)]
    while active := [e for e in episodes if not e.ended]:
        for episode, reply in zip(active, ask(backend, suite, tools, protocol, active), strict=True):
            advance(episode, reply, protocol)
    return [scored(e, protocol) for e in episodes]


def ask(backend: Backend, suite: Suite, tools: dict[str, Tool], protocol: str,
        episodes: list[Episode]) -> list[Reply | Failed]:
    gen = suite.meta.get("generate", {})
    budget = gen.get("max_new_tokens", 256)
    conversations = [[{k: m[k] for k in WIRE if k in m} for m in e.transcript] for e in episodes]
    if protocol == TOOLS:
        answers = backend.chat_tools(conversations, tools=[t.document for t in tools.values()], max_new_tokens=budget)
        return [a if isinstance(a, Failed) else function_reply(a) for a in answers]
    answers = backend.generate(conversations, max_new_tokens=budget, stop=gen.get("stop", []))
    return [a if isinstance(a, Failed) else text_reply(a, f"call_{e.turns + 1}") for a, e in zip(answers, episodes)]


def text_reply(generated: str, prefix: str) -> Reply:
    """A reply in text: each `<tool_call>` block is a call (a block that holds none is a malformed call)."""
    thinking, answer = split_thinking(generated)
    answer = str(answer)
    read: list[tuple[str, Any, str]] = []
    for block in _TOOL_CALL.findall(answer) if "<tool_call>" in answer else []:
        calls = parse_calls(block.strip())
        read += [(c.name, c.arguments, "") for c in calls] if calls else [("", None, MALFORMED)]
    requests = [Request(f"{prefix}_{n}", *call) for n, call in enumerate(read)]
    return Reply({"role": "assistant", "content": answer}, _TOOL_CALL.sub("", answer).strip(), tuple(requests),
                 item_measures(generated, thinking))


def function_reply(message) -> Reply:
    """A reply with `tool_calls` (`models.endpoint.AssistantMessage`): arguments that are not a JSON object, or
    a call without a name, are malformed calls."""
    thinking, answer = split_thinking(message.content)
    requests = []
    for call in message.tool_calls:
        try:
            arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        except json.JSONDecodeError:
            arguments = None
        problem = ("malformed tool call: no tool name" if not call.name else
                   "malformed tool call: arguments are not a JSON object" if not isinstance(arguments, dict) else "")
        requests.append(Request(call.id, call.name, arguments, problem))
    wire: dict = {"role": "assistant", "content": str(answer) or (None if message.tool_calls else "")}
    if message.tool_calls:
        wire["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                              for c in message.tool_calls]
    return Reply(wire, str(answer), tuple(requests), item_measures(message, thinking))


def advance(episode: Episode, reply: Reply | Failed, protocol: str) -> None:
    """One reply taken in: its calls run and answered, else the user's next message, else the end."""
    if isinstance(reply, Failed):
        episode.failed, episode.ended = reply.reason, "failed"
        return
    episode.turns += 1
    episode.transcript.append({**reply.message, **reply.measures})
    if reply.text:
        episode.said.append(reply.text)
    if reply.requests:
        outcomes = [Outcome(error=r.problem) if r.problem else episode.env.call(r.name, r.arguments)
                    for r in reply.requests]
        episode.calls += [{"turn": episode.turns, "name": r.name, "arguments": r.arguments,
                           **({"error": o.error} if o.error else {"result": o.result})}
                          for r, o in zip(reply.requests, outcomes)]
        episode.transcript += results_messages(reply.requests, outcomes, protocol)
    elif episode.next_turn < len(episode.task.turns):
        episode.transcript.append({"role": "user", "content": episode.task.turns[episode.next_turn]})
        episode.next_turn += 1
    else:
        episode.ended = "done"
        return
    if episode.turns >= episode.task.max_turns:
        episode.ended = "turn limit"


def results_messages(requests: tuple[Request, ...], outcomes: list[Outcome], protocol: str) -> list[dict]:
    """Tool messages for function calling; one user message of `<tool_response>` blocks for calls in text."""
    if protocol == TOOLS:
        return [{"role": "tool", "tool_call_id": r.id, "content": o.content()} for r, o in zip(requests, outcomes)]
    blocks = [json.dumps({"name": r.name, "content": json.loads(o.content())}, ensure_ascii=False)
              for r, o in zip(requests, outcomes)]
    return [{"role": "user", "content": "\n".join(f"<tool_response>\n{b}\n</tool_response>" for b in blocks)}]


# ---------------------------------------------------------------- the score

def unsaid(contains: tuple[tuple[str, ...], ...], said: list[str]) -> str | None:
    """The first required text no reply to the user says (spacing ignored), or None."""
    spoken = re.sub(r"\s+", "", " ".join(said))
    for options in contains:
        if not any(re.sub(r"\s+", "", o) in spoken for o in options):
            return " | ".join(options)
    return None


def scored(episode: Episode, protocol: str) -> tuple[dict, dict]:
    """`success` (the final database as expected, and the replies say what they must) and `turns`."""
    final = episode.env.state()
    reason = state_difference(episode.task.database, episode.task.expected, final)
    if not reason and (missing := unsaid(episode.task.contains, episode.said)) is not None:
        reason = f"no reply to the user says {missing!r}"
    detail = {"method": METHOD, "protocol": protocol, "ended": episode.ended, "transcript": episode.transcript,
              "calls": episode.calls, "database": final, **_summed(episode.transcript)}
    if episode.failed:
        return {}, {**detail, "failed": episode.failed}
    if reason:
        detail["reason"] = reason
    return {"success": 0.0 if reason else 1.0, "turns": float(episode.turns)}, detail


def _summed(transcript: list[dict]) -> dict:
    """The replies' tokens and seconds added up, where the item's cost is read."""
    out = {}
    for measure in MEASURES:
        values = [m[measure] for m in transcript if measure in m]
        if values:
            out[measure] = round(sum(values), 4) if measure == "seconds" else sum(values)
    return out


def show(suite: Suite, item: dict) -> str:
    """What an item asks, for `dokja suite show`: the user's script, the turn limit, the tools, the tables and
    which of them must change, and the reference calls where the item gives them (`actions`)."""
    tools, _ = check_suite(suite)
    task = task_of(item, f"{suite_file(suite, 'items.jsonl')}: item {item.get('id')}")
    lines = [f"user {n}: {turn}" for n, turn in enumerate(task.turns, 1)]
    lines.append(f"max_turns {task.max_turns}; tools: {', '.join(tools)}")
    lines += [f"table {name}: {len(rows)} rows" for name, rows in task.database.items()]
    lines.append(f"changes: {', '.join(task.expected) or 'none'}")
    for n, calls in enumerate(item.get("actions") or [], 1):
        lines.append(f"reference, turn {n}: " + "; ".join(
            f"{c.get('name')}({json.dumps(c.get('arguments'), ensure_ascii=False)})" for c in calls))
    return "\n".join(lines)
