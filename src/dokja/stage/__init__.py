"""The stage decision: pure functions from scores, points and findings to who advances."""

from .decision import decide, eligible_references
from .gather import stage_inputs
from .inputs import Finding, ReferenceInput, Score, StageError, TeamInput, read_findings, read_points

__all__ = ["Finding", "ReferenceInput", "Score", "StageError", "TeamInput", "decide", "eligible_references",
           "read_findings", "read_points", "stage_inputs"]
