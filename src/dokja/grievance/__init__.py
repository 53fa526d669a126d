"""Grievances: publication of a decision, the filing window, the office's rulings, re-runs."""
