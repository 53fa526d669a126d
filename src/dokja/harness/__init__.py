"""The benchmark harness: suites as data, scorers, the resumable runner, and paired comparison of runs."""

from .compare import compare_runs
from .runner import RunOutcome, evaluate, register_suite, summarise
from .suite import Suite, SuiteError, bundled_suites, check_programme_suites, check_suite_names, load_suite

__all__ = ["RunOutcome", "Suite", "SuiteError", "bundled_suites", "check_programme_suites", "check_suite_names", "compare_runs", "evaluate", "load_suite",
           "register_suite", "summarise"]
