"""Sign-in with Logto: the views that call Logto through the SDK are async."""

import functools
import logging
from importlib import import_module

import jwt
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.autoreload import file_changed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from logto import LogtoException

from . import session_index
from .auth import (
    callback_url,
    csrf_token,
    display_name,
    keep_claims,
    logto_client,
    logto_deadline,
    missing_logto_settings,
    new_csrf_token,
    safe_next,
    session_client,
    session_user,
    signed_in_user,
)
from .backchannel_logout import InvalidLogoutTokenError, validate_logout_token
from .errors import SessionStoreUnavailable, error_page, log_store_failure
from .logto_client import PROVIDER_ERRORS, LogtoUnreachableError, oidc_core
from .session_index import CLAIMS_KEY
from .session_storage import SessionStorage

logger = logging.getLogger(__name__)

# Where to go after the callback, kept in the session between /sign-in and /callback.
NEXT_KEY = "next"
# Seconds a sign-in may take, from /sign-in to /callback: an unfinished one is kept no longer.
SIGN_IN_TIMEOUT = 600
LOGTO_DOWN = (LogtoUnreachableError, *PROVIDER_ERRORS)


def logto_unreachable(request: HttpRequest) -> HttpResponse:
    return error_page(
        request, 502, "Logto is unreachable", "Logto did not answer as expected. Please try again."
    )


@functools.lru_cache(maxsize=1024)
def home_page(name: str | None = None, csrf_token: str | None = None) -> str:
    """The home page as the user `name` sees it (None: an anonymous visitor).

    It depends on nothing else, and neither changes during a session (`csrf_token` is the
    session's own: auth.csrf_token). So each page is rendered once, for all anonymous
    visitors or for one session, not on every visit; the 1,024 latest are kept.
    """
    # `user` only tells base.html's menu whether someone is signed in.
    context = {"user": name, "name": name, "csrf_token": csrf_token}
    return render_to_string("{{ cookiecutter.project_slug }}/index.html", context)


@receiver(file_changed, dispatch_uid="{{ cookiecutter.project_slug }}.home_page")
def template_changed(**kwargs: object) -> None:
    # runserver's autoreloader takes a template edit without a restart (it empties Django's
    # template cache): the pages follow it.
    home_page.cache_clear()


def index(request: HttpRequest) -> HttpResponse:
    # A plain view, unlike the others: every visit comes here, and the session alone says
    # who is signed in. Only an expired ID token needs Logto, to refresh it. Without a
    # session cookie, the session is not even looked at.
    user = None
    if request.session.session_key is not None:
        user = session_user(request.session)
        if user is None and SessionStorage(request.session).get("refreshToken") is not None:
            user = async_to_sync(signed_in_user)(request, session_client(request))
    if user is None:
        response = HttpResponse(home_page())
    else:
        response = HttpResponse(home_page(display_name(user), csrf_token(request)))
    # The page says who is signed in, even where no session was looked at. (Set, not
    # patched as @vary_on_cookie and @never_cache do: the response has neither header yet.)
    response["Vary"] = "Cookie"
    if request.session.session_key is not None:
        response["Cache-Control"] = "private, no-store"  # a session's page: never kept
    return response


@never_cache
async def sign_in(request: HttpRequest) -> HttpResponse:
    if missing := missing_logto_settings():
        names = ", ".join(missing)
        message = f"Sign-in is not set up: set {names} in .env (see README.md)."
        return error_page(request, 503, "Sign-in is not configured", message)
    client = await logto_client(request)
    try:
        async with logto_deadline():
            authorization_url = await client.signIn(redirectUri=callback_url())
    except LOGTO_DOWN:
        logger.warning("Logto's discovery document is out of reach", exc_info=True)
        return logto_unreachable(request)
    request.session[NEXT_KEY] = safe_next(request.GET.get("next", "/profile"))
    if CLAIMS_KEY not in request.session:
        # Not signed in yet: the session holds the sign-in's state only, for a while.
        request.session.set_expiry(SIGN_IN_TIMEOUT)
    return redirect(authorization_url)


@never_cache
async def callback(request: HttpRequest) -> HttpResponse:
    client = await logto_client(request)
    if SessionStorage(request.session).get("signInSession") is None:
        message = "No sign-in was started in this browser, or it has already finished."
        return error_page(request, 400, "Sign-in failed", message)
    try:
        async with logto_deadline():
            await client.handleSignInCallback(request.get_full_path())
    except LogtoException as error:
        # A wrong state, an `error=` from Logto, a code used twice: the request is at fault.
        logger.info("Sign-in callback refused: %s", error)
        if reason := request.GET.get("error"):
            message = f"Logto did not sign you in ({reason}). Please try again."
        else:
            message = "This sign-in link is not valid (any more). Please sign in again."
        return error_page(request, 400, "Sign-in failed", message)
    except (*LOGTO_DOWN, jwt.InvalidTokenError):
        logger.warning("Sign-in callback failed at Logto", exc_info=True)
        return logto_unreachable(request)
    next_url = request.session.pop(NEXT_KEY, "/profile")
    if (earlier := request.session.get(CLAIMS_KEY)) is not None:
        # Signed in again without signing out: the old record goes, and its index entries.
        await session_index.aremove(request.session.session_key, earlier)
    if (claims := keep_claims(request, client)) is None:
        return logto_unreachable(request)  # Logto sent an ID token that has expired already.
    new_csrf_token(request)  # A new CSRF secret with each sign-in, as Django's login() does.
    request.session.set_expiry(None)  # Signed in: the session lives SESSION_LIFETIME.
    # A new session id for the signed-in session; the old record is deleted from the store.
    await request.session.acycle_key()
    request.session.modified = False  # Stored whole under the new id just now.
    # Indexed under the new id, so that a back-channel logout from Logto can end it.
    await session_index.aadd(request.session.session_key, claims)
    return redirect(next_url)


@never_cache
async def profile(request: HttpRequest) -> HttpResponse:
    client = await logto_client(request)
    if (claims := await signed_in_user(request, client)) is None:
        return redirect("sign-in")
    try:
        async with logto_deadline():
            userinfo = (await client.fetchUserInfo()).model_dump(exclude_none=True)
    except (LogtoException, *LOGTO_DOWN):
        userinfo = None
    context = {"user": claims, "claims": claims, "userinfo": userinfo}
    context["csrf_token"] = csrf_token(request)
    return render(request, "{{ cookiecutter.project_slug }}/profile.html", context)


@never_cache
async def sign_out(request: HttpRequest) -> HttpResponse:
    # CsrfViewMiddleware has checked the token of this POST.
    if request.method != "POST":
        response = error_page(request, 405, "Method not allowed", "Sign out with the button.")
        response["Allow"] = "POST"
        return response
    client = await logto_client(request)
    try:
        async with logto_deadline():
            end_session_url = await client.signOut(f"{settings.BASE_URL}/")
    except (LogtoException, *LOGTO_DOWN):
        end_session_url = "/"  # Signed out here at least; Logto's session stays.
    if (claims := request.session.get(CLAIMS_KEY)) is not None:
        await session_index.aremove(request.session.session_key, claims)
    # Deletes the whole record from the store; the cookie goes with it.
    await request.session.aflush()
    return redirect(end_session_url)


@csrf_exempt  # Logto's server posts here, not a browser, and it has no CSRF token.
async def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """OpenID Connect Back-Channel Logout: Logto ends the sessions of a user (or of one of
    their Logto sessions) here when they sign out elsewhere or an admin ends their session."""
    if request.method != "POST":
        return logout_refused("POST a logout_token", status=405)
    if missing_logto_settings():
        return logout_refused("sign-in is not configured", status=503)
    try:
        async with logto_deadline():
            core = await oidc_core(settings.LOGTO_ENDPOINT)
        # The JWKS client fetches Logto's keys synchronously (once a day, or for a new key).
        validate = sync_to_async(validate_logout_token, thread_sensitive=False)
        logout = await validate(request.POST.get("logout_token", ""), core, settings.LOGTO_APP_ID)
    except LOGTO_DOWN:
        logger.warning("Logto's discovery document is out of reach", exc_info=True)
        return logout_refused("Logto is unreachable", status=502)
    except InvalidLogoutTokenError as error:
        logger.info("Logout token refused: %s", error)
        return logout_refused(str(error))
    ended = await session_index.aend_sessions(logout)
    logger.info("Back-channel logout ended %d session(s)", ended)
    response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"  # as Back-Channel Logout 1.0 asks
    return response


def logout_refused(reason: str, status: int = 400) -> JsonResponse:
    """An answer for Logto (OpenID Connect Back-Channel Logout 1.0, section 2.8)."""
    error = "invalid_request" if status < 500 else "temporarily_unavailable"
    response = JsonResponse({"error": error, "error_description": reason}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    kind = settings.SESSION_STORE["KIND"]
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    try:
        store.exists("healthz")
    except SessionStoreUnavailable as error:
        down = {"status": "unavailable", "session_store": f"{kind}: down"}
        response = JsonResponse(down, status=503)
        log_store_failure(request, response, error)
        return response
    return JsonResponse({"status": "ok", "session_store": f"{kind}: ok"})


# Django's own errors, in this app's look.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 400, "Bad request", "This request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 403, "Forbidden", "You may not do this.")


@never_cache
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = "This form has expired or did not come from this site. Reload the page and retry."
    return error_page(request, 403, "Forbidden", message)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 404, "Not found", "There is no page at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500, "Something went wrong", "Please try again later.")
