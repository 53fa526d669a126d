"""The programme file's reference, written from the Pydantic schema itself so that it cannot drift."""

from __future__ import annotations

import datetime as dt
import types
import typing

from pydantic import BaseModel

from .schema import Programme

# Where each table sits in the TOML file; the top level has no header.
TABLES: dict[str, str] = {"Programme": "(top level)", "Scheme": "[scheme]", "Frontier": "[frontier]",
                          "Gates": "[gates]", "Stage": "[[stages]]", "Suites": "[suites]", "Team": "[[teams]]",
                          "Member": "[[teams.members]]", "Model": "[[models]]", "Reference": "[[references]]",
                          "Arena": "[arena]", "Robustness": "[robustness]", "Panel": "[panel]",
                          "Criterion": "[[panel.criteria]]", "Grievances": "[grievances]",
                          "Repechage": "[repechage]", "Resources": "[resources]",
                          "Budget": "[resources.budget]", "Lessor": "[[resources.lessors]]",
                          "Allocation": "[[resources.allocations]]", "Growth": "[[resources.growth]]"}


class UndocumentedField(ValueError):
    """A schema field without a description: the reference would have a hole."""


def type_name(annotation) -> str:
    """A field's type as a programme file's author reads it (TOML words, not Python's)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " · ".join(f'"{a}"' for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else type_name(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"table of {type_name(args[0])} → {type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"table {TABLES.get(annotation.__name__, annotation.__name__)}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", dt.date: "date"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see its table"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if value in ([], {}):
        return "empty"
    return f"`{value}`"


def _limits(field) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "at least", "pattern": "matching"}
    out = []
    for item in field.metadata:
        for attr, word in words.items():
            value = getattr(item, attr, None)
            if value is not None:
                out.append(f"{word} `{value}`" + (" item(s)" if attr == "min_length" else ""))
    return "; ".join(out)


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model class reachable from the root, in first-seen order."""
    seen: list[type[BaseModel]] = []

    def visit(cls):
        if cls in seen:
            return
        seen.append(cls)
        for field in cls.model_fields.values():
            for arg in (field.annotation, *typing.get_args(field.annotation)):
                for inner in (arg, *typing.get_args(arg)):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        visit(inner)
    visit(root)
    return seen


def reference_markdown(root: type[BaseModel] = Programme) -> str:
    """Markdown: one table per TOML table, every field with its type, default, limits and meaning."""
    lines = ["# The programme file", "",
             "A programme file is TOML, validated on `dokja init` (or `dokja programme check`). Every table and",
             "field follows; defaults are the real programme's first stage. This page is generated from the",
             "schema (`dokja programme reference`), and a test fails when a field is left undocumented.", ""]
    for cls in _models(root):
        lines += [f"## `{TABLES.get(cls.__name__, cls.__name__)}`", ""]
        if cls.__doc__ and cls is not root:
            lines += [" ".join(cls.__doc__.split()), ""]
        lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, field in cls.model_fields.items():
            if not field.description:
                raise UndocumentedField(f"{cls.__name__}.{name} has no description")
            meaning = field.description.replace("|", "\\|")
            limits = _limits(field)
            if limits:
                meaning += f" ({limits})"
            lines.append(f"| `{name}` | {type_name(field.annotation)} | {_default(field)} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
