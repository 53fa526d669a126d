"""The arena's web site: FastAPI app, templates and static files."""

from .app import create_app
from .limits import Limits

__all__ = ["Limits", "create_app"]
