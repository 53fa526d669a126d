"""The panel's one error: bad input or a refused step, as one line naming the fault."""


class PanelError(ValueError):
    """A refused panel step (a conflicted or unassigned reviewer, a score off the scale, a closed panel…);
    the message is one line, and names reviewers only by their public pseudonym."""
