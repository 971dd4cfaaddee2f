"""CSRF tokens for the session and the checks on where the app may redirect to."""

import hashlib
import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

CSRF_SEED_KEY = "csrf_seed"


def new_csrf_seed(session: MutableMapping[str, Any]) -> None:
    """Give the session a fresh random seed; forms carry a token signed from it."""
    session[CSRF_SEED_KEY] = secrets.token_urlsafe(32)


def csrf_token(session: MutableMapping[str, Any], secret: str) -> str:
    if CSRF_SEED_KEY not in session:
        new_csrf_seed(session)
    # Signed with SESSION_SECRET, so reading the session store is not enough to forge one.
    seed = session[CSRF_SEED_KEY].encode()
    return hmac.new(secret.encode(), seed, hashlib.sha256).hexdigest()


def is_valid_csrf_token(session: MutableMapping[str, Any], secret: str, token: str) -> bool:
    if not token or CSRF_SEED_KEY not in session:
        return False
    return hmac.compare_digest(token, csrf_token(session, secret))


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
