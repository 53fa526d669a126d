"""The report's resources chart: each holder's GPUs (H100-equivalents) in each period, the pool included, as PNG.

Labels are English and plain ASCII, since the machine drawing it may have no Hangul font; the Korean text
goes in the caption returned beside the picture, which the HTML page shows.
"""

from __future__ import annotations

import io
from typing import Mapping, Sequence

from ..programme.resources import GPU_TYPES
from .ledger import holdings, periods
from .records import POOL, Chart, Entry

#: Okabe–Ito: distinguishable for the common colour-vision deficiencies; the pool is grey.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def ledger_chart(entries: Sequence[Entry], types: Mapping[str, float] = GPU_TYPES,
                 names: Mapping[str, str] | None = None) -> Chart:
    """Bars of GPUs in H100-equivalents per team and for the pool, one group per period the ledger changes in;
    `names` gives English labels (default the team ids). Same entries, same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # the Agg canvas, whatever backend is chosen
    from matplotlib.figure import Figure

    days = periods(entries)
    fig = Figure(figsize=(7.5, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    series = [holdings(entries, day, dict(types)) for day in days]
    holders = sorted({k for s in series for k in s if k != POOL}) + [POOL]
    width = 0.8 / len(holders)
    for n, holder in enumerate(holders):
        values = [s[holder].h100e if holder in s else 0.0 for s in series]
        look = {"color": "#bbbbbb", "hatch": "//", "edgecolor": "#777777"} if holder == POOL else {
            "color": COLOURS[n % len(COLOURS)]}
        label = "pool (returned)" if holder == POOL else (names or {}).get(holder, holder)
        ax.bar([i + (n - (len(holders) - 1) / 2) * width for i in range(len(days))], values, width, label=label,
               **look)
    ax.set_xticks(range(len(days)), [f"from {day}" for day in days], fontsize=8)
    if days:
        ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=min(len(holders), 4))
        ax.set_ylim(0, max((s.h100e for row in series for s in row.values()), default=0) * 1.25 or 1)
    ax.set_ylabel("GPUs (H100-equivalents)")
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    span = f"{days[0]} to {days[-1]}" if days else "no entries yet"
    span_ko = f"{days[0]} ~ {days[-1]}" if days else "기록 없음"
    return Chart(png=out.getvalue(),
                 caption_en=f"GPUs per team in H100-equivalents, per period ({span}); the hatched bar is the pool "
                            "of GPUs returned by eliminated teams.",
                 caption_ko=f"기간별 팀별 GPU (H100 환산, {span_ko}); "
                            "빗금 막대는 탈락 팀이 반납한 GPU 풀입니다.")
