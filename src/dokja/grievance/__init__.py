"""Grievances: publication of a decision, the filing window, the office's rulings, re-runs."""

from .errors import GrievanceError
from .office import file_grievance, finalise, publish, rule, team_grievances, timeline, waive, window
from .records import EvidenceFile, GrievanceView, Publication, Ruling, Window
from .remedy import REMEDIES, remedy
from .states import ACTIONS, ALLOWED, GROUNDS, STATES, next_state
from .window import KST, deadline

__all__ = ["ACTIONS", "ALLOWED", "GROUNDS", "KST", "REMEDIES", "STATES", "EvidenceFile", "GrievanceError",
           "GrievanceView", "Publication", "Ruling", "Window", "deadline", "file_grievance", "finalise",
           "next_state", "publish", "remedy", "rule", "team_grievances", "timeline", "waive", "window"]
