"""Office, reviewer and team accounts: argon2 passwords, signed sessions, CSRF, login throttling."""
