"""`dokja suite compare` and `dokja suite show`: is a gap between two models real, and what a suite asks."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..harness import load_suite
from ..store import open_store
from .app import Db, console, guarded, suite_app


@suite_app.command("compare")
@guarded
def suite_compare(model_a: str, model_b: str, suite: str,
                  metric: Annotated[Optional[str], typer.Option(help="metric [default: the suite's]")] = None,
                  alpha: Annotated[float, typer.Option(help="significance level")] = 0.05,
                  db_url: Db = None) -> None:
    """Compare two models on the same items of a suite (McNemar for 0/1 scores, else a paired bootstrap)."""
    from ..harness.compare import compare_runs, latest_run

    with open_store(db_url, create=False).begin() as session:
        result = compare_runs(session, latest_run(session, model_a, suite).id, latest_run(session, model_b, suite).id,
                              metric=metric, alpha=alpha)
    table = Table("model", result["metric"], "items", title=f"{suite} — {result['method']}")
    table.add_row(model_a, f"{result['mean_a']:.3f}", str(result["n"] + result["only_a"]))
    table.add_row(model_b, f"{result['mean_b']:.3f}", str(result["n"] + result["only_b"]))
    console.print(table)
    verdict = ("[green]a real gap · 유의한 차이[/]" if result["significant"]
               else "[yellow]not distinguishable from chance · 우연과 구별되지 않음[/]")
    console.print(f"difference {result['diff']:+.3f} on {result['n']} shared items, p = {result['p_value']:.4g} "
                  f"(α = {alpha}): {verdict}", highlight=False)


@suite_app.command("show")
@guarded
def suite_show(suite: Annotated[str, typer.Argument(help="suite id, directory, or YAML/TOML suite file")],
               items: Annotated[int, typer.Option(help="how many items to show")] = 2,
               num_fewshot: Annotated[Optional[int], typer.Option(help="few-shot examples [default: the suite's]")]
               = None) -> None:
    """What a suite asks: its definition and the exact text of its first items, few-shot examples included."""
    from ..harness import prompts
    from ..harness.multiturn import turns_of

    s = load_suite(suite)
    k = s.meta.get("num_fewshot", 0) if num_fewshot is None else num_fewshot
    console.print(f"[bold]{s.id}[/] {s.meta.get('title_en', '')} · {s.meta.get('title_ko', '')} — {s.kind}, "
                  f"metric {s.metric}, {len(s.items)} items, {len(s.fewshot)} few-shot, sha256 {s.sha256[:16]}",
                  highlight=False)
    for item in s.items[:items]:
        console.rule(item["id"])
        if s.kind == "multiple_choice":
            for n, (context, continuation) in enumerate(prompts.choice_requests(s, item, k)):
                line = Text(context if n == 0 else "… ")
                line.append(continuation, style="reverse")
                line.append(" ✓" if n == item["answer"] else "")
                console.print(line, highlight=False)
        elif s.meta.get("scorer") == "agent":
            from ..harness import agent

            console.print(agent.show(s, item), highlight=False, markup=False)
        else:
            console.print(prompts.generation_prompt(s, item, k), highlight=False, markup=False)
            console.print(f"→ {item['answer']}", highlight=False, markup=False)
            questions, references = turns_of(item)
            for n, (question, reference) in enumerate(zip(questions[1:], references[1:]), 2):
                console.print(f"turn {n}: {question}", highlight=False, markup=False)
                console.print(f"→ {reference}" if reference else "→ (no reference)", highlight=False, markup=False)
