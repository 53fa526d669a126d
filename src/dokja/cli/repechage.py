"""`dokja repechage`: the repechage: calls, applicants, the panel's votes."""

from __future__ import annotations

import typer

repechage_app = typer.Typer(help="The repechage: calls, applicants, the panel's votes.", no_args_is_help=True)
