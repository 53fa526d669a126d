"""The expert panel: reviewers, conflicts of interest, assignment, scores, agreement and expert points.

Pure logic (conflicts, assign, agreement, severity, points) over the records in `records`; the store at the
edges (`people` for reviewers and conflicts, `service` for a stage's panel).
"""

from .errors import PanelError
from .people import check_conflicts, declare_conflict, dismiss_conflict, import_reviewers, register_reviewer
from .points import expert_points, panel_result
from .records import PanelResult, PanelScores
from .reviewers import ReviewerEntry, parse_reviewers, read_reviewers
from .service import (Imported, assign_panel, assigned_teams, close_panel, commitment, enter_score, import_scores,
                      own_scores, panel_scores, panel_status, rubric)

__all__ = ["Imported", "PanelError", "PanelResult", "PanelScores", "ReviewerEntry", "assign_panel",
           "assigned_teams", "check_conflicts", "close_panel", "commitment", "declare_conflict", "dismiss_conflict",
           "enter_score", "expert_points", "import_reviewers", "import_scores", "own_scores", "panel_result",
           "panel_scores", "panel_status", "parse_reviewers", "read_reviewers", "register_reviewer", "rubric"]
