"""The demo: make the teams' models, evaluate everyone, decide the stage, write the report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from ..harness.campaign import evaluate_models, progress_bar, stage_models
from ..models import materialise_gguf, resolve
from ..programme import Programme, load_programme
from ..registry import import_programme, programme_row, stage_row
from ..report import write_stage_report
from ..report.cost import cost_view
from ..report.identity import identity_view
from ..stage import OfficeFiles, decide_stage
from ..store import open_store
from ..store import schema as db

DATA = Path(__file__).parent / "data"
SCRATCH = {
    "scratch-large": dict(seed=1, hidden=128, layers=4, heads=4, steps=300),
    "scratch-small": dict(seed=2, hidden=64, layers=2, heads=2, steps=120),
    "scratch-medium": dict(seed=3, hidden=96, layers=3, heads=4, steps=200),
    "scratch-base": dict(seed=4, hidden=64, layers=3, heads=2, steps=160),
}


def build_model(recipe: str, target: Path, cache: Path, bar) -> None:
    """Make one demo model; builders write atomically, so an interrupted build is simply redone."""
    from . import builders

    task = bar.add_task(f"build {target.name:<40}", total=None)

    def progress(step, total, loss):
        bar.update(task, completed=step, total=total, description=f"build {target.name:<22} loss {loss:6.3f}")

    if recipe in SCRATCH:
        builders.build_scratch_model(target, progress=progress, **SCRATCH[recipe])
    else:
        base = materialise_gguf(resolve("package:smollm2-135m-instruct", cache).path, cache)
        if recipe == "continued-smollm2":
            builders.build_continued_model(base, target, progress=progress)
        elif recipe == "pruned-smollm2":
            builders.build_pruned_model(base, target, keep_layers=list(range(0, 30, 3)) + [29])
        else:
            raise ValueError(f"unknown demo build recipe {recipe!r}")
    bar.update(task, completed=1, total=1)


def prepare_models(spec: Programme, cache: Path, console: Console) -> Programme:
    """Build missing demo models and point their locations into the cache."""
    models = []
    with progress_bar(console) as bar:
        for model in spec.models:
            if model.build:
                target = cache / model.location
                if not (target / "config.json").exists():
                    build_model(model.build, target, cache, bar)
                model = model.model_copy(update={"location": str(target)})
            models.append(model)
    return spec.model_copy(update={"models": models})


def check_provenance(sessions, models, cache: Path, console: Console) -> None:
    """The independence gate's evidence: each submitted model's verdict, once per model location."""
    from ..provenance.records import check_model, latest_check

    with progress_bar(console) as bar:
        task = bar.add_task("provenance", total=len(models))
        for model in models:
            with sessions.begin() as session:
                kept = latest_check(session, model.name)
                if kept is None or kept.location != model.location:
                    bar.update(task, description=f"provenance {model.name:<28}")
                    check_model(session, model.name, model.location, cache=cache, model_id=model.id)
            bar.advance(task)
    with sessions.begin() as session:
        for model in models:
            kept = latest_check(session, model.name)
            verdict = "[green]independent[/]" if kept.passed else f"[red]{kept.summary}[/]"
            console.print(f"  {model.name:<24} {verdict}")


def run_demo(workdir: Path, *, cache: Path, fresh: bool = False, console: Console | None = None) -> Path:
    """The whole first stage: models, provenance, benchmarks, the panel, the decision, the office's steps after
    it (grievances, repechage, resources), the report and the verified bundle."""
    console = console or Console()
    started = time.monotonic()
    spec = load_programme(DATA / "programme.toml")
    console.rule(f"[bold]{spec.name}[/] · {spec.name_ko}")
    console.print("1/8 making the teams' models (once; cached)")
    spec = prepare_models(spec, cache, console)
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sessions = open_store(workdir / "dokja.db")
    stage = evaluate_stage(sessions, spec, cache, console)
    standing = panel_and_standing(sessions, stage, workdir, cache, console)
    if standing is None and decided_before(sessions, stage):
        console.print("[yellow]the store's decision was made by another version of Dokja (or from other inputs) "
                      "and the office has acted on it; the demo starts its store over[/]")
        shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        sessions = open_store(workdir / "dokja.db")
        stage = evaluate_stage(sessions, spec, cache, console)
        standing = panel_and_standing(sessions, stage, workdir, cache, console)
    number, decision = decide(sessions, stage, standing, cache, console)
    office = run_office(sessions, stage, decision, console)
    public = office_key(workdir / "office.key")
    with sessions.begin() as session:
        cost = cost_view(session, session.get(db.Decision, number))
        identity = identity_view(session, decision.stage.id)
    report = write_stage_report({**decision.model_dump(mode="json"), "signing_key": public},
                                workdir / f"report-{decision.stage.id}.html", office=office, cost=cost,
                                identity=identity)
    console.print(f"8/8 report written to [bold]{report}[/]")
    bundle = bundle_and_verify(sessions, number, workdir / f"bundle-{decision.stage.id}.zip", public, console)
    console.print(f"  bundle [bold]{bundle}[/] written and verified; the demo took {time.monotonic() - started:.0f} s")
    return report


def evaluate_stage(sessions, spec: Programme, cache: Path, console: Console) -> str:
    """Import the programme, check provenance and run every model on every suite; returns the stage id."""
    with sessions.begin() as session:
        prow = import_programme(session, spec, (DATA / "programme.toml").read_text(encoding="utf-8"), cache=cache)
        srow = stage_row(session, prow)
        stage = srow.key
        models = stage_models(session, prow, srow)
        submitted = [sub.model for sub in session.scalars(select(db.Submission)
                                                          .where(db.Submission.stage_id == srow.id))]
    console.print("2/8 checking each team's weights against the library of known models (provenance)")
    check_provenance(sessions, submitted, cache, console)
    console.print(f"3/8 evaluating {len(models)} models on {len(spec.suites.all)} suites "
                  f"({spec.suites.limit or 'all'} items each, fewer where the programme says; finished items "
                  f"are kept and skipped)")
    evaluate_models(sessions, models, spec.suites.all, spec, cache_dir=cache, console=console)
    return stage


FILES = OfficeFiles(findings=DATA / "findings.csv", votes=DATA / "votes.csv")


def panel_and_standing(sessions, stage: str, workdir: Path, cache: Path, console: Console):
    """The expert panel, then the stage's decision if it stands (same inputs, same outcome), else None."""
    from ..stage import standing_decision
    from .office import run_panel

    console.print("4/8 the expert panel: conflicts checked, reviewers drawn, score sheets imported")
    run_panel(sessions, stage, workdir, console)
    return standing_decision(sessions, stage, FILES, cache=cache)


def decided_before(sessions, stage: str) -> bool:
    with sessions.begin() as session:
        srow = stage_row(session, programme_row(session), stage)
        return session.scalar(select(db.Decision.id).where(db.Decision.stage_id == srow.id)) is not None


def decide(sessions, stage: str, standing, cache: Path, console: Console):
    """The decision: a recorded one that stands is kept as it is; otherwise the stage is decided."""
    from ..cli.app import print_decision

    console.print("5/8 deciding the stage (expert points from the panel, user points from the arena votes)")
    if standing is not None:
        console.print(f"  decision {standing[0]} stands: its inputs have not changed")
        number, decision = standing
    else:
        number, decision = decide_stage(sessions, stage, FILES, reason="the demo decided again", cache=cache,
                                        version=__import__("dokja").__version__, decided_at="2025-12-30T09:00:00Z")
    print_decision(decision)
    return number, decision


def run_office(sessions, stage: str, decision, console: Console):
    """After the decision: the grievance window until the results are final, then the repechage and the
    resources ledger; returns what the report shows of them."""
    from .office import office_view, run_grievances, run_repechage, run_resources

    console.print("6/8 publication and the grievance window (the office's clock: Korea time)")
    run_grievances(sessions, stage, decision, console)
    console.print("7/8 the repechage and the resources ledger")
    admitted = run_repechage(sessions, stage, decision, console)
    run_resources(sessions, stage, decision, admitted, console)
    return office_view(sessions, stage)


def office_key(path: Path) -> str:
    """The demo office's signing key, made once."""
    from ..audit import keys

    return keys.public_hex(keys.load_key(path)) if path.exists() else keys.init_key(path)


def bundle_and_verify(sessions, number: int, out: Path, public: str, console: Console) -> Path:
    """Write the decision's signed bundle and check it as anyone would: offline, against the published key."""
    from ..bundle import verify_bundle, write_bundle
    from ..stage.record import now_utc

    with sessions.begin() as session:
        write_bundle(session, session.get(db.Decision, number), out.parent / "office.key", out, time=now_utc())
    _, problems = verify_bundle(out, public)
    for line in problems:
        console.print(f"  [red]✗[/] {line}", highlight=False)
    if problems:
        raise RuntimeError(f"the demo's own bundle failed {len(problems)} check(s)")
    console.print(f"  [green]✓[/] dokja verify {out} --key {public[:16]}…: signature, hashes, log proofs, "
                  "every score and the decision recomputed", highlight=False)
    return out
