"""The programme file's `[grievances]` and `[repechage]` tables: the office's steps after a decision."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .strict import Strict


class Grievances(Strict):
    """How eliminated teams file grievances. The window opens when the office publishes a decision and closes
    at 24:00 Korean time (KST, UTC+9) at the end of the stage's `grievance_days`-th calendar day after the
    publication day in KST: a decision published on 2 January closes, with 10 days, at 2026-01-12 24:00 KST.
    Only a defect in the evaluation process is admissible."""

    window: Literal["kst-end-of-day"] = Field("kst-end-of-day", description="how the window is counted; "
                        "the one rule: it closes at 24:00 KST (UTC+9, no daylight saving) at the end of the "
                        "stage's `grievance_days`-th calendar day after the day (in KST) the decision was "
                        "published; a grievance at 24:00 or later is late")
    early_close: bool = Field(True, description="close the window early once every team the decision "
                              "eliminated has waived its right to file")
    max_file_bytes: int = Field(20 * 1024 * 1024, ge=1, description="the largest evidence file a grievance may "
                                "carry, in bytes")
    max_files: int = Field(20, ge=0, description="how many evidence files one grievance may carry")


class Repechage(Strict):
    """The repechage call's rules: who may apply and what they hand in; the panel decides by a majority of
    all its members and may select nobody."""

    student_member: bool = Field(True, description="an applicant consortium needs at least one member with "
                                 "role `student`, as the call for teams requires")
    max_file_bytes: int = Field(50 * 1024 * 1024, ge=1, description="the largest evidence file (loss log, "
                                "benchmark results) an applicant may hand in, in bytes")
