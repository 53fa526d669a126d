"""Office, reviewer and team accounts: argon2 passwords, signed sessions, CSRF, login throttling."""

from .cookies import COOKIE, SessionCookies, SignedSession, csrf_ok
from .users import (ROLES, AccountError, Throttle, Throttled, User, add_user, find_user, sign_in, users)

__all__ = ["COOKIE", "ROLES", "AccountError", "SessionCookies", "SignedSession", "Throttle", "Throttled", "User",
           "add_user", "csrf_ok", "find_user", "sign_in", "users"]
