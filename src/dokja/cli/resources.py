"""`dokja resources`: the resources ledger: GPUs, data and talent support."""

from __future__ import annotations

import typer

resources_app = typer.Typer(help="The resources ledger: GPUs, data and talent support.", no_args_is_help=True)
