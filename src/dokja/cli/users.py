"""`dokja user`: office, reviewer and team accounts."""

from __future__ import annotations

import typer

user_app = typer.Typer(help="Office, reviewer and team accounts.", no_args_is_help=True)
