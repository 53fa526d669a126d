class ArenaError(ValueError):
    """Bad arena input (a malformed vote export, an unknown model or option): one line naming the fault."""
