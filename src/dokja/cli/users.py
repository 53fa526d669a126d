"""`dokja user`: office, reviewer and team accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .app import Db, console, guarded

user_app = typer.Typer(help="Office, reviewer and team accounts.", no_args_is_help=True)


def _password(password_file: Path | None) -> str:
    """From a file (its first line), else asked twice without echo; never from the command line."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
@guarded
def user_add(name: str,
             role: Annotated[str, typer.Option(help="office, reviewer or team")],
             team: Annotated[Optional[str], typer.Option(help="the team a team account stands for")] = None,
             reviewer: Annotated[Optional[str], typer.Option(help="the panel's reviewer key of a reviewer "
                                                                  "account")] = None,
             password_file: Annotated[Optional[Path], typer.Option(help="read the password from this file's "
                                                                       "first line instead of asking")] = None,
             db_url: Db = None) -> None:
    """Add an account that can sign in to the site (logged "user added"; the password is stored hashed)."""
    from ..accounts import add_user
    from ..store import open_store

    password = _password(password_file)
    with open_store(db_url, create=False).begin() as session:
        user = add_user(session, name, role, password, team=team, reviewer=reviewer)
    link = f" for team {user.team}" if user.team else f" for reviewer {user.reviewer}" if user.reviewer else ""
    console.print(f"[green]✓[/] {user.role} account {user.name}{link}", highlight=False)


@user_app.command("list")
@guarded
def user_list(db_url: Db = None) -> None:
    """The accounts: name, role, and the team or reviewer each stands for."""
    from ..accounts import users
    from ..store import open_store

    table = Table("user", "role", "team", "reviewer")
    with open_store(db_url, create=False).begin() as session:
        for u in users(session):
            table.add_row(u.name, u.role, u.team or "", u.reviewer or "")
    console.print(table)
