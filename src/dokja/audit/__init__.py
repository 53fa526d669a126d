"""Audit log: an append-only record of the programme, committed to by an RFC 9162 Merkle tree."""

from .merkle import (EMPTY_ROOT, HASH_SIZE, LogError, consistency_proof, inclusion_proof, leaf_hash, node_hash, root,
                     root_from_hashes, verify_consistency, verify_inclusion)

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "LogError", "consistency_proof", "inclusion_proof", "leaf_hash", "node_hash",
           "root", "root_from_hashes", "verify_consistency", "verify_inclusion"]
