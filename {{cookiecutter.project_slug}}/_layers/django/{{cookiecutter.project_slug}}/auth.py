"""The Logto client of one request, on that request's server-side session; the signed-in
user, and fresh access tokens for API resources and organizations."""

import asyncio
import functools
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

import jwt
from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token, rotate_token
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from logto import LogtoConfig, LogtoException

from .errors import error_page
from .logto_client import PROVIDER_ERRORS, AppLogtoClient, LogtoUnreachableError, signed_in_claims
from .resource_tokens import organization_resource, refusal_reason, sign_in_scopes
from .session_index import CLAIMS_KEY
from .session_storage import KEY_PREFIX, SessionStorage

Claims = dict[str, Any]

LOGTO_SETTINGS = ("LOGTO_ENDPOINT", "LOGTO_APP_ID", "LOGTO_APP_SECRET")
# The session key of the sign-out form's CSRF token: [the CSRF secret, the token masking it].
CSRF_KEY = "csrf"
LOGTO_DEADLINE = 10.0  # seconds for one call to Logto

# One lock per session with a refresh under way in this process; gone when unused.
_refresh_locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
_refresh_locks_guard = threading.Lock()


def logto_deadline() -> asyncio.Timeout:
    """A deadline for one call to Logto: the SDK sets none (aiohttp waits 5 minutes).

    Past it, TimeoutError (one of PROVIDER_ERRORS) makes a 502 page, not a hung request.
    """
    return asyncio.timeout(LOGTO_DEADLINE)


async def logto_client(request: HttpRequest) -> AppLogtoClient:
    """The SDK's client on the request's session, loaded through Django's async API.

    The SDK's storage is synchronous. Once the session is loaded, its synchronous reads and
    writes only touch the loaded data, so no session engine (a database's included) is
    called synchronously inside the event loop.
    """
    await request.session.aget("_")
    config = LogtoConfig(
        endpoint=settings.LOGTO_ENDPOINT,
        appId=settings.LOGTO_APP_ID,
        appSecret=settings.LOGTO_APP_SECRET or None,
        scopes=sign_in_scopes(settings.LOGTO_SCOPES, settings.LOGTO_ORGANIZATION_SCOPES),
        resources=settings.LOGTO_RESOURCES,
    )
    return AppLogtoClient(config, SessionStorage(request.session))


def get_user(request: HttpRequest) -> Claims | None:
    """`request.logto_user` (middleware.LogtoUserMiddleware): the signed-in user's ID token
    claims, or None. Without a session cookie, the session is not even looked at."""
    if request.session.session_key is None:
        return None
    if (claims := session_user(request.session)) is not None:
        return claims
    return async_to_sync(aget_user)(request)  # Only an expired ID token needs Logto.


async def aget_user(request: HttpRequest) -> Claims | None:
    """`await request.alogto_user()`: request.logto_user for async views."""
    if request.session.session_key is None:
        return None
    return await signed_in_user(request, await logto_client(request))


def sign_in_not_set_up(request: HttpRequest) -> HttpResponse | None:
    """The 503 page of a view that needs Logto while its settings are missing, else None."""
    if not (missing := [name for name in LOGTO_SETTINGS if not getattr(settings, name)]):
        return None
    names = ", ".join(missing)
    message = f"Sign-in is not set up yet: set {names} in .env (see README.md)."
    return error_page(request, 503, "Sign-in is not set up", message)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like Django's own decorator: a view for signed-in users only; anyone else is sent to
    sign in. Sync and async views alike."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (not_set_up := sign_in_not_set_up(request)) is not None:
                return not_set_up
            if await request.alogto_user() is None:  # type: ignore[attr-defined]
                return redirect("sign-in")
            return await view(request, *args, **kwargs)  # type: ignore[no-any-return]

        return async_view

    @functools.wraps(view)
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (not_set_up := sign_in_not_set_up(request)) is not None:
            return not_set_up
        if not request.logto_user:  # type: ignore[attr-defined]
            return redirect("sign-in")
        return view(request, *args, **kwargs)  # type: ignore[no-any-return]

    return sync_view


def session_user(session: SessionBase) -> Claims | None:
    """The ID token's claims while the user is signed in (the token has not expired).

    They were decoded, once, when the token was stored (sign-in, refresh) and kept in the
    session beside it: a page view decodes no JWT.
    """
    claims = session.get(CLAIMS_KEY)
    return claims if claims is not None and claims["exp"] > time.time() else None


def display_name(claims: Claims) -> str:
    return claims.get("name") or claims.get("username") or claims.get("email") or claims["sub"]


def new_csrf_token(request: HttpRequest) -> str:
    """A new CSRF secret (Django's CSRF cookie) and a token for it, kept in the session.

    Called at sign-in, as Django's login() rotates the token, and when the browser has lost
    the CSRF cookie (or holds another one) since.
    """
    rotate_token(request)
    token = get_token(request)
    request.session[CSRF_KEY] = [request.META["CSRF_COOKIE"], token]
    return token


def csrf_token(request: HttpRequest) -> str:
    """The CSRF token of the sign-out form, for the `csrf_token` of a signed-in page.

    Left to Django, the csrf_token tag masks the secret anew for every page (32 draws from
    the OS's random source) and has the CSRF cookie sent again with every response.
    CsrfViewMiddleware takes any masking of the secret in the CSRF cookie: the one made at
    sign-in serves the whole session.
    """
    stored = request.session.get(CSRF_KEY)
    if stored is None or stored[0] != request.META.get("CSRF_COOKIE"):
        return new_csrf_token(request)
    return stored[1]


def keep_claims(request: HttpRequest, client: AppLogtoClient) -> Claims | None:
    """Keep the claims of the ID token the SDK has just stored in the session."""
    if (claims := signed_in_claims(client)) is None:
        request.session.pop(CLAIMS_KEY, None)
        return None
    request.session[CLAIMS_KEY] = claims.model_dump(exclude_none=True)
    return request.session[CLAIMS_KEY]


async def signed_in_user(request: HttpRequest, client: AppLogtoClient) -> Claims | None:
    """The ID token's claims while the user is signed in, refreshing an expired ID token.

    With an expired ID token and a refresh token, the SDK's getAccessToken() asks Logto for
    new tokens, ID token included. Two requests of one session must not both do it (Logto
    rotates refresh tokens, so the second would use a spent one): they take turns, and the
    second finds the tokens the first saved.
    """
    if (claims := session_user(request.session)) is not None or client.getRefreshToken() is None:
        return claims
    async with refresh_lock(request.session.session_key or ""):
        await reload_tokens(request)
        if (claims := session_user(request.session)) is not None:
            return claims  # Refreshed by another request meanwhile.
        # getAccessToken() only refreshes once no valid access token is left.
        storage = SessionStorage(request.session)
        storage.delete("accessTokenMap")
        try:
            async with logto_deadline():
                await client.getAccessToken()
        except (LogtoException, jwt.InvalidTokenError):
            # Logto refused the refresh token (revoked or expired): this sign-in is over.
            storage.delete("idToken")
            storage.delete("refreshToken")
            request.session.pop(CLAIMS_KEY, None)
            return None
        except (LogtoUnreachableError, *PROVIDER_ERRORS):
            return None  # Signed out for now; the next request tries again.
        claims = keep_claims(request, client)
        # Saved before the lock is released, for the requests waiting for it.
        await request.session.asave()
        return claims


class TokenUnavailableError(Exception):
    """Logto gave no token: it refused (`reason` is its OAuth error code, e.g.
    `invalid_target` for a resource it does not know) or did not answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def access_token(request: HttpRequest, resource: str) -> str:
    """A fresh access token for the API resource `resource` (one of LOGTO_RESOURCES), for
    a view of a signed-in user to call that API with:

        token = await auth.access_token(request, settings.LOGTO_RESOURCES[0])

    The token Logto gave last, while it is valid; else a new one, for which the SDK spends
    the refresh token. TokenUnavailableError when Logto refuses or does not answer; the user
    stays signed in.
    """
    return await fresh_token(request, resource)


async def organization_token(request: HttpRequest, organization_id: str) -> str:
    """A fresh organization token (one of the ID token's `organizations`), as access_token()."""
    return await fresh_token(request, organization_resource(organization_id))


async def fresh_token(request: HttpRequest, resource: str) -> str:
    """The SDK's token for `resource` (an indicator, or the URN of an organization).

    Tokens live in the session (the SDK's `accessTokenMap`), never in the cookie. Getting a
    new one spends the refresh token, which Logto rotates: as for the ID token, two requests
    of one session take turns (signed_in_user()), and the session is saved before the next
    one goes.
    """
    client = await logto_client(request)
    if (token := client._getAccessToken(resource)) is not None:  # the SDK's cache, if valid
        return token
    async with refresh_lock(request.session.session_key or ""):
        await reload_tokens(request)
        id_token = client.getIdToken()
        try:
            async with logto_deadline():
                token = await client.getAccessToken(resource)
        except LogtoException as error:
            raise TokenUnavailableError(refusal_reason(error)) from error
        except jwt.InvalidTokenError as error:  # a new ID token that does not verify
            raise TokenUnavailableError("Logto's ID token is not valid") from error
        except (LogtoUnreachableError, *PROVIDER_ERRORS) as error:
            raise TokenUnavailableError("Logto is unreachable") from error
        if token is None:
            raise TokenUnavailableError("this sign-in has no refresh token")
        if client.getIdToken() != id_token:
            keep_claims(request, client)  # Logto sent a new ID token along.
        if request.session.modified:
            # Saved before the lock is released, for the requests waiting for it.
            await request.session.asave()
        return token


@asynccontextmanager
async def refresh_lock(session_key: str) -> AsyncIterator[None]:
    with _refresh_locks_guard:
        lock = _refresh_locks.setdefault(session_key, threading.Lock())
    # A thread lock, waited for in a worker thread: it holds across event loops too (WSGI
    # runs each request in a loop of its own) and does not block this loop meanwhile.
    await sync_to_async(lock.acquire, thread_sensitive=False)()
    try:
        yield
    finally:
        lock.release()


async def reload_tokens(request: HttpRequest) -> None:
    """Take Logto's tokens as the store has them now, in case another request changed them."""
    stored = import_module(settings.SESSION_ENGINE).SessionStore(request.session.session_key)
    stored_items = dict(await stored.aitems())
    for key in list(request.session.keys()):
        if key.startswith(KEY_PREFIX) and key not in stored_items:
            del request.session[key]
    for key, value in stored_items.items():
        if key.startswith(KEY_PREFIX) and request.session.get(key) != value:
            request.session[key] = value


def callback_url() -> str:
    return f"{settings.BASE_URL}/callback"


def safe_next(url: str | None) -> str:
    """`url` when it is a path on this app, else "/" (no open redirect via `next`)."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return "/"
