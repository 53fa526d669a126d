"""The leaderboard chart: each model's rating as a dot on its interval, as hand-made inline SVG."""

from __future__ import annotations

import math
from html import escape

ROW_H, LEFT, RIGHT, TOP, WIDTH = 26, 190, 24, 28, 720


def rating_chart(rows) -> str:
    """Rows best first (``model``, ``rating``, ``lower``, ``upper``); an empty string when there are none."""
    rows = [(r, where) for r in rows if (where := _place(r)) is not None]
    if not rows:
        return ""
    lows = [r.lower for r, _ in rows if math.isfinite(r.lower)] + [w for _, w in rows]
    highs = [r.upper for r, _ in rows if math.isfinite(r.upper)] + [w for _, w in rows]
    lo, hi = min(lows), max(highs)
    pad = max((hi - lo) * 0.05, 5.0)
    lo, hi = lo - pad, hi + pad
    span = WIDTH - LEFT - RIGHT

    def x(v: float) -> float:
        return LEFT + (min(max(v, lo), hi) - lo) / (hi - lo) * span

    height = TOP + ROW_H * len(rows) + 10
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'aria-label="ratings with 95% intervals / 95% 신뢰구간과 레이팅">']
    step = _tick_step(hi - lo)
    tick = math.ceil(lo / step) * step
    while tick <= hi:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 6}" x2="{x(tick):.1f}" y2="{height - 10}" class="grid"/>'
                     f'<text x="{x(tick):.1f}" y="{TOP - 10}" class="tick">{tick:.0f}</text>')
        tick += step
    for k, (r, where) in enumerate(rows):
        y = TOP + ROW_H * k + ROW_H / 2
        lower = r.lower if math.isfinite(r.lower) else lo
        upper = r.upper if math.isfinite(r.upper) else hi
        said = {"above": f"≥ {where:.1f}", "below": f"≤ {where:.1f}"}.get(r.unbounded, f"{where:.1f}")
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" class="label">{escape(r.model)}</text>'
                     f'<line x1="{x(lower):.1f}" y1="{y:.1f}" x2="{x(upper):.1f}" y2="{y:.1f}" class="ci"/>'
                     f'<circle cx="{x(where):.1f}" cy="{y:.1f}" r="5" class="dot{" bound" if r.unbounded else ""}">'
                     f'<title>{escape(r.model)}: {said} [{lower:.1f}, {upper:.1f}]</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _place(r) -> float | None:
    """Where a model's dot goes: its rating, or for a model that never lost (won) its finite bound."""
    if math.isfinite(r.rating):
        return r.rating
    bound = r.lower if r.unbounded == "above" else r.upper if r.unbounded == "below" else math.nan
    return bound if math.isfinite(bound) else None


def _tick_step(span: float) -> float:
    raw = span / 6
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
