"""The repechage: a call when gates leave fewer teams than planned, applicants, the panel's majority."""
