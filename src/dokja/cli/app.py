"""`dokja`: init a programme, register teams and models, evaluate, decide a stage, write its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy import select

from .. import __version__
from ..accounts import AccountError
from ..arena.errors import ArenaError
from ..audit.keys import KeyError_
from ..cluster.errors import ClusterError
from ..bundle.build import BundleError
from ..grievance.errors import GrievanceError
from ..harness import SuiteError, bundled_suites, load_suite
from ..harness.sampling import SamplingError
from ..harness.sandbox import SandboxError
from ..models import ModelError
from ..panel.errors import PanelError
from ..programme import Programme, ProgrammeError, load_programme
from ..provenance.errors import CheckpointError
from ..registry import RegistryError
from ..repechage.records import RepechageError
from ..resources.records import ResourcesError
from ..stage import StageError
from ..store import StoreError, open_store
from ..store import schema as db

app = typer.Typer(help="Dokja (독자): stage evaluations for an independent AI foundation model programme.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
team_app = typer.Typer(help="Teams (consortia) and their members.", no_args_is_help=True)
model_app = typer.Typer(help="Models: HF directories, GGUF files, OpenAI-compatible endpoints.", no_args_is_help=True)
stage_app = typer.Typer(help="Stage decisions.", no_args_is_help=True)
suite_app = typer.Typer(help="Benchmark suites.", no_args_is_help=True)
app.add_typer(team_app, name="team")
app.add_typer(model_app, name="model")
app.add_typer(stage_app, name="stage")
app.add_typer(suite_app, name="suite")

console = Console()
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dokja {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="print Dokja's version and exit")] = False) -> None:
    """Dokja's own Rich progress bars replace the libraries' tqdm bars; its notices go to stderr."""
    import logging
    import os

    from rich.logging import RichHandler

    dokja_log = logging.getLogger("dokja")
    if not dokja_log.handlers:
        dokja_log.addHandler(RichHandler(console=err, show_time=False, show_path=False, show_level=False))
        dokja_log.setLevel(logging.INFO)
        dokja_log.propagate = False

    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
USER_ERRORS = (ProgrammeError, RegistryError, ModelError, SuiteError, StageError, ArenaError, CheckpointError,
               StoreError, KeyError_, BundleError, PanelError, AccountError, GrievanceError, RepechageError,
               ResourcesError, ClusterError, SandboxError, SamplingError)

Db = Annotated[Optional[str], typer.Option("--db", envvar="DOKJA_DB",
                                           help="SQLAlchemy URL or SQLite file [default: .dokja/dokja.db]")]
Cache = Annotated[Path, typer.Option("--cache", envvar="DOKJA_CACHE", help="where converted and built models live")]
StageOpt = Annotated[Optional[str], typer.Option("--stage", help="stage id [default: the first]")]


def fail(exc: Exception | str) -> None:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


Now = Annotated[Optional[str], typer.Option("--now", help="the time to act at, ISO 8601 with its zone (e.g. "
                                                          "2026-01-12T23:59+09:00) [default: now]")]


def clock(now: str | None):
    """The office's injected clock on the command line: the time given (`--now`), or the real one."""
    import datetime as dt

    if now is None:
        return dt.datetime.now(dt.UTC)
    try:
        return dt.datetime.fromisoformat(now)
    except ValueError:
        fail(f"--now {now!r} is not an ISO 8601 time (e.g. 2026-01-12T23:59+09:00)")


def guarded(fn):
    """Domain errors, invalid values and unusable paths become one red line and exit code 2, never a traceback."""
    import functools

    from pydantic import ValidationError

    from ..programme.load import validation_line

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            fail(exc)
        except ValidationError as exc:
            fail(validation_line(exc))
        except UnicodeDecodeError as exc:
            fail(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position {exc.start})")
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")
    return wrapper


def _spec(session) -> tuple[db.Programme, Programme]:
    from ..registry import programme_row

    row = programme_row(session)
    return row, Programme.model_validate(row.config)


@app.command()
@guarded
def init(programme: Annotated[Path, typer.Argument(help="programme TOML file")], db_url: Db = None,
         cache: Cache = Path(".dokja")) -> None:
    """Validate a programme file and record it (stages, teams, models, references) in the store."""
    from ..registry import import_programme

    from ..harness import check_programme_suites

    spec = load_programme(programme)
    check_programme_suites(spec, str(programme))
    sessions = open_store(db_url)
    with sessions.begin() as session:
        import_programme(session, spec, programme.read_text(encoding="utf-8-sig"), cache=cache,
                         base=programme.resolve().parent)
    console.print(f"[green]✓[/] {spec.name}: {len(spec.stages)} stage(s), {len(spec.teams)} team(s), "
                  f"{len(spec.models)} model(s), {len(spec.references)} frontier reference(s)")


@team_app.command("add")
@guarded
def team_add(team_id: str, name: Annotated[str, typer.Option(help="team name")],
             member: Annotated[list[str], typer.Option(help="NAME:ROLE[:ORG]; roles lead, industry, university, "
                                                            "student, researcher, other")],
             name_ko: str = "", target: Annotated[Optional[str], typer.Option(help="frontier reference to "
                                                                               "measure against")] = None,
             db_url: Db = None) -> None:
    """Register a team; a team without a student member is refused, as the call for teams requires."""
    from ..programme.schema import Team
    from ..registry import add_team
    from ..registry.records import member as parse_member

    team = Team(id=team_id, name=name, name_ko=name_ko, target=target, members=[parse_member(m) for m in member])
    with open_store(db_url).begin() as session:
        add_team(session, team)
    console.print(f"[green]✓[/] team {team_id} with {len(team.members)} member(s)")


@team_app.command("list")
@guarded
def team_list(db_url: Db = None) -> None:
    """Teams and their members."""
    table = Table("team", "name", "members", "target")
    with open_store(db_url, create=False).begin() as session:
        for team in session.scalars(select(db.Team).order_by(db.Team.key)):
            members = ", ".join(f"{m.name} ({m.role})" for m in team.members)
            table.add_row(team.key, f"{team.name} {team.name_ko}".strip(), members, team.target or "")
    console.print(table)


@model_app.command("add")
@guarded
def model_add(name: str, location: Annotated[str, typer.Argument(help="HF directory, .gguf file, "
                                                                       "package:NAME, or http(s) endpoint URL")],
              chat: Annotated[bool, typer.Option(help="use the chat template for generation")] = False,
              team: Annotated[Optional[str], typer.Option(help="submit it for this team")] = None,
              replace: Annotated[bool, typer.Option("--replace", help="replace the team's earlier submission "
                                                                      "for the stage")] = False,
              stage: StageOpt = None, db_url: Db = None, cache: Cache = Path(".dokja")) -> None:
    """Register a model (its checkpoint SHA-256 is recorded) and optionally submit it for a team."""
    from ..registry import add_model, programme_row, stage_row, submit

    with open_store(db_url).begin() as session:
        row = add_model(session, name, location, chat=chat, cache=cache)
        if team:
            submit(session, team, stage_row(session, programme_row(session), stage), name, replace=replace)
    console.print(f"[green]✓[/] model {name} ({row.kind}) sha256 {row.sha256 or '—'}")


@model_app.command("list")
@guarded
def model_list(db_url: Db = None) -> None:
    """Registered models."""
    table = Table("model", "kind", "location", "sha256")
    with open_store(db_url, create=False).begin() as session:
        for m in session.scalars(select(db.Model).order_by(db.Model.name)):
            table.add_row(m.name, m.kind, m.location, (m.sha256 or "")[:16])
    console.print(table)


@suite_app.command("list")
@guarded
def suite_list(wide: Annotated[bool, typer.Option("--wide", help="also the licence and title")] = False) -> None:
    """Bundled and imported suites (fits 80 columns; --wide adds licence and title)."""
    table = Table(*(Column(h, no_wrap=True) for h in ("suite", "lang", "category", "kind", "metric")),
                  Column("items", justify="right"), show_edge=False)
    if wide:
        table.add_column("licence", no_wrap=True)
        table.add_column("title", overflow="fold")
    for key in bundled_suites():
        s = load_suite(key)
        kind = {"multiple_choice": "choice"}.get(s.kind, s.kind)
        row = [key, s.meta.get("language", ""), s.meta.get("category", ""), kind, s.metric, str(len(s.items))]
        if wide:
            row += [s.meta.get("source", {}).get("licence", ""), s.meta.get("title_en", "")]
        table.add_row(*row)
    console.print(table)


@suite_app.command("import")
@guarded
def suite_import(path: Annotated[Path, typer.Argument(help="local JSONL, JSON, CSV, TSV or Parquet file")],
                 suite_id: Annotated[str, typer.Option("--id", help="id for the new suite")],
                 preset: Annotated[str, typer.Option(help="kmmlu, mmlu, haerae, kobest_copa, kobest_boolq, "
                                                          "kobest_hellaswag, kobbq or mc")],
                 title: str = "", language: str = "ko", category: str = "knowledge",
                 licence: Annotated[str, typer.Option(help="the dataset's licence, recorded with the suite")] = "",
                 fewshot: Annotated[Optional[Path], typer.Option(help="file of few-shot examples (a dev split)")] = None,
                 num_fewshot: int = 0, limit: Optional[int] = None) -> None:
    """Turn a public dataset downloaded separately (KMMLU, HAE-RAE Bench, MMLU, ...) into a suite."""
    from ..harness.importers import import_items, write_suite
    from ..harness.suite import local_suites

    try:
        items = import_items(path, preset, limit=limit)
        shots = import_items(fewshot, preset, id_prefix="shot") if fewshot else []
    except (ValueError, KeyError) as exc:
        raise SuiteError(str(exc)) from None
    meta = {"id": suite_id, "title_en": title or suite_id, "title_ko": title or suite_id, "language": language,
            "category": category, "kind": "multiple_choice", "metric": "acc", "num_fewshot": num_fewshot,
            "target_delimiter": " ", "fewshot_delimiter": "\n\n",
            "source": {"name": path.name, "licence": licence, "notes": f"imported with preset {preset}"}}
    out = write_suite(local_suites() / suite_id, meta, items, shots)
    console.print(f"[green]✓[/] suite {suite_id}: {len(items)} items, {len(shots)} few-shot, in {out}")


@app.command("eval")
@guarded
def eval_(stage: StageOpt = None, model: Annotated[Optional[str], typer.Option(help="only this model")] = None,
          ray_address: Annotated[Optional[str], typer.Option(
              "--ray", metavar="ADDRESS", help="evaluate on a Ray cluster (`auto`: the one on this machine, "
                                               "or a new local one)")] = None,
          gpus: Annotated[list[str], typer.Option(metavar="MODEL=N", help="with --ray: GPUs per replica of "
                                                  "MODEL (0: CPUs) instead of sizing it from its weights")] = [],
          replicas: Annotated[int, typer.Option(min=1, help="with --ray: replicas per model")] = 1,
          gpu_memory: Annotated[float, typer.Option(help="with --ray: GiB per GPU, for sizing")] = 80.0,
          gpu_resource: Annotated[str, typer.Option(help="with --ray: the Ray resource GPUs are counted in")] = "GPU",
          endpoint_limit: Annotated[list[str], typer.Option(metavar="URL=N", help="with --ray: requests an "
                                                            "endpoint takes at a time, across replicas")] = [],
          unsafe_code: Annotated[bool, typer.Option(
              "--unsafe-code", help="run code suites' programs without a sandbox where none works (bubblewrap "
                                    "or unshare); only on a machine you can throw away")] = False,
          db_url: Db = None, cache: Cache = Path(".dokja")) -> None:
    """Evaluate the stage's models on its suites; an interrupted evaluation resumes where it stopped."""
    from ..harness.campaign import evaluate_models, stage_models, stage_work
    from ..registry import stage_row

    sessions = open_store(db_url, create=False)
    with sessions.begin() as session:
        prow, spec = _spec(session)
        models = stage_models(session, prow, stage_row(session, prow, stage))
    if model and model not in {m.name for m in models}:
        raise RegistryError(f"model {model!r} is not part of this stage")
    before = _results(sessions)
    try:
        if ray_address:
            from ..cluster import ClusterSettings, evaluate_on_cluster, parse_counts

            settings = ClusterSettings(address=ray_address, gpus=parse_counts(gpus, "--gpus"), replicas=replicas,
                                       gpu_memory_gib=gpu_memory, gpu_resource=gpu_resource,
                                       endpoint_limits=parse_counts(endpoint_limit, "--endpoint-limit"))
            outcomes = evaluate_on_cluster(sessions, stage_work(models, spec.suites.all, spec, model), settings,
                                           cache_dir=cache, console=console)
        else:
            outcomes = evaluate_models(sessions, models, spec.suites.all, spec, cache_dir=cache, console=console,
                                       only_model=model, unsafe_code=unsafe_code)
    except KeyboardInterrupt:
        kept = _results(sessions) - before
        err.print(f"[yellow]interrupted:[/] {kept} newly finished item(s) kept in the store; run the same "
                  "`dokja eval` again to resume where it stopped", highlight=False)
        raise typer.Exit(130) from None
    table = Table("model", "suite", "score", "± se", "computed", "resumed")
    for o in outcomes:
        metric = load_suite(o["suite"]).metric
        s = o["summary"].get(metric, {})
        table.add_row(o["model"], o["suite"], f"{s.get('mean', float('nan')):.3f}",
                      f"{s.get('stderr', float('nan')):.3f}", str(o["computed"]), str(o["resumed"]))
    console.print(table)


def _results(sessions) -> int:
    from sqlalchemy import func

    with sessions() as session:
        return session.scalar(select(func.count()).select_from(db.Result)) or 0


def out_path(path: Path, option: str = "--out") -> Path:
    """An output file's folder must exist: say so in one line instead of failing after the work is done."""
    if path.is_dir():
        raise StageError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise StageError(f"{option} {path}: the folder {path.parent} does not exist")
    return path


def print_decision(decision) -> None:
    """The decision's table: points, the frontier ratio, each team's outcome, and how sure it is."""
    from rich.markup import escape

    from ..stage import gate_failures

    stage = decision.stage
    table = Table("#", Column("team", no_wrap=True), "bench", "expert", "user", "total", "ratio",
                  Column("outcome", no_wrap=True), title=f"{stage.name} {stage.name_ko} — {stage.date}")
    for t in decision.teams:
        p = t.points
        ratio = f"{t.frontier_ratio:.0%}" if t.frontier_ratio is not None else "—"
        if t.outcome == "advance":
            outcome = "[green]✓ advance[/]"
        else:
            failed = gate_failures(t)
            outcome = f"[red]✗ {failed[0]}[/]" if failed else "[red]✗ below the line[/]"
        table.add_row(str(t.rank or "—"), t.name, f"{p.benchmark:.1f}", f"{p.expert:.1f}", f"{p.user:.1f}",
                      f"{t.total:.1f}", ratio, outcome)
    console.print(table)
    for ref in decision.frontier:
        mark = "[green]✓ frontier[/]" if ref.eligible else "[dim]✗ not frontier[/]"
        console.print(f"  {mark} {ref.name} ({ref.vendor}): {ref.reason}", highlight=False)
    if decision.shortfall:
        console.print(f"  [yellow]⚠ {decision.shortfall.text_en}[/] · {decision.shortfall.text_ko}: gates removed "
                      "teams whose places are not refilled; the office may open a repechage", highlight=False)
    source = "the arena's ratings of " + decision.arena["source"] if decision.arena else "a CSV given by hand"
    console.print(f"  user points from {source}", highlight=False)
    odds = decision.robustness
    if odds is not None:
        cut = f"; at the cut, {odds.cut.text}" if odds.cut and odds.cut not in odds.close_calls else ""
        console.print(f"  how sure: {odds.rounds} resamples (seed {odds.seed}) of items, votes and "
                      f"reviewers{cut}",
                      highlight=False)
        from ..stage.robustness import unsure

        for line in [c.text for c in odds.close_calls] + unsure(odds, {t.id: t.name for t in decision.teams}):
            console.print(f"  [yellow]⚠[/] {escape(line)}", highlight=False)
        pending = [t for t, v in decision.verdicts.items() if v not in ("advance", "eliminated")]
        if pending:
            console.print(f"  [yellow]more evaluation needed[/] under the pre-registered rule: {', '.join(pending)}")


@stage_app.command("decide")
@guarded
def stage_decide(expert: Annotated[Optional[Path], typer.Option(
                     help="CSV: team,expert (points given by hand; otherwise from the closed expert panel)")] = None,
                 user: Annotated[Optional[Path], typer.Option(
                     help="CSV: team,user (points given by hand; otherwise they come from the arena)")] = None,
                 votes: Annotated[Optional[Path], typer.Option(
                     help="arena votes export (CSV or JSONL) to rate instead of the store's own votes")] = None,
                 findings: Annotated[Optional[Path], typer.Option(help="CSV: team,passed,note (independence)")] = None,
                 reason: Annotated[str, typer.Option(help="why the stage is decided again (needed when it "
                                                          "already has a decision)")] = "",
                 stage: StageOpt = None, db_url: Db = None, cache: Cache = Path(".dokja")) -> None:
    """Gather the stage's inputs, decide (pure), and record both, in one transaction."""
    from ..stage import OfficeFiles, decide_stage

    files = OfficeFiles(expert=expert, user=user, findings=findings, votes=votes)
    number, decision = decide_stage(open_store(db_url, create=False), stage, files, reason=reason,
                                    version=__version__, cache=cache)
    print_decision(decision)
    console.print(f"[green]✓[/] decision {number} recorded (sha256 {decision.sha256()[:16]}…"
                  + (f", supersedes decision {decision.supersedes}" if decision.supersedes else "") + ")")


@app.command()
@guarded
def report(stage: StageOpt = None, out: Annotated[Optional[Path], typer.Option(help="HTML file")] = None,
           db_url: Db = None) -> None:
    """Write the stage's latest decision as one self-contained HTML report (Korean and English)."""
    import datetime as dt

    from ..registry import latest_decision, stage_row
    from ..report import write_stage_report
    from ..report.cost import cost_view
    from ..report.identity import identity_view
    from ..report.office import office_view

    with open_store(db_url, create=False).begin() as session:
        prow, _ = _spec(session)
        srow = stage_row(session, prow, stage)
        decision = latest_decision(session, srow)
        if decision is None:
            raise StageError(f"stage {srow.key!r} has no decision yet; run `dokja stage decide` first")
        data = decision.data
        office = office_view(session, srow.key, dt.datetime.now(dt.UTC))
        cost = cost_view(session, decision)
        identity = identity_view(session, srow.key)
    path = write_stage_report(data, out_path(out or Path(f"report-{srow.key}.html")), office=office, cost=cost,
                              identity=identity)
    console.print(f"[green]✓[/] report written to {path}")


@app.command()
@guarded
def demo(workdir: Annotated[Path, typer.Option("--dir", help="where the demo keeps its store and report")] = Path(
             ".dokja/demo"),
         cache: Cache = Path(".dokja"), fresh: Annotated[bool, typer.Option(help="start from an empty store")] = False
         ) -> None:
    """Run a whole stage evaluation on real small models and write its report."""
    from ..demo.run import run_demo

    run_demo(workdir, cache=cache, fresh=fresh, console=console)


@app.command()
def version() -> None:
    """Print Dokja's version."""
    console.print(__version__)


from .arena_data import arena_data_app  # noqa: E402
app.add_typer(arena_data_app, name="votes")
from .private import private_app  # noqa: E402
app.add_typer(private_app, name="sealed")
from .arena import arena_app  # noqa: E402
app.add_typer(arena_app, name="arena")
from . import suites as _suites  # noqa: E402, F401
from .provenance import provenance_app  # noqa: E402
app.add_typer(provenance_app, name="provenance")
from .programme import programme_app  # noqa: E402
app.add_typer(programme_app, name="programme")
from . import office as _office  # noqa: E402
app.add_typer(_office.keys_app, name="keys")
app.add_typer(_office.log_app, name="log")
app.command("bundle")(guarded(_office.bundle))
app.command("verify")(guarded(_office.verify))
from .panel import panel_app  # noqa: E402
app.add_typer(panel_app, name="panel")
from .grievance import grievance_app  # noqa: E402
app.add_typer(grievance_app, name="grievance")
from .repechage import repechage_app  # noqa: E402
app.add_typer(repechage_app, name="repechage")
from .resources import resources_app  # noqa: E402
app.add_typer(resources_app, name="resources")
from .users import user_app  # noqa: E402
app.add_typer(user_app, name="user")
