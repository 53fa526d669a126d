"""`dokja grievance`: publication of a decision and the grievances eliminated teams file."""

from __future__ import annotations

import typer

grievance_app = typer.Typer(help="Publication of a decision and the grievances eliminated teams file.", no_args_is_help=True)
