"""CSRF protection of the app's forms: one random token per session, kept in the session,
and the Origin a browser names.

The token is made at sign-in (a new session, a new token) and is only ever known to the
server-side session and the pages it renders, so forms carry it as it is: nothing to
sign or decode on a page view, one constant-time comparison when a form comes back.
"""

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import abort, current_app, request, session

from .settings import origin

P = ParamSpec("P")
T = TypeVar("T")

SESSION_KEY = "csrf_token"
FORM_REFUSED = (
    "This form expired or did not come from this app. Please reload the page and try again."
)


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


def form_is_from_this_app() -> bool:
    """Whether the posted form came from one of this app's pages. A browser names the site
    a form was posted from in Origin; without Origin the token decides."""
    from_here = request.origin is None or request.origin == origin(current_app.config["BASE_URL"])
    return from_here and csrf_token_is_valid(request.form.get("csrf_token"))


def csrf_protected(view: Callable[P, T]) -> Callable[P, T]:
    """A view of a form that only this app's pages post: any other request is a 403."""

    @functools.wraps(view)
    def protected_view(*args: P.args, **kwargs: P.kwargs) -> T:
        if not form_is_from_this_app():
            abort(403, FORM_REFUSED)
        return view(*args, **kwargs)

    return protected_view
