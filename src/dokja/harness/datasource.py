"""Where a suite file's rows come from: local tables, or a Hugging Face `datasets` directory saved to disk.

A `save_to_disk` directory is read with pyarrow alone (its splits are Arrow IPC streams), so suites
need neither the `datasets` library nor a network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .importers import read_table

TABLES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


class SourceError(ValueError):
    """A data source that cannot be read; the message names the path and the fault."""


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file())


def _arrow_rows(split_dir: Path) -> list[dict[str, Any]]:
    import pyarrow as pa

    state = json.loads((split_dir / "state.json").read_text(encoding="utf-8"))
    files = [split_dir / f["filename"] for f in state.get("_data_files", [])]
    if not files:
        files = sorted(split_dir.glob("*.arrow"))
    tables = []
    for f in files:
        with pa.memory_map(str(f)) as source:
            try:
                tables.append(pa.ipc.open_stream(source).read_all())
            except pa.ArrowInvalid:
                source.seek(0)
                tables.append(pa.ipc.open_file(source).read_all())
    if not tables:
        return []
    return pa.concat_tables(tables).to_pylist()


def saved_splits(path: Path) -> list[str]:
    if (path / "dataset_dict.json").is_file():
        return list(json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))["splits"])
    return []


def read_saved(path: Path, split: str | None) -> list[dict[str, Any]]:
    """One split of a `DatasetDict` saved to disk, or the rows of a single saved `Dataset`."""
    splits = saved_splits(path)
    if not splits:
        return _arrow_rows(path)
    if split is None:
        split = "test" if "test" in splits else splits[0]
    if split not in splits:
        raise SourceError(f"{path}: no split {split!r} (splits: {', '.join(splits)})")
    return _arrow_rows(path / split)


def read_rows(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """Rows of a local JSONL/JSON/CSV/TSV/Parquet file or a saved `datasets` directory."""
    try:
        if is_saved_dataset(path):
            return read_saved(path, split)
        if not path.exists():
            raise SourceError(f"{path}: no such file")
        if path.is_dir():
            raise SourceError(f"{path}: a directory, but not one saved with datasets' save_to_disk")
        if path.suffix.lower() not in TABLES:
            raise SourceError(f"{path}: unknown table format {path.suffix!r}; use {', '.join(TABLES)}")
        return read_table(path)
    except SourceError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise SourceError(f"{path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
