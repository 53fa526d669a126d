"""The resources ledger: GPUs, data and talent support per team and period, following decisions."""
