"""Provenance: read checkpoints without loading them, fingerprint them, and say whose weights they are."""

from .checkpoint import Checkpoint, CheckpointError, TensorInfo, open_checkpoint
from .components import Block, Layout, layout
from .sample import Sample, take_sample

__all__ = ["Block", "Checkpoint", "CheckpointError", "Layout", "Sample", "TensorInfo", "layout", "open_checkpoint",
           "take_sample"]
