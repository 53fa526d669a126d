"""`dokja resources`: the resources ledger: GPUs, data and talent support."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Column, Table

from .app import Db, StageOpt, console, guarded, out_path

resources_app = typer.Typer(help="The resources ledger: GPUs, data and talent support.")
Day = Annotated[Optional[dt.datetime], typer.Option("--on", formats=["%Y-%m-%d"],
                                                    help="the ledger on this day (YYYY-MM-DD) [default: every "
                                                         "period]")]


@resources_app.callback(invoke_without_command=True)
@guarded
def show(ctx: typer.Context, on: Day = None,
         csv: Annotated[Optional[Path], typer.Option("--csv", help="also write the ledger as CSV: a header row, "
                                                                   "then one line per entry")] = None,
         db_url: Db = None) -> None:
    """Each team's and the pool's holdings per period (GPUs by type and in H100-equivalents, data, talent),
    with the totals against the budget."""
    if ctx.invoked_subcommand:
        return
    from ..resources import csv_text, ledger, periods, summary
    from ..store import open_store

    day = on.date() if on else None
    with open_store(db_url, create=False).begin() as session:
        entries = ledger(session)
        if day is not None:
            entries = [e for e in entries if e.effective <= day]
        days = [day] if day else periods(entries)
        summaries = [summary(session, d) for d in days]
    if csv is not None:
        out_path(csv, "--csv").write_text(csv_text(entries), encoding="utf-8")
    if not entries:
        console.print("the ledger has no entries yet; `dokja resources open` records the programme file's initial "
                      "allocations", highlight=False)
    else:
        console.print(_table(summaries, days))
    if csv is not None:
        console.print(f"[green]✓[/] {len(entries)} entries written to {csv}", highlight=False)


def _table(summaries, days) -> Table:
    table = Table(Column("from\n부터", no_wrap=True), Column("holder\n보유", no_wrap=True), "GPUs",
                  Column("H100e\nH100 환산", justify="right"), Column("joint data\n공동 데이터", justify="right"),
                  Column("own data\n자체 데이터", justify="right"), Column("talent / year\n인재 (연)", justify="right"),
                  title="Resources ledger · 자원 원장 (won in billions · 원, 10억 단위)")
    for n, s in enumerate(summaries):
        until = f"–{days[n + 1] - dt.timedelta(days=1)}" if n + 1 < len(days) else " on"
        first = f"{s.on}{until}"
        for h in (*s.teams, s.pool):
            name = "pool 풀" if h is s.pool else " ".join(filter(None, s.names.get(h.holder, (h.holder,)))) or h.holder
            table.add_row(first, name, _gpus(h.gpus), f"{h.h100e:,.0f}", _won(h.joint_data), _won(h.own_data),
                          _won(h.talent))
            first = ""
        t = s.totals
        table.add_row("", "[bold]total 합계[/]", "", f"{t.issued_h100e:,.0f}{_of(t.budget_h100e, '{:,.0f}')}",
                      f"{_won(t.joint_data)}{_of(t.budget_joint_data)}", _won(t.own_data),
                      f"{_won(t.talent)}{_of(t.budget_talent)}", end_section=True)
    return table


def _gpus(gpus) -> str:
    return ", ".join(f"{n:,} {g}" for g, n in gpus.items()) or "—"


def _won(amount: int) -> str:
    return f"{amount / 1e9:,.2f}" if amount else "—"


def _of(budget, form: str | None = None) -> str:
    if budget is None:
        return ""
    return f" / {form.format(budget) if form else _won(budget)}"


@resources_app.command("open")
@guarded
def open_(db_url: Db = None) -> None:
    """Record the programme file's initial allocations as the ledger's first entries (once)."""
    from ..resources import open_ledger
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        added = open_ledger(session)
    console.print(f"[green]✓[/] ledger opened with {len(added)} entries" if added else
                  "the ledger is already open (or the programme file has no `[[resources.allocations]]`)",
                  highlight=False)


@resources_app.command("allocate")
@guarded
def allocate_(stage: StageOpt = None,
              decision: Annotated[Optional[int], typer.Option(help="decision id [default: the stage's latest]")]
              = None,
              admit: Annotated[list[str], typer.Option(help="a team the repechage admitted at this stage "
                                                            "(repeatable)")] = [],
              decided_on: Annotated[Optional[dt.datetime], typer.Option(
                  formats=["%Y-%m-%d"], help="the decision's day [default: the day it was made]")] = None,
              db_url: Db = None) -> None:
    """Apply a stage decision: eliminated teams' GPUs return to the pool, survivors grow, admitted teams get a
    survivor's allocation. Applying it again adds nothing."""
    from ..resources import allocate, open_ledger
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        opened = open_ledger(session)
        added = allocate(session, stage, decision, admit, decided_on.date() if decided_on else None)
    if opened:
        console.print(f"[green]✓[/] ledger opened with {len(opened)} initial entries", highlight=False)
    if not added:
        console.print("nothing to add: the ledger already follows this decision", highlight=False)
        return
    table = Table("from 부터", "holder 보유", Column("change 변동", justify="right"), "resource 자원", "why 사유")
    for e in added:
        table.add_row(str(e.effective), e.holder, f"{e.amount:+,} {e.unit}", e.resource, e.step)
    console.print(table)
    console.print(f"[green]✓[/] {len(added)} entries added", highlight=False)


@resources_app.command("chart")
@guarded
def chart(out: Annotated[Path, typer.Option(help="the PNG file")] = Path("resources.png"),
          db_url: Db = None) -> None:
    """Draw each team's and the pool's GPUs over time as a PNG, for the report."""
    from ..resources import ledger, ledger_chart, summary
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        entries = ledger(session)
        names = summary(session, dt.date.today()).names
        types = _types(session)
    picture = ledger_chart(entries, types, {k: v[0] for k, v in names.items()})
    out_path(out).write_bytes(picture.png)
    console.print(f"[green]✓[/] chart written to {out}\n  {picture.caption_en}\n  {picture.caption_ko}",
                  highlight=False)


def _types(session) -> dict[str, float]:
    from ..programme import Programme
    from ..registry import programme_row

    return Programme.model_validate(programme_row(session).config).resources.gpu_types
