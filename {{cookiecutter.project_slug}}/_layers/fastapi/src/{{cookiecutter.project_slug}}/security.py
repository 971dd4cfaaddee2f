"""CSRF tokens for the session's forms, and the checks on where the app may redirect to."""

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

CSRF_TOKEN_KEY = "csrf_token"


def new_csrf_token(session: MutableMapping[str, Any]) -> None:
    """Give the session a fresh random token (at sign-in: a new session, a new token).

    The token is known only to the server-side session and to the pages it renders, so
    forms carry it as it is: nothing to sign or derive on a page view.
    """
    session[CSRF_TOKEN_KEY] = secrets.token_urlsafe(32)


def csrf_token(session: MutableMapping[str, Any]) -> str:
    if CSRF_TOKEN_KEY not in session:
        new_csrf_token(session)  # a session from before this key existed
    return session[CSRF_TOKEN_KEY]


def is_valid_csrf_token(session: MutableMapping[str, Any], token: str) -> bool:
    expected = session.get(CSRF_TOKEN_KEY)
    if not token or expected is None:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def is_same_origin(origin: str | None, app_origin: str) -> bool:
    """Whether a request's `Origin` header allows it; without one, the CSRF token decides."""
    return origin is None or origin == app_origin


def safe_next_path(target: str | None) -> str | None:
    """`target` when it is a path on this app, else None.

    Browsers read `//host`, `/\\host` and `\\\\host` as other sites, so a path must start
    with one `/` followed by neither `/` nor `\\`, and carry no scheme or host.
    """
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if any(ord(char) < 0x20 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
