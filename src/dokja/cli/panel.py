"""`dokja panel`: the expert panel: reviewers, conflicts, assignment, scores, agreement."""

from __future__ import annotations

import typer

panel_app = typer.Typer(help="The expert panel: reviewers, conflicts, assignment, scores, agreement.", no_args_is_help=True)
