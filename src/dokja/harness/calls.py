"""Single-turn function calling, scored as the Berkeley Function Calling Leaderboard's AST checker does.

An item is `{"id", "prompt", "answer", "category", "tools", "ground_truth"}`: `tools` in the OpenAI `tools`
shape (`{"type": "function", "function": {"name", "description", "parameters": <JSON Schema>}}`), and
`ground_truth` BFCL's accepted calls, `[{function_name: {parameter: [accepted values...]}}]`, where `""` among
a parameter's values means it may be left out. An empty `ground_truth` asks for no call at all (BFCL's
irrelevance): the item passes only when the answer holds no call.

The answer is read as a Python list of calls, `[f(a=1, b="x")]` (how BFCL's prompted models answer), or as
JSON, `[{"name": "f", "arguments": {"a": 1}}]`, bare or in a code fence. The calls must match the ground truth
one for one, in any order: the same function, every required parameter, no unknown one, and each value among
the accepted ones (strings after BFCL's normalisation, an integer where a number is asked, lists and
dictionaries element by element). Per item: `accuracy` and `accuracy_<category>`, and in the detail the calls
read and, on a failure, the reason.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from .suite import SuiteError

INSTRUCTION = (
    "You can call the functions below, each described in JSON Schema. Answer with the calls that fulfil the "
    "request and nothing else, as a Python list: [func_name(param=value, other=value), other_func(param=value)]. "
    "If none of the functions fits, or the request lacks a value a function needs, say so in words and make "
    "no call.")

# JSON Schema's types and BFCL's own names for them, as Python types.
TYPES = {"string": str, "integer": int, "number": float, "float": float, "boolean": bool,
         "array": list, "tuple": list, "object": dict, "dict": dict}
# What BFCL's function documents call a JSON Schema type; "any" becomes no type at all.
SCHEMA_TYPES = {"dict": "object", "float": "number", "tuple": "array"}
_NORMALISED = re.compile(r"[ ,./\-_*^]")
_FENCE = re.compile(r"```[A-Za-z]*\s*\n?(.*?)```", re.DOTALL)
_CALL_START = re.compile(r"[A-Za-z_][\w.]*\(")


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any]


# ---------------------------------------------------------------- the prompt

def functions_of(tools: list[dict]) -> list[dict]:
    """The function documents of OpenAI-shape tools (bare function documents pass through)."""
    return [tool.get("function", tool) for tool in tools]


def tool_prompt(tools: list[dict], request: str) -> str:
    """The request with the tools written into it, for a model that answers in plain text."""
    listed = "\n".join(json.dumps(fn, ensure_ascii=False) for fn in functions_of(tools))
    return f"{INSTRUCTION}\n\nFunctions:\n{listed}\n\nRequest: {request.strip()}"


# ---------------------------------------------------------------- reading the answer

def parse_calls(text: str) -> list[Call] | None:
    """The calls an answer makes: None when it holds none in either form; `[]` is an explicit empty list."""
    text = text.strip()
    candidates = [text, *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for opening, closing in ("[]", "{}"):
        start, end = text.find(opening), text.rfind(closing)
        if 0 <= start < end:
            candidates.append(text[start:end + 1])
    if (first := _CALL_START.search(text)) and (end := text.rfind(")")) > first.start():
        candidates.append(text[first.start():end + 1])
    for candidate in candidates:
        calls = _json_calls(candidate)
        if calls is None:
            calls = _python_calls(candidate)
        if calls is not None:
            return calls
    return None


def _json_calls(text: str) -> list[Call] | None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(data, dict):
        data = data.get("tool_calls", [data])
    if not isinstance(data, list):
        return None
    calls = []
    for entry in data:
        if not isinstance(entry, dict):
            return None
        entry = entry.get("function", entry) if isinstance(entry.get("function"), dict) else entry
        arguments = entry.get("arguments", entry.get("parameters", {}))
        if isinstance(arguments, str):  # the OpenAI wire form: arguments as a JSON string
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                return None
        if not isinstance(entry.get("name"), str) or not isinstance(arguments, dict):
            return None
        calls.append(Call(entry["name"], arguments))
    return calls


def _python_calls(text: str) -> list[Call] | None:
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
    calls = []
    for node in nodes:
        name = _dotted(node.func) if isinstance(node, ast.Call) else None
        if name is None or node.args or any(k.arg is None for k in node.keywords):
            return None  # not a call, or positional / ** arguments, which name no parameter
        try:
            calls.append(Call(name, {k.arg: _value(k.value) for k in node.keywords}))
        except ValueError:
            return None
    return calls


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def _value(node: ast.expr) -> Any:
    """A literal; a bare name stands for itself as a string (BFCL reads variables so)."""
    if isinstance(node, ast.Name) and node.id not in ("True", "False", "None"):
        return node.id
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    value = ast.literal_eval(node)  # raises ValueError on anything that is not a literal
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------- checking the calls

def normalise(text: str) -> str:
    """BFCL's string normalisation: no spaces nor ,./-_*^, lower case, single quotes as double."""
    return _NORMALISED.sub("", text).lower().replace("'", '"')


def _norm(value: Any) -> Any:
    return normalise(value) if isinstance(value, str) else value


def _type_of(schema: dict) -> type | None:
    return TYPES.get(schema.get("type")) if isinstance(schema.get("type"), str) else None


def check_value(param: str, value: Any, schema: dict, accepted: list) -> str | None:
    """Why `value` is not accepted for `param`, or None when it is (BFCL's type and value rules)."""
    expected = _type_of(schema)
    if expected is float and type(value) is int:  # an integer where a number is asked
        value = float(value)
    if expected is None:  # "any": compared as what it is
        expected = type(value) if type(value) in (str, list, dict) else None
    elif type(value) is not expected:
        answer_type = next((type(a) for a in accepted if a != ""), None)
        if type(value) is not answer_type:  # BFCL lets a value of the answers' own type stand (a variable)
            return f"parameter {param!r}: expected {schema.get('type')}, got {type(value).__name__} {value!r}"
        expected = answer_type
    inner = _type_of(schema.get("items") or {}) if expected is list else None
    if inner is not None and inner is not dict:  # one level of item types, as BFCL checks
        allowed = {inner, *(type(x) for a in accepted if isinstance(a, list) for x in a)}
        if (wrong := next((v for v in value if type(v) not in allowed), None)) is not None:
            return f"parameter {param!r}: item {wrong!r} is not {schema['items'].get('type')}"
    if expected is dict:
        ok = any(_dict_fits(value, a) for a in accepted if isinstance(a, dict))
    elif expected is list and inner is dict:
        ok = any(isinstance(a, list) and len(a) == len(value) and all(map(_dict_fits, value, a))
                 for a in accepted)
    elif expected is str:
        ok = normalise(value) in {normalise(a) for a in accepted if isinstance(a, str)}
    elif expected is list:
        ok = [_norm(v) for v in value] in [[_norm(x) for x in a] for a in accepted if isinstance(a, list)]
    else:
        ok = value in [a for a in accepted if a != ""]
    return None if ok else f"parameter {param!r}: {value!r} is not among the accepted {accepted!r}"


def _dict_fits(value: Any, accepted: Any) -> bool:
    """A dictionary value against one accepted dictionary of accepted-value lists (one level, as BFCL)."""
    if not isinstance(value, dict) or not isinstance(accepted, dict):
        return False
    if any(key not in accepted or _norm(v) not in [_norm(a) for a in accepted[key]] for key, v in value.items()):
        return False
    return all(key in value or "" in values for key, values in accepted.items())


def check_call(call: Call, function: dict | None, expected_name: str, accepted: dict[str, list]) -> str | None:
    """Why `call` is not the expected call, or None when it is."""
    if call.name not in (expected_name, expected_name.replace(".", "_")):  # dots are not allowed in some APIs
        return f"called {call.name!r}, expected {expected_name!r}"
    if function is None:
        return f"the tools do not describe {expected_name!r}"
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {}
    for param in parameters.get("required") or []:
        if param not in call.arguments:
            return f"{call.name}: required parameter {param!r} is missing"
    for param, value in call.arguments.items():
        if param not in properties or param not in accepted:
            return f"{call.name}: unexpected parameter {param!r}"
        if (reason := check_value(param, value, properties[param], accepted[param])) is not None:
            return f"{call.name}: {reason}"
    for param, values in accepted.items():
        if param not in call.arguments and "" not in values:
            return f"{call.name}: parameter {param!r} is missing"
    return None


def check_calls(calls: list[Call] | None, tools: list[dict], ground_truth: list[dict]) -> str | None:
    """Why the calls do not answer the item, or None when they do. Each expected call takes the first
    unmatched call that fits it, as BFCL's checker does for parallel calls; the order of calls is free."""
    if not ground_truth:
        return None if not calls else f"made {len(calls)} call(s) where no function fits"
    if calls is None:
        return "no function call in the answer"
    if len(calls) != len(ground_truth):
        return f"expected {len(ground_truth)} call(s), got {len(calls)}"
    by_name = {fn.get("name"): fn for fn in functions_of(tools)}
    free = list(range(len(calls)))
    for expected in ground_truth:
        (name, accepted), = expected.items()
        reasons = [(i, check_call(calls[i], by_name.get(name), name, accepted)) for i in free]
        match = next((i for i, reason in reasons if reason is None), None)
        if match is None:
            same = [r for i, r in reasons if calls[i].name in (name, name.replace(".", "_"))]
            return (same or [r for _, r in reasons])[0]
        free.remove(match)
    return None


def score(item: dict, text: str) -> tuple[dict, dict]:
    """One answer scored: `accuracy` (and per category), with the calls read and why it failed."""
    if not isinstance(item.get("tools"), list) or not isinstance(item.get("ground_truth"), list):
        raise SuiteError(f"item {item.get('id')}: a calls item needs a 'tools' list and a 'ground_truth' list")
    calls = parse_calls(text)
    reason = check_calls(calls, item["tools"], item["ground_truth"])
    value = 0.0 if reason else 1.0
    metrics = {"accuracy": value}
    if item.get("category"):
        metrics[f"accuracy_{item['category']}"] = value
    detail: dict[str, Any] = {"calls": None if calls is None else [asdict(c) for c in calls]}
    if reason:
        detail["reason"] = reason
    return metrics, detail


# ---------------------------------------------------------------- items from BFCL's files

def json_schema(doc: Any) -> Any:
    """A BFCL parameter document in JSON Schema's words (dict → object, float → number, tuple → array,
    any → no type); everything else is kept."""
    if not isinstance(doc, dict):
        return doc
    out = {}
    for key, value in doc.items():
        if key == "type" and isinstance(value, str):
            if value != "any":
                out[key] = SCHEMA_TYPES.get(value, value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: json_schema(p) for name, p in value.items()}
        else:
            out[key] = json_schema(value) if key == "items" else value
    return out


def from_bfcl(entry: dict, ground_truth: list[dict], category: str) -> dict:
    """A suite item from a BFCL question (one user turn) and its possible answer ([] for irrelevance)."""
    turns = entry["question"]
    if len(turns) != 1 or any(m.get("role") != "user" for m in turns[0]):
        raise ValueError(f"{entry.get('id')}: only single-turn questions from the user are taken")
    tools = [{"type": "function", "function": {**fn, "parameters": json_schema(fn["parameters"])}}
             for fn in entry["function"]]
    request = "\n".join(m["content"] for m in turns[0])
    return {"id": entry["id"], "prompt": tool_prompt(tools, request), "answer": example_answer(ground_truth),
            "category": category, "tools": tools, "ground_truth": ground_truth}


def example_answer(ground_truth: list[dict]) -> str:
    """One accepted answer, written as the prompt asks (the first accepted value of each parameter given)."""
    calls = []
    for expected in ground_truth:
        (name, accepted), = expected.items()
        args = ", ".join(f"{param}={_example(values[0])!r}" for param, values in accepted.items()
                         if values and values[0] != "")
        calls.append(f"{name}({args})")
    return f"[{', '.join(calls)}]"


def _example(value: Any) -> Any:
    """An accepted dictionary holds accepted values per key: its first, with the keys that may be left out
    left out."""
    if isinstance(value, dict) and all(isinstance(values, list) for values in value.values()):
        return {key: _example(values[0]) for key, values in value.items() if values and values[0] != ""}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_example(v) for v in value]
    return value
