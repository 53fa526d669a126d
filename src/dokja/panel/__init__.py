"""The expert panel: reviewers, conflicts of interest, assignment, scores, agreement and expert points."""
