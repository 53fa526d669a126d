"""The `dokja` command line: thin commands over the packages, in the programme's own words."""

from .app import app

__all__ = ["app"]
