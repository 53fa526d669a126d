"""Provenance's own errors, each one line: a checkpoint that lies about itself, and a fingerprint, library
entry or verdict that cannot be made."""

from __future__ import annotations

from ..models.errors import ModelError


class ProvenanceError(ModelError):
    """A damaged fingerprint file, an unknown library entry, or a model that cannot be compared."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read as it claims to be; the message names the file and the fault."""
