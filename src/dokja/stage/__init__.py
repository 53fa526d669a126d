"""The stage decision: typed inputs gathered read-only from the store, a pure `decide`, and the office verb."""

from .decision import decide, eligible_references, gate_failures
from .gather import OfficeFiles, gather_inputs, latest_run
from .inputs import Finding, StageError, read_findings, read_points
from .record import decide_stage, replay, standing_decision
from .records import Decision, StageInputs

__all__ = ["Decision", "Finding", "OfficeFiles", "StageError", "StageInputs", "decide", "decide_stage",
           "eligible_references", "gate_failures", "gather_inputs", "latest_run", "read_findings", "read_points",
           "replay", "standing_decision"]
