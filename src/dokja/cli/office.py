"""`dokja keys`, `dokja log`, `dokja bundle` and `dokja verify`: the record anyone can check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .app import Db, StageOpt, console, err, guarded, out_path

keys_app = typer.Typer(help="The office's Ed25519 signing key.", no_args_is_help=True)
log_app = typer.Typer(help="The append-only audit log (an RFC 9162 Merkle tree).", no_args_is_help=True)
KeyFile = Annotated[Path, typer.Option("--key-file", envvar="DOKJA_KEY", help="the office's private key (PEM)")]


@keys_app.command("init")
@guarded
def keys_init(path: Annotated[Path, typer.Argument(help="new private key file; its public key goes beside it "
                                                        "as PATH.pub")]) -> None:
    """Make the office's signing key (never overwrites one)."""
    from ..audit.keys import init_key

    console.print(f"[green]✓[/] key written to {path} (owner-only); public key: {init_key(path)}")


@log_app.command("verify")
@guarded
def log_verify(since: Annotated[Optional[Path], typer.Option(help="a checkpoint (log.json of an earlier bundle) "
                                                                  "the log must extend")] = None,
               db_url: Db = None) -> None:
    """Every entry against its leaf hash, and (with --since) that the log extends an earlier checkpoint."""
    from ..audit.log import entries, extends, verify_entries
    from ..audit.merkle import root_from_hashes
    from ..bundle.build import checkpoint_of
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        rows = entries(session)
        problems = verify_entries(rows)
        hashes = [bytes.fromhex(e.leaf_hash) for e in rows]
    if since is not None:
        old = checkpoint_of(json.loads(since.read_text(encoding="utf-8")))
        if not extends(old, hashes):
            problems.append(f"the log does not extend the checkpoint in {since} (size {old.size}): an entry "
                            "was removed, changed or moved")
    for line in problems:
        err.print(f"[red]✗[/] {escape(line)}", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]✓[/] {len(rows)} entries; root {root_from_hashes(hashes).hex()}")


@log_app.command("show")
@guarded
def log_show(last: Annotated[int, typer.Option(help="how many of the latest entries")] = 20,
             db_url: Db = None) -> None:
    """The latest entries of the audit log."""
    from ..audit.log import entries
    from ..store import open_store

    table = Table("#", "kind", "subject", "leaf")
    with open_store(db_url, create=False).begin() as session:
        rows = entries(session)
    for n, e in list(enumerate(rows))[-last:]:
        table.add_row(str(n), e.kind, e.subject, e.leaf_hash[:16])
    console.print(table)


def bundle(stage: StageOpt = None, out: Annotated[Path, typer.Option(help="the bundle file (.zip)")] = Path(
               "bundle.zip"), key_file: KeyFile = Path("office.key"),
           level: Annotated[Optional[str], typer.Option(help="full (auditors and teams: everything) or public "
                                                             "(per-team scores withheld) [default: the programme "
                                                             "file's `disclosure`]")] = None,
           decision: Annotated[Optional[int], typer.Option(help="decision id [default: the stage's latest]")] = None,
           db_url: Db = None) -> None:
    """Write the stage's signed results bundle: inputs, decision, per-item outputs, votes, log proofs."""
    from sqlalchemy import select

    from ..bundle import write_bundle
    from ..registry import programme_row, stage_row
    from ..stage import StageError
    from ..stage.record import now_utc
    from ..store import open_store
    from ..store import schema as db

    out_path(out)
    with open_store(db_url, create=False).begin() as session:
        srow = stage_row(session, programme_row(session), stage)
        query = select(db.Decision).where(db.Decision.stage_id == srow.id)
        query = query.where(db.Decision.id == decision) if decision else query.order_by(db.Decision.id.desc())
        row = session.scalars(query).first()
        if row is None or row.inputs is None:
            raise StageError(f"stage {srow.key!r} has no recorded decision to bundle; run `dokja stage decide`")
        level = level or prow_level(session)
        write_bundle(session, row, key_file, out, level=level, time=now_utc())
    console.print(f"[green]✓[/] {level} bundle of decision {row.id} written to {out}")


def prow_level(session) -> str:
    from ..programme import Programme
    from ..registry import programme_row

    return Programme.model_validate(programme_row(session).config).disclosure


def verify(path: Annotated[Path, typer.Argument(help="a results bundle")],
           key: Annotated[Optional[str], typer.Option(help="the office's published public key (hex)")] = None) -> None:
    """Check a bundle offline: signature, hashes, log proofs, and every number recomputed."""
    from ..bundle import verify_bundle

    manifest, problems = verify_bundle(path, key)
    for line in problems:
        err.print(f"[red]✗[/] {escape(line)}", highlight=False)
    if problems:
        err.print(f"{path}: {len(problems)} check(s) failed")
        raise typer.Exit(1)
    what = ("signature, file hashes, log proofs; per-item scores, votes and the decision recomputed byte for byte"
            if manifest["level"] == "full" else "signature, file hashes, log proofs (public level: scores withheld)")
    console.print(f"[green]✓[/] {path}: stage {manifest['stage']}, decision {manifest['decision']} verified "
                  f"({what})", highlight=False)
