"""The benchmark harness: suites as data, scorers, and the resumable runner."""

from .runner import RunOutcome, evaluate, register_suite, summarise
from .suite import Suite, SuiteError, bundled_suites, load_suite

__all__ = ["RunOutcome", "Suite", "SuiteError", "bundled_suites", "evaluate", "load_suite", "register_suite",
           "summarise"]
