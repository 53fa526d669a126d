"""The registry: programmes, teams with their members, models and submissions, and frontier references."""

from .records import (RegistryError, add_model, add_reference, add_team, import_programme, latest_decision,
                      programme_row, stage_row, submit, verify_checkpoint)

__all__ = ["RegistryError", "add_model", "add_reference", "add_team", "import_programme", "latest_decision",
           "programme_row", "stage_row", "submit", "verify_checkpoint"]
