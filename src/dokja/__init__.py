"""Dokja (독자): open evaluation platform for an independent AI foundation model programme."""

__version__ = "0.1.0"
