"""The public results site and the office's, reviewers' and teams' pages, in the arena's server."""
