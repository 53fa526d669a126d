"""The null distribution: every statistic measured on pairs of models known to be unrelated, and the
thresholds drawn from it. A verdict never uses a threshold without the null it came from beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from .errors import ProvenanceError
from .fingerprint import Fingerprint
from .verdict import measure

FLOOR = 0.1  # the least gap kept between the null's largest value and the threshold
CEILING = 0.9


def null_values(pairs: Iterable[tuple[Fingerprint, Fingerprint]]) -> dict[str, list[tuple[float, str]]]:
    """Each statistic on each unrelated pair (candidate profile first), with the pair's names."""
    out: dict[str, list[tuple[float, str]]] = {}
    for cand, lib in pairs:
        for comp, ev in measure(cand, lib).items():
            if ev.get("value") is not None:
                out.setdefault(comp.split(":")[0], []).append((float(ev["value"]), f"{cand.name} × {lib.name}"))
    return out


def threshold(values: list[float]) -> float:
    """Above everything the null produced, by two of its standard deviations and at least FLOOR."""
    v = np.asarray(values, np.float64)
    return float(min(CEILING, v.max() + max(2 * v.std(), FLOOR)))


def summarise(values: dict[str, list[tuple[float, str]]]) -> dict[str, dict]:
    out = {}
    for kind, pairs in values.items():
        v = [x for x, _ in pairs]
        out[kind] = {"n": len(v), "mean": float(np.mean(v)), "sd": float(np.std(v)), "max": float(np.max(v)),
                     "threshold": threshold(v), "values": [round(x, 4) for x in v],
                     "sources": sorted({s for _, s in pairs})}
    return out


def save_null(null: dict, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(null, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def load_null(path: str | Path) -> dict[str, dict]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: null distribution file not found") from None
    except json.JSONDecodeError as exc:
        raise ProvenanceError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    for kind, ref in data.items():
        if not isinstance(ref, dict) or not isinstance(ref.get("threshold"), (int, float)):
            raise ProvenanceError(f"{path}: {kind}: missing numeric threshold")
    return data
