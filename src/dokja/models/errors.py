class ModelError(RuntimeError):
    """A model that cannot be used: missing, corrupt or unreachable. The message is one line."""
