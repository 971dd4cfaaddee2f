"""CSRF tokens for the app's forms, kept in the server-side session.

The session holds a random token; forms carry it signed with SESSION_SECRET, so that a
token only ever comes from this app and is only good for this session.
"""

import hmac
import secrets

from flask import current_app, session
from itsdangerous import BadData, URLSafeSerializer

SESSION_KEY = "csrf_token"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="csrf-token")


def new_csrf_token() -> None:
    """Give the session a fresh token (at sign-in: a new session, a new token)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def csrf_token() -> str | None:
    """The token for this session's forms; None for a session that has none."""
    raw = session.get(SESSION_KEY)
    return None if raw is None else _serializer().dumps(raw)


def csrf_token_is_valid(submitted: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not submitted or expected is None:
        return False
    try:
        raw = _serializer().loads(submitted)
    except BadData:
        return False
    return isinstance(raw, str) and hmac.compare_digest(raw, expected)
