"""Charts for the stage report: matplotlib figures turned into inline SVG strings.

Text stays text (``svg.fonttype = 'none'``) so the reader's browser draws Hangul with
its own fonts; matplotlib itself may have no Korean font, so we never let it decide
the layout from text it measured. Margins come from :func:`text_width_pt`, a
deliberately pessimistic estimate, and legends live in the HTML page, where the
browser lays them out.

Output is deterministic (fixed hash salt, no date metadata): the same stage data
gives byte-identical SVG, which keeps reports diffable and recomputable.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import sys
import unicodedata
import warnings
from contextlib import contextmanager
from html import escape
from typing import Any, Iterable, Iterator, Mapping, Sequence

import matplotlib

if "matplotlib.pyplot" not in sys.modules:  # headless; don't fight a backend someone chose
    matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator  # noqa: E402

__all__ = [
    "COMPONENTS",
    "FONT_FAMILY",
    "TEAM_COLOURS",
    "frontier_timeline",
    "points_chart",
    "ratio_chart",
    "team_colour",
    "text_width_pt",
]

#: Fonts that carry Hangul, most likely first; the page's CSS uses the same list.
FONT_FAMILY = ["Noto Sans CJK KR", "Nanum Gothic", "Malgun Gothic", "Apple SD Gothic Neo", "sans-serif"]

#: Scoring components in display order: key, English, Korean, colour.
COMPONENTS: list[tuple[str, str, str, str]] = [
    ("ministry", "Ministry suites", "부처 지정", "#1d3f6e"),
    ("global_common", "Global common", "글로벌 공통", "#3f72a8"),
    ("global_individual", "Global individual", "글로벌 개별", "#93b7dc"),
    ("expert", "Expert panel", "전문가 평가", "#4f8a6b"),
    ("user", "User evaluation", "사용자 평가", "#d4a24a"),
]
_LIGHT = {"global_individual", "user"}  # segments that need dark text

#: Okabe–Ito based: distinguishable for the common colour-vision deficiencies.
TEAM_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7A7A7A", "#B8A500"]

INK, MUTED, GRID, ALERT = "#1f2933", "#616e7c", "#e4e7eb", "#b42318"
FIG_WIDTH_IN = 9.0
EMPTY = "—"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "dokja-report",
    "font.family": FONT_FAMILY,
    "font.sans-serif": ["DejaVu Sans"],  # ships with matplotlib: used only to measure
    "font.size": 10,
    "text.color": INK,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": INK,
    "axes.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "xtick.labelcolor": MUTED,
    "ytick.labelcolor": INK,
    "hatch.color": "#ffffff",
    "hatch.linewidth": 1.2,
}


def team_colour(index: int) -> str:
    """Colour of the team shown at ``index`` (same in every chart and legend)."""
    return TEAM_COLOURS[index % len(TEAM_COLOURS)]


def text_width_pt(text: str, size: float) -> float:
    """Pessimistic width of one line of text in points.

    Wide (Hangul, CJK) characters take a full em, everything else ~0.62 em; the
    browser's real fonts are narrower, so labels never get clipped.
    """
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.62 for ch in text)
    return ems * size


def _label_width_pt(labels: Iterable[str], size: float) -> float:
    return max((text_width_pt(line, size) for s in labels for line in s.split("\n")), default=0.0)


def _plain(text: Any, limit: int | None = None) -> str:
    """A label matplotlib shows literally: no mathtext from a stray ``$``, truncated."""
    s = " ".join(str(text if text is not None else "").split())
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s.replace("$", r"\$")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _gates_failed(team: Mapping[str, Any]) -> list[str]:
    gates = team.get("gates") or {}
    return [name for name, g in gates.items() if isinstance(g, Mapping) and g.get("passed") is False]


_GATE_LABELS = {"independence": ("Independence", "독자성"), "safety": ("Safety", "안전성")}


def gate_label(name: str) -> tuple[str, str]:
    """English and Korean name of a gate (unknown gates keep their key in both)."""
    return _GATE_LABELS.get(name, (name.replace("_", " ").capitalize(), name))


@contextmanager
def _quiet_matplotlib() -> Iterator[None]:
    """Silence matplotlib's complaints about fonts it lacks; the browser has them."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from", category=UserWarning)
            warnings.filterwarnings("ignore", message=r".*findfont", category=UserWarning)
            with matplotlib.rc_context(_RC):
                yield
    finally:
        logger.setLevel(level)


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(FIG_WIDTH_IN, height_in))
    fig.patch.set_alpha(0)
    return fig


def _to_svg(fig: Figure, chart_id: str, title: str) -> str:
    """Serialise ``fig`` as an ``<svg>`` element fit to sit inline in HTML.

    Drops the XML prolog, metadata (it names an external URL) and fixed size so CSS
    can scale it; prefixes element ids so several charts can share one page.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="none")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\sid="([^"]+)"', rf' id="{chart_id}-\1"', svg)
    svg = re.sub(r'((?:xlink:)?href=")#', rf"\1#{chart_id}-", svg)
    svg = svg.replace("url(#", f"url(#{chart_id}-")
    svg = svg.replace('<style type="text/css">*{', f'<style type="text/css">#{chart_id} *{{', 1)
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    head = re.sub(r'\s(?:width|height|xmlns(?::\w+)?|version)="[^"]*"', "", head)
    head = head.replace(
        "<svg", f'<svg id="{chart_id}" class="chart-svg" role="img" aria-label="{escape(title)}"', 1
    )
    return f"{head}\n<title>{escape(title)}</title>{svg[head_end:]}".strip()


def _team_label(team: Mapping[str, Any], limit: int = 28) -> str:
    rank = team.get("rank")
    head = f"{rank}." if isinstance(rank, int) and not isinstance(rank, bool) else EMPTY
    name = _plain(team.get("name") or team.get("id") or "?", limit)
    ko = _plain(team.get("name_ko"), limit)
    return f"{head}  {name}" + (f"\n{ko}" if ko else "")


def _plot_axes(fig, left_pt: float, bottom_in: float, plot_in: float, height: float):
    """Axes that leave `left_pt` for row labels and `bottom_in` below, `plot_in` tall, full width otherwise."""
    left = left_pt / (FIG_WIDTH_IN * 72)
    return fig.add_axes((left, bottom_in / height, 1 - left - 0.02, plot_in / height))


def _open_frame(ax, **grid) -> None:
    """The bar charts' frame: a light vertical grid behind the bars, no spines but the baseline."""
    ax.grid(axis="x", color=GRID, linewidth=0.8, **grid)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def points_chart(
    teams: Sequence[Mapping[str, Any]],
    scheme: Mapping[str, Any],
    keep: int | None = None,
) -> str:
    """Stacked horizontal bars of points by component, one row per team.

    ``teams`` are drawn in the order given (the report passes rank order with
    eliminated teams last). A dashed line marks the cut-off after the advancing
    teams; gate failures get hatched bars, a red ✕ marker and a caption, so the
    reason shows without relying on colour.
    """
    n = len(teams)
    if n == 0:
        return ""
    labels = [_team_label(t) for t in teams]
    max_points = sum(_num(scheme.get(k)) or 0.0 for k, *_ in COMPONENTS) or 100.0
    totals = [_num(t.get("total")) for t in teams]  # as decided; a missing total shows "—", never a sum
    stacked = [sum(_num((t.get("points") or {}).get(k)) or 0.0 for k, *_ in COMPONENTS) for t in teams]
    x_max = max([max_points] + [v for v in totals + stacked if v is not None]) * 1.13

    row_in, top_in, bottom_in = 0.66, 0.3, 0.62
    height = n * row_in + top_in + bottom_in
    left_pt = min(max(_label_width_pt(labels, 10) + 16, 96), FIG_WIDTH_IN * 72 * 0.42)
    with _quiet_matplotlib():
        fig = _figure(height)
        ax = _plot_axes(fig, left_pt, bottom_in, n * row_in, height)
        bar_h = 0.5
        for i, team in enumerate(teams):
            pts = team.get("points") or {}
            failed = _gates_failed(team)
            left = 0.0
            for key, _en, _ko, colour in COMPONENTS:
                value = _num(pts.get(key))
                if not value or value <= 0:
                    continue
                ax.barh(
                    i, value, left=left, height=bar_h, color=colour,
                    alpha=0.55 if failed else 1.0, hatch="////" if failed else None,
                    edgecolor="white", linewidth=0.6,
                )
                if value >= 4.5:
                    ax.text(
                        left + value / 2, i, f"{value:.1f}", ha="center", va="center", fontsize=8,
                        color=INK if key in _LIGHT or failed else "white",
                    )
                left += value
            total = totals[i]
            end = left
            if failed:
                ax.plot(end + 1.8, i, marker="X", markersize=9, color=ALERT, markeredgecolor="white",
                        markeredgewidth=0.8, linestyle="none")
                end += 3.6
                names = ", ".join(f"{gate_label(g)[0]} · {gate_label(g)[1]}" for g in failed)
                ax.text(0, i + bar_h / 2 + 0.06, f"✕ Gate failed · 게이트 미통과: {_plain(names)}",
                        ha="left", va="top", fontsize=8, color=ALERT)
            ax.text(end + 1.0, i, EMPTY if total is None else f"{total:.1f}", ha="left", va="center",
                    fontsize=10, fontweight="bold", color=INK)

        n_adv = sum(1 for t in teams if t.get("outcome") == "advance")
        if 0 < n_adv < n:
            ax.axhline(n_adv - 0.5, color=MUTED, linestyle=(0, (4, 3)), linewidth=1)
            cut = f"Cut-off · 선발 기준선 (top {keep} advance · 상위 {keep}팀 진출)" if keep else "Cut-off · 선발 기준선"
            ax.text(x_max, n_adv - 0.53, cut, ha="right", va="bottom", fontsize=8, color=MUTED)

        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, x_max)
        ax.set_yticks(range(n), labels)
        ax.tick_params(axis="y", length=0, pad=8)
        ax.xaxis.set_major_locator(MultipleLocator(10 if max_points <= 150 else 50))
        _open_frame(ax)
        ax.set_xlabel(f"Points · 점수 (max {max_points:g} · 만점 {max_points:g})", fontsize=9, color=MUTED)
        return _to_svg(fig, "chart-points", "Points by component per team · 팀별 부문 점수")


def ratio_chart(
    teams: Sequence[Mapping[str, Any]],
    suites: Sequence[Mapping[str, Any]],
    target: float | None = 0.95,
) -> str:
    """Grouped horizontal bars: each team's ratio to the frontier, one group per suite.

    A dashed line marks the programme target and a solid one the frontier itself
    (100%); bars carry their value so the chart reads without the colour legend.
    A suite a team did not run shows "— not run" instead of a bar.
    """
    n_t, n_s = len(teams), len(suites)
    if n_t == 0 or n_s == 0:
        return ""
    labels = []
    for s in suites:
        en = _plain(s.get("title_en") or s.get("id"), 30)
        ko = _plain(s.get("title_ko"), 30)
        labels.append(en + (f"\n{ko}" if ko and ko != en else ""))

    ratios = [[_num(((t.get("suite_scores") or {}).get(s.get("id")) or {}).get("ratio")) for t in teams] for s in suites]
    seen = [r for row in ratios for r in row if r is not None]
    x_max = max([1.2] + [r + 0.14 for r in seen])
    x_max = math.ceil(x_max * 10) / 10

    bar_h = min(0.72 / n_t, 0.26)
    group_in = max(0.75, n_t * bar_h * 0.62 + 0.34)
    top_in, bottom_in = 0.42, 0.62
    height = n_s * group_in + top_in + bottom_in
    left_pt = min(max(_label_width_pt(labels, 10) + 16, 96), FIG_WIDTH_IN * 72 * 0.42)
    with _quiet_matplotlib():
        fig = _figure(height)
        ax = _plot_axes(fig, left_pt, bottom_in, n_s * group_in, height)
        for g, suite in enumerate(suites):
            if g % 2:
                ax.axhspan(g - 0.5, g + 0.5, color="#f3f5f7", zorder=0, linewidth=0)
            has_ref = _num((suite.get("frontier_best") or {}).get("score")) is not None
            for j, team in enumerate(teams):
                y = g + (j - (n_t - 1) / 2) * bar_h
                r = ratios[g][j]
                if r is None:
                    ax.text(0.01, y, "— not run · 미실시" if has_ref else "— no reference · 기준 없음",
                            ha="left", va="center", fontsize=7, color=MUTED, style="italic")
                    continue
                colour = team.get("colour") or team_colour(j)
                ax.barh(y, max(r, 0.0), height=bar_h * 0.86, color=colour, zorder=2, linewidth=0)
                ax.text(max(r, 0.0) + 0.008, y, f"{r * 100:.1f}%", ha="left", va="center", fontsize=7,
                        color=INK, zorder=5,  # above the target line, on a white chip
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})

        ax.axvline(1.0, color="#52606d", linewidth=1, zorder=1)
        ax.text(1.0, 1.005, " Frontier · 프런티어 100%", transform=ax.get_xaxis_transform(),
                ha="left", va="bottom", fontsize=8, color="#52606d")
        if target is not None and _num(target) is not None:
            ax.axvline(target, color=ALERT, linestyle=(0, (5, 3)), linewidth=1.4, zorder=4)
            ax.text(target, 1.005, f"Target · 목표 {round(target * 100, 6):g}% ", transform=ax.get_xaxis_transform(),
                    ha="right", va="bottom", fontsize=8, color=ALERT, fontweight="bold")

        ax.set_ylim(n_s - 0.5, -0.5)
        ax.set_xlim(0, x_max)
        ax.set_yticks(range(n_s), labels)
        ax.tick_params(axis="y", length=0, pad=8)
        ax.xaxis.set_major_locator(MultipleLocator(0.2))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%"))
        _open_frame(ax, zorder=0)
        ax.set_xlabel("Ratio to the best eligible frontier model · 최고 적격 프런티어 모델 대비 비율",
                      fontsize=9, color=MUTED)
        return _to_svg(fig, "chart-ratios", "Frontier ratio per suite · 벤치마크별 프런티어 대비 비율")


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def frontier_timeline(
    frontier: Sequence[Mapping[str, Any]],
    window_start: Any,
    stage_date: Any,
) -> str:
    """Release dates of the frontier references against the eligibility window.

    Shows the "moving target": filled dots fall inside the window and count, hollow
    ones are too old. Labels are stacked on levels so close dates don't collide.
    """
    start, end = _date(window_start), _date(stage_date)
    refs = sorted(
        ((d, r) for r in frontier if (d := _date(r.get("released"))) is not None), key=lambda p: p[0]
    )
    if not refs or start is None or end is None:
        return ""
    lo = min(refs[0][0], start) - dt.timedelta(days=50)
    hi = max(refs[-1][0], end) + dt.timedelta(days=80)  # room for the stage-date label
    span_days = (hi - lo).days
    axes_pt = FIG_WIDTH_IN * 72 * 0.94

    levels: list[float] = []  # right edge (in days from lo) of the last label on each level
    placed = []
    for d, ref in refs:
        text = f"{_plain(ref.get('name'), 32)}\n{d.isoformat()}"
        half = _label_width_pt([text], 8) / 2 / axes_pt * span_days + 4
        x = (d - lo).days
        level = next((k for k, edge in enumerate(levels) if x - half > edge), None)
        if level is None:
            levels.append(0.0)
            level = len(levels) - 1
        levels[level] = x + half
        placed.append((d, ref, text, level))
    n_levels = max(len(levels), 1)

    height = 1.0 + 0.5 * n_levels
    with _quiet_matplotlib():
        fig = _figure(height)
        ax = fig.add_axes((0.03, 0.42 / height, 0.94, 1 - 0.62 / height))
        ax.axvspan(start, end, color="#e3edf7", linewidth=0, zorder=0)
        ax.text(start, 0.98, "  Eligibility window · 기준 기간", transform=ax.get_xaxis_transform(),
                ha="left", va="top", fontsize=8, color="#1d3f6e")
        ax.axvline(end, color=INK, linewidth=1.2, zorder=1)
        ax.text(end, 0.98, f" Stage date · 평가일\n {end.isoformat()}", transform=ax.get_xaxis_transform(),
                ha="left", va="top", fontsize=8, color=INK)
        ax.axhline(0, color="#9aa5b1", linewidth=1, zorder=1)
        for d, ref, text, level in placed:
            y = 0.6 + level * 0.9
            eligible = ref.get("eligible") is True
            colour = "#1d3f6e" if eligible else "#9aa5b1"
            ax.plot([d, d], [0, y - 0.12], color=colour, linewidth=0.8, zorder=2)
            ax.plot(d, 0, marker="o", markersize=8, zorder=3, linestyle="none",
                    markerfacecolor=colour if eligible else "white", markeredgecolor=colour, markeredgewidth=1.6)
            ax.text(d, y, text, ha="center", va="bottom", fontsize=8, color=INK if eligible else MUTED,
                    linespacing=1.15)
        ax.set_xlim(lo, hi)
        ax.set_ylim(-0.4, 0.6 + n_levels * 0.9 + 0.5)
        ax.yaxis.set_visible(False)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="x", length=3)
        return _to_svg(fig, "chart-frontier", "Frontier references and the eligibility window · 프런티어 기준 모델과 기준 기간")


@contextmanager
def rows_figure(labels: Sequence[str], row_in: float) -> Iterator[tuple[Figure, Any]]:
    """A quiet figure with one row per label: room on the left for the labels, `row_in` inches per row."""
    top_in, bottom_in = 0.3, 0.62
    height = len(labels) * row_in + top_in + bottom_in
    left_pt = min(max(_label_width_pt(labels, 9) + 16, 96), FIG_WIDTH_IN * 72 * 0.45)
    with _quiet_matplotlib():
        fig = _figure(height)
        yield fig, _plot_axes(fig, left_pt, bottom_in, len(labels) * row_in, height)


def provenance_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    """Per model and component: the similarity to the closest library model (dot), the threshold (red tick)
    and the spread of the null distribution of unrelated pairs (grey band: mean ± 2 sd, bar at its maximum).

    Rows are dicts with ``label``, ``value``, ``threshold``, ``null`` ({mean, sd, max}) and ``derived``.
    """
    rows = [r for r in rows if _num(r.get("value")) is not None]
    if not rows:
        return ""
    labels = [_plain(r.get("label"), 44) for r in rows]
    with rows_figure(labels, 0.3) as (fig, ax):
        for i, r in enumerate(rows):
            null = r.get("null") or {}
            mean, sd, top = _num(null.get("mean")), _num(null.get("sd")), _num(null.get("max"))
            if mean is not None and sd is not None:
                ax.barh(i, 4 * sd or 0.01, left=mean - 2 * sd, height=0.5, color="#d9dee3", zorder=1, linewidth=0)
            if top is not None:
                ax.plot([top, top], [i - 0.25, i + 0.25], color="#7b8794", linewidth=1.2, zorder=2)
            thr = _num(r.get("threshold"))
            if thr is not None:
                ax.plot([thr, thr], [i - 0.38, i + 0.38], color=ALERT, linewidth=2, zorder=3)
            value = _num(r.get("value"))
            colour = ALERT if r.get("derived") else "#009E73"
            ax.plot([value], [i], "o", color=colour, markersize=7, zorder=4)
            ax.text(min(value, 1.0) + 0.015, i, f"{value:.2f}", va="center", fontsize=7, color=INK, zorder=5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(min(-0.1, min(_num(r.get("value")) or 0 for r in rows) - 0.05), 1.12)
        ax.set_yticks(range(len(rows)), labels)
        ax.tick_params(axis="y", length=0, pad=8, labelsize=9)
        _open_frame(ax, zorder=0)
        ax.set_xlabel("Similarity to the closest library model · 가장 가까운 라이브러리 모델과의 유사도",
                      fontsize=9, color=MUTED)
        return _to_svg(fig, "chart-provenance", "Provenance: similarity against the null · 출처 검증: 유사도와 귀무분포")
