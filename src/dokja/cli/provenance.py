"""`dokja provenance`: check a model's weights, tokenizer and encoders against the library of known models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from sqlalchemy import select

from ..store import open_store
from ..store import schema as db
from .app import Cache, Db, console, guarded

provenance_app = typer.Typer(help="From-scratch verification: whose weights, tokenizer and encoders a model has.",
                             no_args_is_help=True)
Library = Annotated[Optional[Path], typer.Option("--library", envvar="DOKJA_PROVENANCE_LIBRARY",
                                                 help="the office's library directory [default: CACHE/provenance]")]


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.3f}"


def print_verdict(verdict: dict, wide: bool = False) -> None:
    """Per component; at 80 columns the null and the evidence follow the table as lines of their own."""
    from rich.markup import escape

    table = Table("component", "verdict", "similarity", "threshold", title=f"{verdict['model']}: {verdict['summary']}")
    if wide:
        table.add_column("null (mean ± sd, max, n)")
        table.add_column("evidence")
    notes = []
    for c in verdict["components"]:
        mark = f"[red]derived from {c['source']}[/]" if c["verdict"] == "derived" else "[green]independent[/]"
        null = c.get("null") or {}
        null_text = (f"{null['mean']:.3f} ± {null['sd']:.3f}, {null['max']:.3f}, {null['n']}"
                     if null.get("n") else "—")
        value = _fmt(c.get("value"))
        if c.get("raw_cosine") is not None:
            value += f" (raw cos {c['raw_cosine']:.3f})"
        evidence = "; ".join(x for x in (c.get("tensors", ""), c.get("note", "")) if x)
        if c.get("p_value") is not None:
            evidence += f"; p = {c['p_value']:.2g}"
        closest = f"closest {c['closest']}; " if c.get("closest") else ""
        row = [f"{c['component']} {c['label_ko']}", mark, value, _fmt(c.get("threshold"))]
        table.add_row(*(row + [null_text, evidence] if wide else row))
        notes.append(f"  [bold]{c['component']}[/]: {escape(closest)}null {null_text}"
                     + (f"; {escape(evidence)}" if evidence else ""))
    console.print(table)
    if not wide:
        for line in notes:
            console.print(line, highlight=False)
    outcome = "[green]passes[/] the independence gate" if verdict["passed"] else "[red]fails[/] the independence gate"
    console.print(f"{verdict['model']} {outcome} · 독립성 검증 {'통과' if verdict['passed'] else '불통과'}")


def _library_dir(library: Path | None, cache: Path) -> Path:
    return library or cache / "provenance"


@provenance_app.command("check")
@guarded
def check(model: Annotated[str, typer.Argument(help="a registered model name, a checkpoint path or package:NAME")],
          as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
          layers: Annotated[int, typer.Option(help="blocks whose every neuron is compared")] = 4,
          library: Library = None, db_url: Db = None, cache: Cache = Path(".dokja"),
          wide: Annotated[bool, typer.Option("--wide", help="null and evidence as table columns")] = False) -> None:
    """Per component, "independent" or "derived from X", with the similarity, threshold and null; stored."""
    from ..provenance.records import check_model

    sessions = open_store(db_url)
    with sessions.begin() as session:
        row = session.scalars(select(db.Model).where(db.Model.name == model)).first()
        location, model_id, name = (row.location, row.id, row.name) if row else (model, None, Path(model).name)
        verdict = check_model(session, name, location, cache=cache, library_dir=_library_dir(library, cache),
                              layers=layers, model_id=model_id)
    if as_json:
        console.print_json(json.dumps(verdict, default=str))
    else:
        print_verdict(verdict, wide=wide)


@provenance_app.command("add")
@guarded
def add(name: Annotated[str, typer.Argument(help="the entry's name, e.g. Qwen2.5-0.5B")],
        path: Annotated[str, typer.Argument(help="checkpoint: HF directory, .safetensors, .gguf or package:NAME")],
        alias: Annotated[list[str], typer.Option(help="another name a model card may give as base_model")] = [],
        licence: Annotated[Optional[str], typer.Option(help="the model's licence")] = None,
        library: Library = None, cache: Cache = Path(".dokja")) -> None:
    """Add a library entry from any checkpoint (a small fingerprint file)."""
    from ..models import resolve
    from ..provenance import library as lib

    out = lib.add(name, resolve(path, cache).path, _library_dir(library, cache), aliases=alias, licence=licence)
    console.print(f"[green]✓[/] library entry {name}: {out} ({out.stat().st_size / 1e6:.2f} MB)")


@provenance_app.command("library")
@guarded
def library_list(library: Library = None, cache: Cache = Path(".dokja")) -> None:
    """The library's entries, bundled and the office's own."""
    from ..provenance import library as lib

    table = Table("entry", "type", "width", "layers", "vocab", "licence", "encoders", "aliases")
    for fp in lib.entries(_library_dir(library, cache)):
        f = fp.facts
        table.add_row(fp.name, f.get("model_type", ""), str(f.get("width", "")), str(f.get("layers", "")),
                      str(f.get("vocab", "")), f.get("licence") or "", ", ".join(fp.encoders) or "—",
                      ", ".join(f.get("aliases", [])))
    console.print(table)


@provenance_app.command("note")
@guarded
def note(model: Annotated[str, typer.Argument(help="the model the note is about")],
         text: Annotated[str, typer.Argument(help="the reviewer's note")],
         passed: Annotated[Optional[bool], typer.Option("--passed/--failed",
                                                        help="a verdict that stands over the automatic one")] = None,
         reviewer: str = "", db_url: Db = None) -> None:
    """Attach a reviewer's note to a model's provenance (kept with the verdict, shown in the report)."""
    from ..provenance.records import add_note

    with open_store(db_url, create=False).begin() as session:
        add_note(session, model, text, passed=passed, reviewer=reviewer)
    console.print(f"[green]✓[/] note on {model}" + ("" if passed is None else f" ({'pass' if passed else 'fail'})"))
