"""The signed results bundle: written from a recorded decision, verified offline by recomputing it."""

from .build import LEVELS, BundleError, write_bundle
from .recompute import verify_bundle

__all__ = ["LEVELS", "BundleError", "verify_bundle", "write_bundle"]
