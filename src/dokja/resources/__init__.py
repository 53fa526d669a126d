"""The resources ledger: GPUs, data and talent support per team and period, following decisions.

Pure rules in `ledger` (open from the programme file, follow a decision, read holdings and totals), the store's
verbs in `store`, the report's chart in `chart`.
"""

from .chart import ledger_chart
from .ledger import after_decision, csv_text, holdings, initial_entries, periods, totals
from .records import POOL, Chart, Entry, Holding, Outcomes, ResourcesError, ResourcesSummary, Totals
from .store import allocate, ledger, open_ledger, summary

__all__ = ["POOL", "Chart", "Entry", "Holding", "Outcomes", "ResourcesError", "ResourcesSummary", "Totals",
           "after_decision", "allocate", "csv_text", "holdings", "initial_entries", "ledger", "ledger_chart",
           "open_ledger", "periods", "summary", "totals"]
