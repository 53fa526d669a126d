"""The benchmark harness: suites as data, scorers, the resumable runner, and paired comparison of runs."""

from .compare import compare_runs
from .runner import RunOutcome, evaluate, register_suite, summarise
from .suite import Suite, SuiteError, bundled_suites, load_suite

__all__ = ["RunOutcome", "Suite", "SuiteError", "bundled_suites", "compare_runs", "evaluate", "load_suite",
           "register_suite", "summarise"]
