"""Which models fight in the arena: the active teams' submitted models and the frontier references.

The active stage is the first one still open (else the last); its submissions are the teams still
in the programme. Backends load lazily, once per process, and models that share a checkpoint
location share one loaded copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import schema as db


@dataclass(frozen=True)
class Contender:
    """A model in the arena and who stands behind it (shown only after the vote)."""

    name: str
    location: str
    chat: bool
    owner: str
    owner_ko: str
    kind: str  # "team" or "reference"

    @property
    def makers(self) -> list[str]:
        return [m for m in {self.owner, self.owner_ko} if m]


def active_stage(session: Session) -> db.Stage | None:
    programme = session.scalars(select(db.Programme).order_by(db.Programme.id.desc())).first()
    if programme is None or not programme.stages:
        return None
    stages = sorted(programme.stages, key=lambda s: s.date)
    return next((s for s in stages if s.status == "open"), stages[-1])


def load_contenders(session: Session) -> list[Contender]:
    """The arena's field, in name order: one entry per model, a team's entry winning over a reference's."""
    stage = active_stage(session)
    if stage is None:
        return []
    found: dict[str, Contender] = {}
    refs = session.scalars(select(db.Reference).where(db.Reference.programme_id == stage.programme_id))
    for ref in refs:
        if ref.model is not None:
            m = ref.model
            found[m.name] = Contender(m.name, m.location, m.chat, ref.vendor, "", "reference")
    for sub in session.scalars(select(db.Submission).where(db.Submission.stage_id == stage.id)):
        m = sub.model
        found[m.name] = Contender(m.name, m.location, m.chat, sub.team.name, sub.team.name_ko, "team")
    return [found[k] for k in sorted(found)]


class Backends:
    """Loaded models, keyed by checkpoint location; each loads on first use, and the chat template is chosen
    per answer (see ``stream.stream_text``), so two entries of one checkpoint share one copy."""

    def __init__(self, cache: Path = Path(".dokja")):
        self.cache = cache
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, contender: Contender):
        key = contender.location
        with self._lock:
            backend = self._loaded.get(key)
            if backend is None:
                from ..models import open_backend

                backend = self._loaded[key] = open_backend(contender.location, name=contender.name,
                                                           chat=True, cache=self.cache)
            return backend

    def loaded(self) -> int:
        return len(self._loaded)
