"""The gates beside the points, as pure functions over structured evidence: the one place each rule lives."""

from __future__ import annotations

from .records import Evidence, Gate


def independence_gate(evidence: Evidence, *, require: bool = False) -> Gate:
    """From-scratch or not, from three sources: an exact checkpoint-hash match with a reference fails; the
    standing provenance outcome (a reviewer's ruling over the automatic verdict) fails if it says derived; the
    reviewers' findings row fails if it says so. With ``require``, a team with no evidence at all fails."""
    notes, passed = [], True
    if evidence.hash_match:
        notes.append(f"checkpoint SHA-256 identical to frontier reference {evidence.hash_match}")
        passed = False
    prov = evidence.provenance
    if prov is not None:
        notes.append(f"provenance: {prov.summary}")
        notes += [f"reviewer{' ' + n.reviewer if n.reviewer else ''}: {n.note}" for n in prov.notes]
        if prov.passed is False:
            passed = False
    if evidence.ruling is not None:
        if evidence.ruling.note:
            notes.append(evidence.ruling.note)
        passed = passed and evidence.ruling.passed
    if not notes and evidence.ruling is None:
        if require:
            return Gate(passed=False, note="no independence evidence recorded (the programme requires it)")
        return Gate(passed=True, note="no finding recorded")
    return Gate(passed=passed, note="; ".join(notes))


def safety_gate(suite: str, score: float | None, floor: float) -> Gate:
    if score is None:
        return Gate(passed=False, note=f"{suite} not evaluated")
    passed = score >= floor
    return Gate(passed=passed, note=f"{suite} {score:.3f} {'≥' if passed else '<'} {floor:.3f}")
