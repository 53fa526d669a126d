"""Conflicts of interest, pure: a reviewer conflicts with a team they declared, or with one whose consortium
has a member organisation they work at now or left within `conflict_years` before the stage date."""

from __future__ import annotations

import datetime as dt
import unicodedata

from .records import ConflictCheck, ReviewerRecord, TeamOrganisations


def normalise(organisation: str) -> str:
    """Organisation names compared without case, spacing or Unicode width ("LG AI  Research" = "lg ai research")."""
    return "".join(unicodedata.normalize("NFKC", organisation).casefold().split())


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def affiliation_reasons(reviewer: ReviewerRecord, team: TeamOrganisations, stage_date: dt.date,
                        years: int) -> list[str]:
    """Each affiliation that ties the reviewer to one of the team's member organisations at the stage."""
    members = {normalise(o): o for o in team.organisations if normalise(o)}
    cutoff = years_before(stage_date, years)
    reasons = []
    if normalise(reviewer.affiliation) in members:
        reasons.append(f"works at {members[normalise(reviewer.affiliation)]}, a member organisation of team "
                       f"{team.team}")
    for a in reviewer.affiliations:
        org = members.get(normalise(a.organisation))
        if org is None or (a.start is not None and a.start > stage_date):
            continue
        if a.end is None or a.end >= stage_date:
            reasons.append(f"works at {org} (since {a.start or 'an unstated date'}), a member organisation of "
                           f"team {team.team}")
        elif a.end >= cutoff:
            reasons.append(f"worked at {org} until {a.end}, within {years} years before the stage date "
                           f"{stage_date}")
    return list(dict.fromkeys(reasons))


def check_pair(reviewer: ReviewerRecord, team: TeamOrganisations, stage_date: dt.date, years: int,
               dismissed: frozenset[str] = frozenset()) -> ConflictCheck:
    """One reviewer against one team: declared conflicts first, then affiliations; a reason the office
    dismissed (with its own reason, kept elsewhere) is listed apart and no longer counts."""
    reasons = [f"declared: {d.reason}" for d in reviewer.declared if d.team == team.team]
    reasons += affiliation_reasons(reviewer, team, stage_date, years)
    standing = tuple(r for r in reasons if r not in dismissed)
    gone = tuple(r for r in reasons if r in dismissed)
    clear = (f"clear: no declared conflict, and no affiliation with the team's member organisations current "
             f"or ended after {years_before(stage_date, years)}",)
    return ConflictCheck(reviewer=reviewer.pseudonym, team=team.team, conflicted=bool(standing),
                         reasons=standing or clear, dismissed=gone)
