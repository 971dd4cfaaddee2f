"""CSRF tokens for the app's forms: one random token per session, kept in the session.

The token is made at sign-in (a new session, a new token) and is only ever known to the
server-side session and the pages it renders, so forms carry it as it is: nothing to
sign or decode on a page view, one constant-time comparison when a form comes back.
"""

import hmac
import secrets

from flask import session

SESSION_KEY = "csrf_token"


def new_csrf_token() -> None:
    """Give the session a fresh token (at sign-in: a new session, a new token)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def csrf_token() -> str | None:
    """The token for this session's forms; None for a session that has none."""
    return session.get(SESSION_KEY)


def csrf_token_is_valid(submitted: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not submitted or expected is None:
        return False
    return hmac.compare_digest(submitted.encode(), expected.encode())
