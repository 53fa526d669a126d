"""The programme file: stages, scoring scheme, frontier rule, gates, suites, teams."""

from .calendar import frontier_window, months_before
from .load import ProgrammeError, load_programme
from .schema import COMPONENTS, Programme, Scheme, Stage

__all__ = [
    "COMPONENTS", "Programme", "ProgrammeError", "Scheme", "Stage",
    "frontier_window", "load_programme", "months_before",
]
