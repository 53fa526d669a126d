"""From a closed panel's scores to expert points, pure: per team and criterion the mean (and, with the
severity correction, the corrected mean), per criterion the reviewers' agreement, and per team
points = Σ weight × (mean − scale_min) / (scale_max − scale_min)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..programme.panel import Criterion, Panel
from .agreement import agreement
from .errors import PanelError
from .records import Offset, PanelResult, PanelScores, TeamCriterion, TeamPanel
from .severity import fit


def expert_points(means: Mapping[str, float], rubric: Sequence[Criterion], scale_min: float,
                  scale_max: float) -> float:
    """The rubric's weights applied to each criterion's mean, mapped from the scale onto [0, 1]."""
    span = scale_max - scale_min
    return sum(c.weight * (means[c.id] - scale_min) / span for c in rubric)


def score_matrix(scores: PanelScores, criterion: str) -> tuple[list[str], list[str], np.ndarray]:
    """Reviewers × teams for one criterion, NaN where a reviewer did not score a team."""
    cells = [s for s in scores.scores if s.criterion == criterion]
    reviewers = sorted({s.reviewer for s in scores.scores})
    teams = sorted({s.team for s in scores.scores})
    matrix = np.full((len(reviewers), len(teams)), np.nan)
    for s in cells:
        matrix[reviewers.index(s.reviewer), teams.index(s.team)] = s.score
    return reviewers, teams, matrix


def panel_result(scores: PanelScores, panel: Panel) -> PanelResult:
    """Expert points per team, from the rubric the scores were given on; agreement and severity settings,
    the seed included, from `panel`. A team without a score on some criterion is an error, not a zero."""
    teams = sorted({s.team for s in scores.scores})
    means: dict[str, dict[str, tuple[float, int]]] = {t: {} for t in teams}
    corrected: dict[str, dict[str, float]] = {t: {} for t in teams}
    offsets, agreements = [], []
    for c in scores.rubric:
        cells = [(s.reviewer, s.team, s.score) for s in scores.scores if s.criterion == c.id]
        for t in teams:
            values = [v for _, team, v in cells if team == t]
            if not values:
                raise PanelError(f"team {t} has no score on criterion {c.id}")
            means[t][c.id] = (float(np.mean(values)), len(values))
        effects, reviewer_offsets = fit(cells)
        for t in teams:
            corrected[t][c.id] = min(max(effects[t], scores.scale_min), scores.scale_max)
        if panel.severity:
            offsets += [Offset(reviewer=r, criterion=c.id, offset=o) for r, o in reviewer_offsets.items()]
        agreements.append(agreement(c.id, score_matrix(scores, c.id)[2], min_alpha=panel.min_alpha,
                                    rounds=panel.bootstrap_rounds, seed=panel.seed))
    out = []
    for t in teams:
        raw = expert_points({c: m for c, (m, _) in means[t].items()}, scores.rubric, scores.scale_min,
                            scores.scale_max)
        fixed = expert_points(corrected[t], scores.rubric, scores.scale_min, scores.scale_max) if panel.severity \
            else None
        rows = tuple(TeamCriterion(criterion=c, mean=m, n=n, corrected=corrected[t][c] if panel.severity else None)
                     for c, (m, n) in means[t].items())
        out.append(TeamPanel(team=t, points=fixed if fixed is not None else raw, raw_points=raw,
                             corrected_points=fixed, criteria=rows))
    return PanelResult(stage=scores.stage, severity=panel.severity, teams=tuple(out), agreement=tuple(agreements),
                       offsets=tuple(offsets))
