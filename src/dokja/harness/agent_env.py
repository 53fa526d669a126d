"""The agent suite's environment: tools whose effects are declared as data over a small database.

A database is tables of rows (`{table: [{column: value}]}`), kept in plain Python, so every run of a task is
the same. Each tool is an OpenAI-shape tool document (`{"type": "function", "function": {"name",
"description", "parameters": <JSON Schema>}}`) with an `effect` beside it, one of:

- `find`: the rows of `table` that match; an empty answer is the declared `not_found` error when there is one;
- `update`: the one matching row gets `set` (columns from arguments) and `values` (fixed columns);
- `insert`: a new row of `set` and `values`, its `key` column a fresh id (`prefix` and the next number);
- `delete`: the one matching row is removed.

A row matches when each `match` column equals the argument it names (an optional argument left out does not
filter) and each `where` column equals its fixed value. `require` and `forbid` list rows that must, or must
not, exist for the call to go ahead, each with the error the model is told otherwise (a slot already taken,
a resident unknown). Arguments are checked against the tool's JSON Schema first. Nothing raises at the model:
an unknown tool, bad arguments and every declared failure come back as the call's `error`.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .suite import SuiteError

ACTIONS = ("find", "update", "insert", "delete")
Database = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Check:
    """A row that must (`require`) or must not (`forbid`) exist, and what the model is told when it does not hold."""

    table: str
    match: dict[str, str]
    where: dict[str, Any]
    error: str


@dataclass(frozen=True)
class Effect:
    action: str
    table: str
    match: dict[str, str] = field(default_factory=dict)
    where: dict[str, Any] = field(default_factory=dict)
    set: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    prefix: str = ""
    fields: tuple[str, ...] = ()
    not_found: str = ""
    require: tuple[Check, ...] = ()
    forbid: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Tool:
    name: str
    document: dict  # the OpenAI-shape tool, as a model is shown it
    effect: Effect

    @property
    def parameters(self) -> dict:
        return self.document["function"].get("parameters") or {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Outcome:
    """What a call gives back to the model: a result, or an error (never both)."""

    result: Any = None
    error: str = ""

    def content(self) -> str:
        """The tool message's text: JSON, so every model reads results and errors the same way."""
        body = {"error": self.error} if self.error else self.result
        return json.dumps(body, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- reading the declarations

def read_tools(declared: Any, where: str) -> dict[str, Tool]:
    """The suite's tools by name; a fault is one `SuiteError` naming `where` (the file) and the field."""
    if not isinstance(declared, list) or not declared:
        raise SuiteError(f"{where}: agent.tools: expected a non-empty list of tools")
    tools: dict[str, Tool] = {}
    for n, entry in enumerate(declared):
        at = f"{where}: agent.tools[{n}]"
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict) or entry.get("type") != "function":
            raise SuiteError(f'{at}: expected type = "function" and a function table')
        name = function.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w.-]{0,63}", name) or name in tools:
            raise SuiteError(f"{at}.function.name: missing, not a tool name, or repeated ({name!r})")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        _check_schema(parameters, f"{at}.function.parameters")
        document = {"type": "function", "function": {**function, "parameters": parameters}}
        effect = read_effect(entry.get("effect"), f"{at}.effect", set(parameters.get("properties") or {}))
        tools[name] = Tool(name, document, effect)
    return tools


def _check_schema(schema: Any, at: str) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise SuiteError(f'{at}: expected a JSON Schema with type = "object"')
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise SuiteError(f"{at}: not a valid JSON Schema ({exc.message})") from None


def read_effect(raw: Any, at: str, arguments: set[str]) -> Effect:
    """One tool's effect; every argument it names must be one of the tool's parameters."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{at}: expected a table (action, table, ...)")
    if raw.get("action") not in ACTIONS:
        raise SuiteError(f"{at}.action: expected one of {', '.join(ACTIONS)}, not {raw.get('action')!r}")
    known = {"action", "table", "match", "where", "set", "values", "key", "prefix", "fields", "not_found",
             "require", "forbid"}
    if unknown := sorted(set(raw) - known):
        raise SuiteError(f"{at}.{unknown[0]}: unknown field (known: {', '.join(sorted(known))})")
    if not isinstance(raw.get("table"), str) or not raw["table"]:
        raise SuiteError(f"{at}.table: expected a table name")
    for name in ("match", "set"):
        _arguments_of(raw.get(name, {}), f"{at}.{name}", arguments)
    for name in ("where", "values"):
        if not isinstance(raw.get(name, {}), dict):
            raise SuiteError(f"{at}.{name}: expected a table of column = value")
    for name in ("key", "prefix", "not_found"):
        if not isinstance(raw.get(name, ""), str):
            raise SuiteError(f"{at}.{name}: expected a string")
    if raw["action"] == "insert" and not raw.get("key"):
        raise SuiteError(f"{at}.key: an insert names the column that gets a fresh id")
    fields = raw.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise SuiteError(f"{at}.fields: expected a list of column names")
    checks = {name: tuple(_check_of(c, f"{at}.{name}[{n}]", arguments) for n, c in enumerate(_listed(raw, name, at)))
              for name in ("require", "forbid")}
    return Effect(raw["action"], raw["table"], dict(raw.get("match", {})), dict(raw.get("where", {})),
                  dict(raw.get("set", {})), dict(raw.get("values", {})), raw.get("key", ""), raw.get("prefix", ""),
                  tuple(fields), raw.get("not_found", ""), checks["require"], checks["forbid"])


def _listed(raw: dict, name: str, at: str) -> list:
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise SuiteError(f"{at}.{name}: expected a list of checks")
    return value


def _arguments_of(mapping: Any, at: str, arguments: set[str]) -> None:
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise SuiteError(f"{at}: expected a table of column = argument name")
    if missing := sorted(set(mapping.values()) - arguments):
        raise SuiteError(f"{at}: names {missing[0]!r}, which is not one of the tool's parameters")


def _check_of(raw: Any, at: str, arguments: set[str]) -> Check:
    if not isinstance(raw, dict) or not isinstance(raw.get("table"), str) or not isinstance(raw.get("error"), str):
        raise SuiteError(f"{at}: expected a table with table, error and match or where")
    _arguments_of(raw.get("match", {}), f"{at}.match", arguments)
    if not isinstance(raw.get("where", {}), dict):
        raise SuiteError(f"{at}.where: expected a table of column = value")
    return Check(raw["table"], dict(raw.get("match", {})), dict(raw.get("where", {})), raw["error"])


def read_database(raw: Any, at: str) -> Database:
    """Tables of rows: `{table: [{column: value}]}`."""
    if not isinstance(raw, dict) or not all(
            isinstance(rows, list) and all(isinstance(r, dict) for r in rows) for rows in raw.values()):
        raise SuiteError(f"{at}: expected tables of rows, {{table: [{{column: value}}, ...]}}")
    return raw


# ---------------------------------------------------------------- running calls

def _matches(row: dict, match: dict[str, str], where: dict[str, Any], arguments: dict) -> bool:
    return (all(row.get(col) == arguments[arg] for col, arg in match.items() if arg in arguments)
            and all(row.get(col) == value for col, value in where.items()))


def _fresh_id(rows: list[dict], key: str, prefix: str) -> str:
    """The next id after the largest `prefix` + number in the table, three digits at least: the same every run."""
    numbers = [int(str(r.get(key))[len(prefix):]) for r in rows
               if str(r.get(key, "")).startswith(prefix) and str(r.get(key))[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


class Environment:
    """One task's world: the database, changed only through the tools' declared effects."""

    def __init__(self, tools: dict[str, Tool], database: Database):
        self.tools = tools
        self.database: Database = copy.deepcopy(database)

    def state(self) -> Database:
        return copy.deepcopy(self.database)

    def call(self, name: str, arguments: Any) -> Outcome:
        """One call: an unknown tool or arguments the schema refuses are errors for the model, not faults."""
        tool = self.tools.get(name)
        if tool is None:
            return Outcome(error=f"unknown tool {name!r} (tools: {', '.join(self.tools)})")
        if not isinstance(arguments, dict):
            return Outcome(error=f"{name}: arguments must be a JSON object")
        if (problem := argument_error(tool.parameters, arguments)) is not None:
            return Outcome(error=f"{name}: bad arguments: {problem}")
        return self._apply(tool.effect, arguments)

    def _apply(self, effect: Effect, arguments: dict) -> Outcome:
        for check in effect.require:
            if not any(_matches(r, check.match, check.where, arguments) for r in self.database.get(check.table, [])):
                return Outcome(error=check.error)
        for check in effect.forbid:
            if any(_matches(r, check.match, check.where, arguments) for r in self.database.get(check.table, [])):
                return Outcome(error=check.error)
        rows = self.database.setdefault(effect.table, [])
        if effect.action == "insert":
            row = {col: arguments.get(arg) for col, arg in effect.set.items()} | copy.deepcopy(effect.values)
            row[effect.key] = _fresh_id(rows, effect.key, effect.prefix)
            rows.append(row)
            return Outcome({"ok": True, "row": copy.deepcopy(row)})
        found = [r for r in rows if _matches(r, effect.match, effect.where, arguments)]
        if effect.action == "find":
            if not found and effect.not_found:
                return Outcome(error=effect.not_found)
            shown = [{f: r.get(f) for f in effect.fields} if effect.fields else r for r in found]
            return Outcome({"rows": copy.deepcopy(shown)})
        if not found:
            return Outcome(error=effect.not_found or f"no row of {effect.table} matches")
        if len(found) > 1:
            return Outcome(error=f"{len(found)} rows of {effect.table} match; name one")
        (row,) = found
        if effect.action == "delete":
            rows.remove(row)
            return Outcome({"ok": True, "deleted": copy.deepcopy(row)})
        row.update({col: arguments[arg] for col, arg in effect.set.items() if arg in arguments})
        row.update(copy.deepcopy(effect.values))
        return Outcome({"ok": True, "row": copy.deepcopy(row)})


def argument_error(schema: dict, arguments: dict) -> str | None:
    """Why the arguments break the tool's JSON Schema (the first fault, with where it is), or None."""
    from jsonschema import Draft202012Validator

    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    at = "/".join(str(p) for p in error.path)
    return f"{error.message}" + (f" (at {at})" if at else "")


# ---------------------------------------------------------------- the final state

def _plain(value: Any) -> Any:
    """A whole float as the integer it equals (JSON Schema lets 2.0 stand for the integer 2)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value] if isinstance(value, list) else value


def _canonical(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(_plain(r), ensure_ascii=False, sort_keys=True) for r in rows)


def state_difference(initial: Database, expected: Database, final: Database) -> str:
    """Why the final database is not the expected one ("" when it is): each table `expected` names holds
    exactly those rows, in any order; every other table is as it began."""
    for table in sorted(set(initial) | set(expected) | set(final)):
        want = expected[table] if table in expected else initial.get(table, [])
        got = final.get(table, [])
        if _canonical(want) != _canonical(got):
            missing = [r for r in _canonical(want) if r not in _canonical(got)]
            extra = [r for r in _canonical(got) if r not in _canonical(want)]
            return (f"table {table}: " + "; ".join(
                part for part in (f"missing {', '.join(missing)}" if missing else "",
                                  f"unexpected {', '.join(extra)}" if extra else "") if part))
    return ""
