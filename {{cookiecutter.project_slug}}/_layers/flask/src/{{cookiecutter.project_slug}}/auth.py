"""Who is signed in: the Logto client of a request, its ID token kept fresh, and the access
tokens it gets for API resources and organizations.

The ID token's claims are kept in the session when the SDK has verified the token (at
sign-in and refresh), so a request reads them without decoding a JWT. They count only
until the token's `exp`. Once that has passed and the session holds a refresh token, the
SDK's `getAccessToken()` refreshes, which stores a new ID token too.
Logto may rotate refresh tokens, so two requests of one session must not both refresh with
the same one: refreshes are serialised per session (within this process), and a request
that waited re-reads the session the other one saved. Access tokens for API resources and
organizations (`access_token`, `organization_token`) are refreshed under the same lock.
"""

import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar
from weakref import WeakValueDictionary

from flask import current_app, g, redirect, request, session, url_for
from logto import LogtoException
from werkzeug.wrappers import Response

from .devices import device_summary
from .errors import LogtoNotConfiguredError
from .logto_client import PROVIDER_ERRORS, AppLogtoClient, LogtoUnreachableError
from .resource_tokens import organization_resource, organizations_enabled, refusal_reason
from .session_interface import SIGN_IN_KEY
from .session_storage import SessionStorage

P = ParamSpec("P")
T = TypeVar("T")

# The session key of the signed-in user's ID token claims (set at sign-in and refresh).
CLAIMS_KEY = "id_token_claims"

# ID token claims as the session keeps them: the SDK's `IdTokenClaims` dumped, every claim
# it knows (None when unset), so that a page finds each one it asks for. Pages read them
# as they are; validating them again would only cost time.
Claims = dict[str, Any]

_refresh_locks: WeakValueDictionary[str, threading.Lock] = WeakValueDictionary()
_refresh_locks_guard = threading.Lock()


LOGTO_SETTINGS = ("LOGTO_ENDPOINT", "LOGTO_APP_ID", "LOGTO_APP_SECRET")


class TokenUnavailableError(Exception):
    """Logto gave no access token; `reason` says why: Logto's OAuth error code when it
    refused (`invalid_target`, `invalid_grant`), or that it did not answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def missing_logto_settings() -> list[str]:
    """The settings that sign-in needs and that are not set."""
    return [name for name in LOGTO_SETTINGS if not current_app.config[name]]


def require_logto_settings() -> None:
    if missing := missing_logto_settings():
        raise LogtoNotConfiguredError(missing)


def load_user() -> None:
    """Before each request: `g.user`, the signed-in user's ID token claims, or None."""
    g.user = current_user()


def login_required(view: Callable[P, T]) -> Callable[P, T | Response]:
    """A view for signed-in users only: anyone else is sent to sign in, then back."""

    @functools.wraps(view)
    def signed_in_view(*args: P.args, **kwargs: P.kwargs) -> T | Response:
        require_logto_settings()
        if g.user is None:
            # Back to this page after sign-in; a form posted meanwhile is not posted again.
            next_path = request.path if request.method == "GET" else None
            return redirect(url_for("pages.sign_in", next=next_path))
        return view(*args, **kwargs)

    return signed_in_view


def logto_client() -> AppLogtoClient:
    """A Logto client for this request; the SDK keeps its state in the request's session.
    Its configuration (`create_app` makes it) is the app's, made once."""
    return AppLogtoClient(current_app.extensions["logto_config"], storage=SessionStorage(session))


@contextmanager
def talking_to_logto() -> Iterator[None]:
    """Turn the ways a call to Logto fails in transit into one error (a 502 page)."""
    try:
        yield
    except PROVIDER_ERRORS as error:
        raise LogtoUnreachableError(str(error)) from error


def signed_in_claims() -> Claims | None:
    """The claims of the session's ID token while it has not expired, else None."""
    claims = session.get(CLAIMS_KEY)
    if claims is None or claims["exp"] <= time.time():
        return None
    return claims


def display_name(claims: Claims) -> str:
    """What the pages call the user: the first of their name, username, email and id."""
    return claims.get("name") or claims.get("username") or claims.get("email") or claims["sub"]


def keep_id_token_claims(client: AppLogtoClient) -> None:
    """Keep the claims of the ID token the SDK has just verified and stored."""
    session[CLAIMS_KEY] = client.getIdTokenClaims().model_dump()


def keep_sign_in() -> None:
    """Note whom the session is signed in as: Logto's user and, when Logto sends it, its
    session (`sid`, when "session required" is on); and, for the devices page, when and
    from what browser. A refresh does not change them."""
    claims = session[CLAIMS_KEY]
    session[SIGN_IN_KEY] = {
        "sub": claims["sub"],
        "sid": claims.get("sid"),
        "signed_in_at": int(time.time()),
        "device": device_summary(request.user_agent.string),
    }


def run_async(function: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """`function` (one of the SDK's coroutines), to call from a view.

    The views are plain functions: an async view costs an event loop in a thread on every
    request, and most requests (a page view of a signed-in user) never talk to Logto.
    """
    return current_app.ensure_sync(function)  # type: ignore[return-value]


def current_user() -> Claims | None:
    """The signed-in user's ID token claims, refreshed if need be; None when anonymous.

    Only a refresh needs a Logto client: a page view of a signed-in user makes none.
    """
    if len(session) == 0:
        # Nothing stored, as for most anonymous visitors. (Not `not session`: Flask-Session's
        # bool() copies the session.)
        return None
    if (claims := signed_in_claims()) is not None:
        return claims
    if SessionStorage(session).get("refreshToken") is None:
        return None
    with refresh_lock(session.sid):  # type: ignore[attr-defined]
        reload_session()
        if (claims := signed_in_claims()) is not None:
            return claims  # refreshed by another request while this one waited
        client = logto_client()
        try:
            with talking_to_logto():
                run_async(refresh_tokens)(client)
        except LogtoException as error:
            # Refresh token expired or revoked: the sign-in is over.
            current_app.logger.info("Refresh refused, signing out: %s", error)
            forget_tokens()
            return None
        except LogtoUnreachableError as error:
            # Keep the refresh token: Logto may answer next time.
            current_app.logger.warning("Cannot refresh, Logto unreachable: %s", error)
            return None
        keep_id_token_claims(client)
        save_session_now()
    return signed_in_claims()


async def refresh_tokens(client: AppLogtoClient) -> None:
    # The cached access token belongs to the expired sign-in; without it the SDK refreshes.
    SessionStorage(session).delete("accessTokenMap")
    await client.getAccessToken()


def forget_tokens() -> None:
    session.pop(CLAIMS_KEY, None)
    session.pop(SIGN_IN_KEY, None)
    storage = SessionStorage(session)
    storage.delete("idToken")
    storage.delete("refreshToken")
    storage.delete("accessTokenMap")


@contextmanager
def refresh_lock(session_id: str) -> Iterator[None]:
    with _refresh_locks_guard:
        lock = _refresh_locks.setdefault(session_id, threading.Lock())
    with lock:
        yield


def access_token(resource: str) -> str:
    """An access token for the API resource `resource` (one of LOGTO_RESOURCES), for the
    signed-in user, to send to that API as `Authorization: Bearer <token>`.

    The SDK keeps each token in the session until shortly before it expires; then this gets
    a new one with the refresh token, one refresh at a time per session, and stores the
    session at once. Raises TokenUnavailableError when Logto refuses it (the user stays
    signed in) or cannot be reached.
    """
    return fresh_token(resource)


def organization_token(organization_id: str) -> str:
    """An access token for the organization `organization_id` (one of the ID token's
    `organizations`), as `access_token` gets one for a resource."""
    return fresh_token(organization_resource(organization_id))


def organizations_on() -> bool:
    """Whether sign-in asks for the user's organizations (LOGTO_ORGANIZATION_SCOPES set)."""
    return organizations_enabled(current_app.extensions["logto_config"].scopes)


def fresh_token(resource: str) -> str:
    if g.user is None:
        raise TokenUnavailableError("nobody is signed in")
    # The SDK's own check of its token cache, which never calls Logto.
    if (token := logto_client()._getAccessToken(resource)) is not None:
        return token
    with refresh_lock(session.sid):  # type: ignore[attr-defined]
        reload_session()
        client = logto_client()
        id_token = client.getIdToken()
        try:
            with talking_to_logto():
                token = run_async(client.getAccessToken)(resource)
        except LogtoException as error:
            # The grant is refused, not the sign-in: the refresh token stays.
            current_app.logger.info("Logto refused a token for %s: %s", resource, error)
            raise TokenUnavailableError(refusal_reason(error)) from error
        except LogtoUnreachableError as error:
            current_app.logger.warning("Cannot get a token for %s: %s", resource, error)
            raise TokenUnavailableError("Logto is unreachable") from error
        if token is None:
            raise TokenUnavailableError("this sign-in has no refresh token")
        if client.getIdToken() != id_token:
            keep_id_token_claims(client)  # Logto sends a new ID token with each refresh
        save_session_now()
    return token


def reload_session() -> None:
    """Take what the store holds for this session now, in place of what the request loaded."""
    interface = current_app.session_interface
    stored = interface.open_session(current_app, request)
    if stored is not None and stored.sid == session.sid:  # type: ignore[attr-defined]
        session.clear()
        session.update(stored)
        session.modified = False  # type: ignore[attr-defined]  # as stored: nothing to write


def save_session_now() -> None:
    """Store the session before the response is sent, for the requests waiting to refresh.

    It is stored once: the end of the request finds it unmodified.
    """
    current_app.session_interface.save_session(current_app, session, Response())  # type: ignore[arg-type]
    session.modified = False  # type: ignore[attr-defined]
