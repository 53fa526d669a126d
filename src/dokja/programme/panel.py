"""The programme file's `[panel]` table: the expert panel's rubric, assignment and agreement rules."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator

from .strict import Strict

SCALE_MIN, SCALE_MAX = 1, 10


class Criterion(Strict):
    """One criterion of the rubric (`[[panel.criteria]]`): its weight in expert points and what each scale
    point means, so every reviewer reads the same anchors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="short id used in score files (lower-case "
                    "letters, digits, - and _)")
    name: str = Field(description="the criterion's name in English")
    name_ko: str = Field("", description="the criterion's name in Korean")
    weight: float = Field(gt=0, description="the expert points it carries; the weights sum to `scheme.expert`")
    anchors: dict[int, str] = Field({}, description="what a score means, per scale point (e.g. 1, 4, 7, 10), "
                                    "in English")
    anchors_ko: dict[int, str] = Field({}, description="the same anchors in Korean")

    @field_validator("anchors", "anchors_ko")
    @classmethod
    def on_the_scale(cls, anchors: dict[int, str]) -> dict[int, str]:
        off = sorted(p for p in anchors if not SCALE_MIN <= p <= SCALE_MAX)
        if off:
            raise ValueError(f"anchor points {off} are off the scale {SCALE_MIN}–{SCALE_MAX}")
        return dict(sorted(anchors.items()))


def _criterion(id_: str, name: str, name_ko: str, weight: float, en: tuple[str, ...], ko: tuple[str, ...]):
    points = (1, 4, 7, 10)
    return Criterion(id=id_, name=name, name_ko=name_ko, weight=weight, anchors=dict(zip(points, en)),
                     anchors_ko=dict(zip(points, ko)))


# The first real stage's expert review: training and design process, novelty, originality (35 points), with
# the diffusion index's cost efficiency beside them.
DEFAULT_CRITERIA = (
    _criterion("process", "Training and design process", "학습 및 설계 과정", 10,
               ("no usable account of data, architecture or training", "partial account; key steps missing or "
                "unverifiable from the logs", "clear report and logs; most choices justified and reproducible",
                "complete, reproducible account; logs match the report throughout"),
               ("데이터·구조·학습에 대한 설명이 없음", "일부만 설명됨; 핵심 단계가 빠졌거나 로그로 확인할 수 없음",
                "보고서와 로그가 명확함; 대부분의 선택이 근거 있고 재현 가능함",
                "완전하고 재현 가능한 설명; 로그가 보고서와 처음부터 끝까지 일치함")),
    _criterion("novelty", "Novelty", "신규성", 10,
               ("a known recipe repeated", "small variations on known methods", "new methods with measured "
                "gains", "new methods that advance the field, with evidence"),
               ("알려진 방법의 반복", "알려진 방법의 작은 변형", "측정된 개선이 있는 새로운 방법",
                "근거와 함께 분야를 진전시키는 새로운 방법")),
    _criterion("originality", "Originality and independence", "독창성 및 독자성", 10,
               ("depends on a foreign model's weights or code", "own training, but key parts borrowed",
                "own data, architecture and training; minor borrowed tools", "built from scratch throughout with "
                "own technology"),
               ("해외 모델의 가중치나 코드에 의존함", "자체 학습이나 핵심 부분을 차용함",
                "자체 데이터·구조·학습; 부수적 도구만 차용함", "전 과정을 자체 기술로 처음부터 구축함")),
    _criterion("diffusion", "Diffusion and cost efficiency", "확산성 및 비용 효율성", 5,
               ("no plan for use; costly to serve", "some use cases; cost not addressed", "credible use and "
                "ecosystem plans; efficient for its size", "ready for wide use at home and abroad; highly "
                "cost-efficient"),
               ("활용 계획이 없고 운영 비용이 큼", "일부 활용 사례; 비용은 다루지 않음",
                "신뢰할 만한 활용·생태계 계획; 규모 대비 효율적", "국내외 폭넓은 활용 준비; 비용 효율이 매우 높음")),
)


class Panel(Strict):
    """The expert panel: the rubric reviewers score on, how reviewers are assigned to teams, and when their
    agreement is too low to rely on."""

    criteria: list[Criterion] | None = Field(None, min_length=1, description="the rubric "
                                             "(`[[panel.criteria]]`), its weights summing to `scheme.expert`; "
                                             "none: training and design process, novelty, originality and "
                                             "independence (10 points each), diffusion and cost efficiency (5), "
                                             "scaled to `scheme.expert`")
    scale_min: int = Field(SCALE_MIN, ge=SCALE_MIN, le=SCALE_MIN, description="the lowest score (fixed)")
    scale_max: int = Field(SCALE_MAX, ge=SCALE_MAX, le=SCALE_MAX, description="the highest score (fixed)")
    reviewers_per_team: int = Field(3, ge=1, description="how many reviewers score each team")
    max_probability: float = Field(1.0, gt=0, le=1, description="the highest chance any one reviewer may have "
                                   "of being assigned to a team; assignment is refused where it cannot be met")
    seed: int = Field(0, ge=0, description="the published seed of the assignment and of the agreement bootstrap")
    conflict_years: int = Field(3, ge=0, description="a reviewer's past affiliation with a team's member "
                                "organisation conflicts if it ended within this many years before the stage date")
    min_alpha: float = Field(0.667, ge=-1, le=1, description="a criterion whose Krippendorff's alpha (interval) "
                             "is below this is flagged tentative")
    severity: bool = Field(False, description="correct each reviewer's severity (additive offsets fitted over "
                           "the reviewer–team graph) in the points; the raw means are always shown beside")
    bootstrap_rounds: int = Field(1000, ge=0, description="bootstrap replicates (teams resampled) of each "
                                  "criterion's alpha interval; 0: none")

    @field_validator("criteria")
    @classmethod
    def ids_unique(cls, criteria: list[Criterion] | None) -> list[Criterion] | None:
        ids = [c.id for c in criteria or ()]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"criteria {', '.join(repeated)} listed more than once")
        return criteria

    def rubric(self, expert: float) -> tuple[Criterion, ...]:
        """The criteria scored on: the programme's own, or the default rubric scaled to `expert` points."""
        if self.criteria is not None:
            return tuple(self.criteria)
        total = sum(c.weight for c in DEFAULT_CRITERIA)
        return tuple(c.model_copy(update={"weight": c.weight * expert / total}) for c in DEFAULT_CRITERIA)

    @field_validator("bootstrap_rounds")
    @classmethod
    def none_or_enough(cls, rounds: int) -> int:
        if rounds == 1:
            raise ValueError("bootstrap_rounds must be 0 (none) or at least 2")
        return rounds
