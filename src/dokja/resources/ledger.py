"""The ledger's rules as pure functions over entries: open it from the programme file, follow a decision, and
read what each holder has on a day.

GPUs only ever move between holders or come new out of the budget: an eliminated team's GPUs go to the pool
(entry for entry, so the totals do not change), and growth takes from the pool before it takes new GPUs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

from ..programme.resources import GPU_TYPES, Resources
from .records import JOINT, OWN, POOL, TALENT, Entry, Holding, Outcomes, ResourcesError, Totals

DATA = {JOINT: "joint_data", OWN: "own_data", TALENT: "talent"}
CSV_HEADER = ("holder", "kind", "resource", "amount", "unit", "effective", "step", "stage", "decision", "reason")


def initial_entries(programme) -> list[Entry]:
    """Each team's initial support, as `[[resources.allocations]]` gives it; a lessor's GPUs start on its date."""
    rules: Resources = programme.resources
    out = []
    for a in rules.allocations:
        start = _gpu_day(rules, a.team, a.since)
        if a.gpus:
            why = "initial allocation · 초기 지원"
            if start > a.since:
                why = (f"initial allocation; a GPU lessor receives none before {start} · "
                       f"초기 지원 (GPU 임대 사업자: {start}부터)")
            out.append(Entry(a.team, "gpu", a.gpu, a.gpus, start, why, "initial"))
        for resource, amount in ((JOINT, a.joint_data), (OWN, a.own_data), (TALENT, a.talent)):
            if amount:
                out.append(Entry(a.team, "talent" if resource == TALENT else "data", resource, amount, a.since,
                                 "initial allocation · 초기 지원", "initial"))
    return out


def holdings(entries: Iterable[Entry], on: dt.date | None = None,
             types: dict[str, float] = GPU_TYPES) -> dict[str, Holding]:
    """Each holder's holdings on a day (none: everything entered, whatever its date); teams by id, the pool last."""
    gpus: dict[str, Counter] = defaultdict(Counter)
    rest: dict[str, Counter] = defaultdict(Counter)
    for e in entries:
        if on is not None and e.effective > on:
            continue
        (gpus if e.kind == "gpu" else rest)[e.holder][e.resource] += e.amount
    out = {}
    for holder in sorted((set(gpus) | set(rest)) - {POOL}) + [POOL]:  # a holder with nothing left still appears
        held = {g: n for g, n in sorted(gpus[holder].items()) if n}
        unknown = sorted(set(held) - set(types))
        if unknown:
            raise ResourcesError(f"unknown GPU type {unknown[0]!r} in the ledger; add it to `[resources.gpu_types]`")
        out[holder] = Holding(holder, held, sum(n * types[g] for g, n in held.items()),
                              **{attr: rest[holder][resource] for resource, attr in DATA.items()})
    return out


def totals(entries: Sequence[Entry], rules: Resources, on: dt.date | None = None) -> Totals:
    """Teams and pool against the budget, on a day (none: everything entered)."""
    held = holdings(entries, on, rules.gpu_types)
    teams = [h for k, h in held.items() if k != POOL]
    b = rules.budget
    return Totals(on=on, teams_h100e=sum(h.h100e for h in teams), pool_h100e=held[POOL].h100e,
                  budget_h100e=b.gpus, joint_data=sum(h.joint_data for h in teams), budget_joint_data=b.joint_data,
                  own_data=sum(h.own_data for h in teams), talent=sum(h.talent for h in teams),
                  budget_talent=b.talent)


def periods(entries: Iterable[Entry]) -> list[dt.date]:
    """The days the ledger changes on: each starts a period."""
    return sorted({e.effective for e in entries})


def after_decision(entries: Sequence[Entry], outcomes: Outcomes, rules: Resources,
                   decided_on: dt.date) -> list[Entry]:
    """The entries a decision adds: eliminated teams' GPUs back to the pool (their data kept), survivors grown
    in rank order within the budget, admitted teams given a survivor's allocation — all from `decided_on` +
    `return_days`. What `entries` already holds of this decision is not added again."""
    on = decided_on + dt.timedelta(days=rules.return_days)
    done = {(e.step, e.holder) for e in entries if e.decision == outcomes.decision and e.stage == outcomes.stage
            and e.step != "initial"}
    new: list[Entry] = []
    if not any(step in ("eliminated", "advanced") for step, _ in done):
        for team, outcome in outcomes.teams.items():
            if outcome == "eliminated":
                new += _returns([*entries, *new], team, outcomes, rules, on)
        new += _growth([*entries, *new], outcomes, rules, on)
    for team in outcomes.admitted:
        if ("admitted", team) not in done:
            new += _admit([*entries, *new], team, outcomes, rules, on)
    return new


def _returns(entries: list[Entry], team: str, outcomes: Outcomes, rules: Resources, on: dt.date) -> list[Entry]:
    mine = [e for e in entries if e.holder == team]
    held = _held(mine, team, rules)
    mark = {"step": "eliminated", "stage": outcomes.stage, "decision": outcomes.decision}
    out = []
    for gpu, n in held.gpus.items():
        day = max([on] + [e.effective for e in mine if e.kind == "gpu" and e.resource == gpu])
        out += [Entry(team, "gpu", gpu, -n, day, f"eliminated at stage {outcomes.stage}: GPUs return to the pool · "
                      f"{outcomes.stage} 단계 탈락: GPU 반납", **mark),
                Entry(POOL, "gpu", gpu, n, day, f"returned by {team} (eliminated at stage {outcomes.stage}) · "
                      f"{team} 반납", **mark)]
    if rules.talent_stops and held.talent:
        day = max([on] + [e.effective for e in mine if e.kind == "talent"])
        out.append(Entry(team, "talent", TALENT, -held.talent, day, f"eliminated at stage {outcomes.stage}: talent "
                         f"support stops · {outcomes.stage} 단계 탈락: 인재 지원 종료", **mark))
    return out


def _growth(entries: list[Entry], outcomes: Outcomes, rules: Resources, on: dt.date) -> list[Entry]:
    rule = next((g for g in rules.growth if g.stage == outcomes.stage), None)
    if rule is None:
        return []
    new: list[Entry] = []
    for team in (t for t, outcome in outcomes.teams.items() if outcome == "advance"):
        held = _held([*entries, *new], team, rules)
        gpu = rule.gpu or _main_type(held)
        target = rule.gpus * rules.gpu_types[rule.gpu] if rule.gpus else held.h100e * rule.multiplier
        count = math.floor((target - held.h100e) / rules.gpu_types[gpu] + 1e-9)
        if count > 0:
            new += _grant([*entries, *new], team, gpu, count, _gpu_day(rules, team, on), rules, outcomes,
                          "advanced")
    return new


def _admit(entries: list[Entry], team: str, outcomes: Outcomes, rules: Resources, on: dt.date) -> list[Entry]:
    """Top the admitted team up to the median survivor's allocation (by H100-equivalents), type for type."""
    survivors = [t for t, outcome in outcomes.teams.items() if outcome == "advance"]
    if not survivors:
        raise ResourcesError(f"stage {outcomes.stage}: no team advanced, so there is no survivor's allocation "
                             f"to give {team}")
    held = {t: _held(entries, t, rules) for t in [*survivors, team]}
    model = held[sorted(survivors, key=lambda t: (held[t].h100e, t))[(len(survivors) - 1) // 2]]
    mine = held[team]
    new: list[Entry] = []
    for gpu, n in model.gpus.items():
        if n > mine.gpus.get(gpu, 0):
            new += _grant([*entries, *new], team, gpu, n - mine.gpus.get(gpu, 0), _gpu_day(rules, team, on),
                          rules, outcomes, "admitted")
    for resource, attr in DATA.items():
        want = getattr(model, attr) - getattr(mine, attr)
        amount = min(want, _room(entries, rules, attr))
        if amount > 0:
            new.append(Entry(team, "talent" if resource == TALENT else "data", resource, amount, on,
                             f"admitted by the repechage at stage {outcomes.stage}: a survivor's allocation · "
                             f"{outcomes.stage} 단계 추가 선정: 통과 팀과 같은 지원", "admitted", outcomes.stage,
                             outcomes.decision))
    return new


def _grant(entries: list[Entry], team: str, gpu: str, count: int, day: dt.date, rules: Resources,
           outcomes: Outcomes, step: str) -> list[Entry]:
    """`count` GPUs for a team: first those back in the pool, then new ones while the budget lasts."""
    mark = {"step": step, "stage": outcomes.stage, "decision": outcomes.decision}
    what = {"advanced": (f"advanced at stage {outcomes.stage}: GPUs grow", f"{outcomes.stage} 단계 통과: GPU 증설"),
            "admitted": (f"admitted by the repechage at stage {outcomes.stage}: a survivor's allocation",
                         f"{outcomes.stage} 단계 추가 선정: 통과 팀과 같은 지원")}[step]
    taken = min(count, _pool_free(entries, gpu, day))
    headroom = totals(entries, rules).headroom_h100e
    fresh = count - taken if headroom is None else min(count - taken, math.floor(headroom / rules.gpu_types[gpu]
                                                                                  + 1e-9))
    out = []
    if taken:
        out += [Entry(team, "gpu", gpu, taken, day, f"{what[0]} (from the pool) · {what[1]} (회수분 재배분)", **mark),
                Entry(POOL, "gpu", gpu, -taken, day, f"to {team} ({what[0]}) · {team}에 재배분", **mark)]
    if fresh > 0:
        out.append(Entry(team, "gpu", gpu, fresh, day, f"{what[0]} (new) · {what[1]} (신규)", **mark))
    return out


def _pool_free(entries: list[Entry], gpu: str, day: dt.date) -> int:
    """GPUs of a type the pool holds on `day` and keeps on every later day (later entries may draw on it)."""
    pool = sorted((e for e in entries if e.holder == POOL and e.resource == gpu), key=lambda e: e.effective)
    level = sum(e.amount for e in pool if e.effective <= day)
    free = level
    for e in (e for e in pool if e.effective > day):
        level += e.amount
        free = min(free, level)
    return max(free, 0)


def _room(entries: list[Entry], rules: Resources, attr: str) -> float:
    cap = {"joint_data": rules.budget.joint_data, "own_data": None, "talent": rules.budget.talent}[attr]
    return math.inf if cap is None else cap - getattr(totals(entries, rules), attr)


def _held(entries: list[Entry], team: str, rules: Resources) -> Holding:
    return holdings(entries, types=rules.gpu_types).get(team) or Holding(team)


def _main_type(held: Holding) -> str:
    return max(held.gpus.items(), key=lambda kv: (kv[1], kv[0]))[0] if held.gpus else "H100"


def _gpu_day(rules: Resources, team: str, day: dt.date) -> dt.date:
    """A lessor holds no programme GPUs before its date."""
    until = next((x.until for x in rules.lessors if x.team == team), None)
    return max(day, until) if until else day


def csv_text(entries: Iterable[Entry]) -> str:
    """The ledger as CSV: a header row, then one line per entry, in the order entered."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow([e.holder, e.kind, e.resource, e.amount, e.unit, e.effective.isoformat(), e.step,
                         e.stage or "", "" if e.decision is None else e.decision, e.reason])
    return out.getvalue()

