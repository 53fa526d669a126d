"""How sure each elimination is: the report's view of the decision's bootstrap, and its chart."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .charts import ALERT, INK, MUTED, _num, _open_frame, _plain, _to_svg, rows_figure


def odds_view(raw: Any, teams: Sequence[Mapping[str, Any]], verdicts: Any) -> dict[str, Any] | None:
    """Per team (in the decision's order): P(advance), P(eliminated), the rank odds; the close calls."""
    if not isinstance(raw, Mapping):
        return None
    names = {t.get("id"): t for t in teams}
    verdicts = verdicts if isinstance(verdicts, Mapping) else {}
    rows = []
    for odds in raw.get("teams") or []:
        if not isinstance(odds, Mapping) or odds.get("team") not in names:
            continue
        team = names[odds["team"]]
        rows.append({"id": odds["team"], "name": team.get("name") or odds["team"], "name_ko": team.get("name_ko") or "",
                     "outcome": team.get("outcome"), "p_advance": _num(odds.get("p_advance")),
                     "p_eliminated": _num(odds.get("p_eliminated")),
                     "p_rank": [_num(p) for p in odds.get("p_rank") or []],
                     "verdict": verdicts.get(odds["team"], team.get("outcome") or "")})
    order = {t.get("id"): i for i, t in enumerate(teams)}
    rows.sort(key=lambda r: order.get(r["id"], 0))
    calls = [c for c in raw.get("close_calls") or [] if isinstance(c, Mapping)]
    for r in rows:
        held = r["p_advance"] if r["outcome"] == "advance" else r["p_eliminated"]
        if held is not None and held < 0.95:
            word = ("advances", "진출") if r["outcome"] == "advance" else ("is eliminated", "탈락")
            calls.append({"text": f"{r['name']} {word[0]} in only {held:.0%} of resamples · "
                                  f"재표집의 {held:.0%}에서만 {word[1]}"})
    return {"rounds": raw.get("rounds"), "seed": raw.get("seed"), "teams": rows, "close_calls": calls,
            "cut": raw.get("cut") if isinstance(raw.get("cut"), Mapping) else None}


def odds_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    """P(advance) per team as a bar from 0 to 1, with the coin-flip line at 0.5."""
    rows = [r for r in rows if r.get("p_advance") is not None]
    if not rows:
        return ""
    labels = [_plain(f"{r['name']} {r['name_ko']}".strip(), 40) for r in rows]
    with rows_figure(labels, 0.32) as (fig, ax):
        for i, r in enumerate(rows):
            p = r["p_advance"]
            ax.barh(i, p, height=0.55, color="#009E73" if r.get("outcome") == "advance" else ALERT, zorder=2)
            ax.text(min(p, 0.9) + 0.015, i, f"{p:.0%}", va="center", fontsize=8, color=INK, zorder=3)
        ax.axvline(0.5, color=MUTED, linewidth=1, linestyle=(0, (3, 3)), zorder=1)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, 1.05)
        ax.set_yticks(range(len(rows)), labels)
        ax.tick_params(axis="y", length=0, pad=8, labelsize=9)
        _open_frame(ax, zorder=0)
        ax.set_xlabel("Probability of advancing over resamples · 재표집에서 진출할 확률", fontsize=9, color=MUTED)
        return _to_svg(fig, "chart-odds", "How sure each outcome is · 결과의 확실성")
