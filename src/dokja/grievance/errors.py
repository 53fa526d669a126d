"""The grievance package's one error: a step the rules refuse, said in one line."""


class GrievanceError(ValueError):
    """A publication, filing, waiver, ruling or re-run the programme's rules refuse; one line saying why."""
