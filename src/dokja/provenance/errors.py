"""Provenance's own error: a fingerprint, library entry or verdict that cannot be made, in one line."""

from __future__ import annotations

from ..models.errors import ModelError


class ProvenanceError(ModelError):
    """A damaged fingerprint file, an unknown library entry, or a model that cannot be compared."""
