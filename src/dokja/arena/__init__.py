"""The public arena: battles, votes and ratings."""

from .bootstrap import bootstrap
from .cells import Cells, aggregate
from .ratings import SCALE, Fit, Intervals, fit, ranks, sandwich, sandwich_cov, to_rating

__all__ = ["SCALE", "Cells", "Fit", "Intervals", "aggregate", "bootstrap", "fit", "ranks", "sandwich",
           "sandwich_cov", "to_rating"]
