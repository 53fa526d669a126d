"""The public results site and the office's, reviewers' and teams' pages, in the arena's server."""

from .app import create_site
from .results import StageResult, TeamRow, stage_result
from .state import SiteSettings

__all__ = ["SiteSettings", "StageResult", "TeamRow", "create_site", "stage_result"]
