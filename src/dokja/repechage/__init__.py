"""The repechage: a call when gates leave fewer teams than planned, applicants, the panel's majority."""

from .call import admitted, apply, decide_call, open_call, show, vote
from .records import Applicant, ApplicantView, CallView, RepechageError, Tally
from .tally import tally

__all__ = ["Applicant", "ApplicantView", "CallView", "RepechageError", "Tally", "admitted", "apply", "decide_call",
           "open_call", "show", "tally", "vote"]
