"""The library of known models: a directory of fingerprint files, the bundled ones plus the office's own,
and the null distribution the thresholds come from."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ProvenanceError
from .fingerprint import Fingerprint, library_profile, load
from .null import load_null

BUNDLED = Path(__file__).resolve().parent / "library"
NULL_FILE = "null.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def entry_path(directory: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise ProvenanceError(f"library entry name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
    return Path(directory) / f"{name}.npz"


def entries(directory: str | Path | None = None, *, bundled: bool = True) -> list[Fingerprint]:
    """Every library entry: the bundled ones, then the directory's (a later entry of the same name wins)."""
    found: dict[str, Fingerprint] = {}
    for folder in ([BUNDLED] if bundled else []) + ([Path(directory)] if directory else []):
        if folder.is_dir():
            for file in sorted(folder.glob("*.npz")):
                fp = load(file)
                found[fp.name] = fp
    return list(found.values())


def add(name: str, path: str | Path, directory: str | Path, *, aliases: list[str] | None = None,
        licence: str | None = None) -> Path:
    """Fingerprint any checkpoint into the library directory under `name`."""
    target = entry_path(Path(directory), name)
    fp = library_profile(path, name=name)
    fp.facts["aliases"] = list(aliases or [])
    if licence:
        fp.facts["licence"] = licence
    return fp.save(target)


def null(directory: str | Path | None = None) -> dict[str, dict]:
    """The office's null distribution if it keeps one beside its entries, else the bundled one."""
    for folder in ([Path(directory)] if directory else []) + [BUNDLED]:
        if (folder / NULL_FILE).is_file():
            return load_null(folder / NULL_FILE)
    raise ProvenanceError(f"no null distribution ({NULL_FILE}) in the library; rebuild it with "
                          "scripts/build_provenance_library.py")
