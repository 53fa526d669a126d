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
from ..registry import import_programme, stage_row
from ..report import write_stage_report
from ..stage import OfficeFiles, decide_stage
from ..store import open_store
from ..store import schema as db

DATA = Path(__file__).parent / "data"
SCRATCH = {
    "scratch-large": dict(seed=1, hidden=128, layers=4, heads=4, steps=300),
    "scratch-small": dict(seed=2, hidden=64, layers=2, heads=2, steps=120),
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
    from ..cli.app import print_decision

    console = console or Console()
    started = time.monotonic()
    spec = load_programme(DATA / "programme.toml")
    console.rule(f"[bold]{spec.name}[/] · {spec.name_ko}")
    console.print("1/6 making the teams' models (once; cached)")
    spec = prepare_models(spec, cache, console)
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sessions = open_store(workdir / "dokja.db")
    with sessions.begin() as session:
        prow = import_programme(session, spec, (DATA / "programme.toml").read_text(encoding="utf-8"), cache=cache)
        srow = stage_row(session, prow)
        models = stage_models(session, prow, srow)
        submitted = [sub.model for sub in session.scalars(select(db.Submission).where(db.Submission.stage_id == srow.id))]
    console.print("2/6 checking each team's weights against the library of known models (provenance)")
    check_provenance(sessions, submitted, cache, console)
    console.print(f"3/6 evaluating {len(models)} models on {len(spec.suites.all)} suites "
                  f"({spec.suites.limit or 'all'} items each; finished items are kept and skipped)")
    evaluate_models(sessions, models, spec.suites.all, spec, cache_dir=cache, console=console)
    console.print("4/6 deciding the stage (user points from the arena votes)")
    files = OfficeFiles(expert=DATA / "expert.csv", findings=DATA / "findings.csv", votes=DATA / "votes.csv")
    number, decision = decide_stage(sessions, None, files, reason="the demo decided again", cache=cache,
                                    version=__import__("dokja").__version__)
    print_decision(decision)
    public = office_key(workdir / "office.key")
    report = write_stage_report({**decision.model_dump(mode="json"), "signing_key": public},
                                workdir / f"report-{decision.stage.id}.html")
    console.print(f"5/6 report written to [bold]{report}[/]")
    bundle = bundle_and_verify(sessions, number, workdir / f"bundle-{decision.stage.id}.zip", public, console)
    console.print(f"6/6 bundle [bold]{bundle}[/] written and verified in {time.monotonic() - started:.0f} s")
    return report


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
