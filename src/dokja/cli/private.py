"""`dokja sealed …`: the ministry's private suites (seal, verify, build) and the contamination check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .app import console, fail, guarded

private_app = typer.Typer(help="The ministry's sealed private suites and the contamination check. "
                               "비공개 봉인 평가 세트와 오염 검사.", no_args_is_help=True)

KeyFile = Annotated[Optional[Path], typer.Option("--key-file", help="the evaluation office's key "
                                                 "[default: DOKJA_SUITE_KEY]")]


def _key(key_file: Optional[Path]) -> bytes:
    from ..harness.sealed import KEY_ENV, SealedError, load_key

    key = load_key(key_file)
    if key is None:
        raise SealedError(f"no key: give --key-file or set {KEY_ENV}")
    return key


@private_app.command("keygen")
@guarded
def keygen(path: Annotated[Path, typer.Argument(help="new key file (readable by its owner only)")]) -> None:
    """Make a new AES-256 key for the evaluation office. 새 키를 만듭니다."""
    from ..harness.sealed import SealedError, new_key, write_key

    if path.exists():
        raise SealedError(f"{path}: already exists; a key is never overwritten")
    write_key(path, new_key())
    console.print(f"[green]✓[/] new key written to {path} — keep it with the evaluation office only "
                  f"(평가 기관만 보관하십시오)")


@private_app.command("seal")
@guarded
def seal_suite(directory: Annotated[Path, typer.Argument(help="suite directory with suite.toml and items.jsonl")],
               key_file: KeyFile = None,
               out: Annotated[Optional[Path], typer.Option(help="write the sealed suite here, leaving the clear one")]
               = None) -> None:
    """Encrypt a suite's items and print the commitment to publish before the stage. 봉인하고 확인값을 출력합니다."""
    from ..harness.sealed import seal

    commitment = seal(directory, _key(key_file), out=out)
    console.print(f"[green]✓[/] sealed {out or directory}")
    console.print(f"commitment (publish before the stage · 단계평가 전에 공개): sha256:{commitment}", highlight=False)


@private_app.command("verify")
@guarded
def verify_suite(directory: Annotated[Path, typer.Argument(help="sealed suite directory")],
                 commitment: Annotated[str, typer.Option(help="published SHA-256, or a file holding it")],
                 key_file: KeyFile = None) -> None:
    """Check that a sealed suite's items are exactly those committed to. 공개된 확인값과 대조합니다."""
    from ..harness.sealed import commitment_of, read_commitment, read_sealed

    items, _ = read_sealed(directory, _key(key_file))
    expected, actual = read_commitment(commitment), commitment_of(items)
    if actual != expected:
        fail(ValueError(f"{directory}: items do not match the commitment (sha256:{actual} ≠ sha256:{expected}) · "
                        f"확인값 불일치"))
    console.print(f"[green]✓[/] {directory}: {len(items)} items match the commitment sha256:{expected} · 확인값 일치",
                  highlight=False)


@private_app.command("build")
@guarded
def build(out: Annotated[Path, typer.Argument(help="where the private suites are written")],
          data: Annotated[Path, typer.Option(help="folder with korean_safety/ and kobest/")] = Path("../shared/data"),
          key_file: KeyFile = None, items: int = 200) -> None:
    """Build the private Korean safety and reasoning suites from their published data, and seal them."""
    from ..harness.private_suites import build_private_suites

    for suite_id, digest in build_private_suites(data, out, _key(key_file), items=items).items():
        console.print(f"[green]✓[/] {suite_id}: sealed in {out / suite_id}, commitment sha256:{digest}",
                      highlight=False)


def _items(ref: str, key_file: Optional[Path]) -> tuple[str, list[dict]]:
    from ..harness.sealed import is_sealed, read_sealed
    from ..harness.suite import load_suite

    if Path(ref).is_dir() and is_sealed(Path(ref)):
        return Path(ref).name, read_sealed(Path(ref), _key(key_file))[0]
    suite = load_suite(ref)
    return suite.id, suite.items


@private_app.command("contamination")
@guarded
def contamination(suite: Annotated[str, typer.Argument(help="suite id or directory (sealed ones need the key)")],
                  data: Annotated[list[Path], typer.Argument(help="training data sample: .txt, .jsonl, .json "
                                                                  "(optionally .gz) files or folders")],
                  n: Annotated[Optional[int], typer.Option("--n", help="n-gram length [default: 13 words, or 20 "
                                                                       "characters for Korean]")] = None,
                  threshold: Annotated[float, typer.Option(help="flag items with at least this fraction of their "
                                                                "n-grams in the data")] = 0.5,
                  field: Annotated[str, typer.Option(help="JSONL field holding the text")] = "text",
                  key_file: KeyFile = None, show: Annotated[int, typer.Option(help="rows to list")] = 30) -> None:
    """N-gram overlap between a suite's items and a team's declared training data. 학습 데이터 오염 검사."""
    from ..harness.contamination import check

    suite_id, items = _items(suite, key_file)
    report = check(suite_id, items, data, n=n, threshold=threshold, text_field=field)
    unit = "characters · 글자" if report.korean else "words · 단어"
    table = Table("item · 문항", "overlap · 겹침", "n-grams found · 발견", title=f"{suite_id}: items at or above "
                  f"{threshold:.0%} overlap · 오염 의심 문항 ({report.n}-gram, {unit})")
    for o in report.flagged[:show]:
        table.add_row(o.item_id, f"{o.fraction:.0%}", f"{o.matched}/{o.grams}")
    console.print(table)
    flagged = len(report.flagged)
    colour = "red" if flagged or report.canaries else "green"
    console.print(f"[{colour}]{flagged} of {len(items)} items flagged[/] · 의심 문항 {flagged}/{len(items)}; "
                  f"{report.documents} documents, {report.units} {unit.split(' ')[0]} read", highlight=False)
    if report.too_short:
        console.print(f"{len(report.too_short)} items shorter than {report.n} units were not checked · "
                      f"너무 짧아 검사하지 못한 문항 {len(report.too_short)}개", highlight=False)
    for canary in sorted(report.canaries):
        console.print(f"[bold red]canary found in the data · 카나리아 문자열 발견:[/] {canary}", highlight=False)
