"""Distributed evaluation on Ray: a stage's work cut into chunks leased from the store, scored by one
long-lived replica per model (or more), with results equal to a single-process run's."""

from .errors import ClusterError
from .plan import (Chunk, Sizing, chunk_sha256, endpoint_shares, gpus_for, parse_counts, plan_chunks,
                   sizing)
from .run import ClusterSettings, evaluate_on_cluster

__all__ = ["Chunk", "ClusterError", "ClusterSettings", "Sizing", "chunk_sha256", "endpoint_shares",
           "evaluate_on_cluster", "gpus_for", "parse_counts", "plan_chunks", "sizing"]
