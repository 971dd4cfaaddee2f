"""Sign-in with Logto: the views that call Logto through the SDK are async."""

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import timedelta
from importlib import import_module
from typing import Any

import httpx
import jwt
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_cookie
from logto import LogtoException

from . import session_index
from .auth import (
    TokenUnavailableError,
    access_token,
    callback_url,
    csrf_token,
    display_name,
    keep_claims,
    login_required,
    logto_client,
    logto_deadline,
    new_csrf_token,
    organization_token,
    safe_next,
    sign_in_not_set_up,
)
from .backchannel_logout import InvalidLogoutTokenError, validate_logout_token
from .devices import device_summary, session_handle, timestamp
from .errors import SessionStoreUnavailable, error_page, log_store_failure
from .logto_client import PROVIDER_ERRORS, LogtoUnreachableError, oidc_core
from .resource_tokens import organizations_enabled, sign_in_scopes, token_summary
from .session_index import CLAIMS_KEY, DEVICE_KEY, SIGNED_IN_AT_KEY
from .session_storage import SessionStorage

logger = logging.getLogger(__name__)

# Where to go after the callback, kept in the session between /sign-in and /callback.
NEXT_KEY = "next"
# Seconds a sign-in may take, from /sign-in to /callback: an unfinished one is kept no longer.
SIGN_IN_TIMEOUT = 600
LOGTO_DOWN = (LogtoUnreachableError, *PROVIDER_ERRORS)
API_TIMEOUT = 10  # seconds for the API that /call-api calls
API_BODY_LIMIT = 2000  # characters of its answer shown
FORM_REFUSED = (
    "This form expired or did not come from this app. Please reload the page and try again."
)
NO_SUCH_SESSION = "You have no such session: it may have ended already."


def logto_unreachable(request: HttpRequest) -> HttpResponse:
    return error_page(
        request, 502, "Logto is unreachable", "Logto did not answer as expected. Please try again."
    )


@vary_on_cookie  # The page says who is signed in.
def index(request: HttpRequest) -> HttpResponse:
    context = {}
    if user := request.logto_user:  # type: ignore[attr-defined]
        context = {"user": user, "name": display_name(user), "csrf_token": csrf_token(request)}
    response = render(request, "{{ cookiecutter.project_slug }}/index.html", context)
    if request.session.session_key is not None:
        response["Cache-Control"] = "private, no-store"  # a session's page: never kept
    return response


@never_cache
async def sign_in(request: HttpRequest) -> HttpResponse:
    if (not_set_up := sign_in_not_set_up(request)) is not None:
        return not_set_up
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
    if (not_set_up := sign_in_not_set_up(request)) is not None:
        return not_set_up
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
    # For the "your devices" page: when, and from which browser.
    request.session[SIGNED_IN_AT_KEY] = int(time.time())
    request.session[DEVICE_KEY] = device_summary(request.headers.get("User-Agent"))
    request.session.set_expiry(None)  # Signed in: the session lives SESSION_LIFETIME.
    # A new session id for the signed-in session; the old record is deleted from the store.
    await request.session.acycle_key()
    # Indexed under the new id, so that a back-channel logout from Logto can end it.
    await session_index.aadd(request.session.session_key, claims)
    return redirect(next_url)


@never_cache
@login_required
async def profile(request: HttpRequest) -> HttpResponse:
    client = await logto_client(request)
    claims = await request.alogto_user()  # type: ignore[attr-defined]
    try:
        async with logto_deadline():
            userinfo = (await client.fetchUserInfo()).model_dump(exclude_none=True)
    except (LogtoException, *LOGTO_DOWN):
        userinfo = None
    context = {"user": claims, "claims": claims, "userinfo": userinfo}
    context["csrf_token"] = csrf_token(request)
    return render(request, "{{ cookiecutter.project_slug }}/profile.html", context)


@never_cache
@login_required
async def tokens(request: HttpRequest) -> HttpResponse:
    """The tokens Logto gives this session for API resources and organizations: their
    claims, never the tokens. A token Logto refuses is a note on the page."""
    user = await request.alogto_user()  # type: ignore[attr-defined]
    resources = [
        await token_entry(indicator, access_token(request, indicator), indicator)
        for indicator in settings.LOGTO_RESOURCES
    ]
    organizations = None  # Not set up.
    scopes = sign_in_scopes(settings.LOGTO_SCOPES, settings.LOGTO_ORGANIZATION_SCOPES)
    if organizations_enabled(scopes):
        organizations = [
            await token_entry(org, organization_token(request, org), f"organization {org}")
            for org in user.get("organizations") or []
        ]
    context = {"user": user, "resources": resources, "organizations": organizations}
    context["csrf_token"] = csrf_token(request)
    return render(request, "{{ cookiecutter.project_slug }}/tokens.html", context)


async def token_entry(name: str, token: Awaitable[str], what: str) -> dict[str, Any]:
    """What the tokens page shows of the token `token` will give, for `name`."""
    try:
        return {"name": name, "summary": token_summary(await token)}
    except TokenUnavailableError as error:
        return {"name": name, "note": f"Logto gave no token for {what}: {error.reason}."}
    except jwt.DecodeError:
        return {"name": name, "note": f"Logto's token for {what} is not a JWT: no claims to show."}


@never_cache
@login_required
async def call_api(request: HttpRequest) -> HttpResponse:
    """Call API_URL with an access token for the first of LOGTO_RESOURCES, as a view of your
    own would call your API."""
    context: dict[str, Any] = {"user": await request.alogto_user()}  # type: ignore[attr-defined]
    context["csrf_token"] = csrf_token(request)
    if not (settings.API_URL and settings.LOGTO_RESOURCES):
        context["note"] = "No API is set up: set API_URL and LOGTO_RESOURCES in .env."
    else:
        indicator = settings.LOGTO_RESOURCES[0]
        try:
            token = await access_token(request, indicator)
        except TokenUnavailableError as error:
            context["note"] = f"Logto gave no token for {indicator}: {error.reason}."
        else:
            try:
                context["status"], context["body"] = await call(settings.API_URL, token)
            except (httpx.HTTPError, TimeoutError):
                logger.warning("The API at %s did not answer", settings.API_URL, exc_info=True)
                context["note"] = f"The API at {settings.API_URL} did not answer."
    return render(request, "{{ cookiecutter.project_slug }}/call_api.html", context)


async def call(url: str, token: str) -> tuple[int, str]:
    """GET `url` with `token`: the answer's status, and the start of its body."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        asyncio.timeout(API_TIMEOUT),
        httpx.AsyncClient(timeout=API_TIMEOUT) as http,
        http.stream("GET", url, headers=headers) as answer,
    ):
        body = b""
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) >= 4 * API_BODY_LIMIT:  # enough bytes for the characters shown
                break
    text = body.decode(answer.encoding or "utf-8", errors="replace")
    return answer.status_code, text[:API_BODY_LIMIT]


@never_cache
@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    """Your devices: this user's signed-in sessions in this app, this one first, then the
    others, the most recently seen first. The index and each listed record are read."""
    user = request.logto_user  # type: ignore[attr-defined]
    this = request.session
    others = session_index.other_sessions(user["sub"], this.session_key)
    others.sort(key=lambda session: session.stored_until, reverse=True)
    devices = [device(this, current=True), *(device(session) for session in others)]
    context = {"user": user, "devices": devices, "csrf_token": csrf_token(request)}
    return render(request, "{{ cookiecutter.project_slug }}/sessions.html", context)


def device(session: SessionBase, *, current: bool = False) -> dict[str, Any]:
    """What the devices page shows of a session: its handle, never its id."""
    # Last seen: when its expiry was last pushed back (to know more, every request would
    # have to write to the store).
    last_seen = session.stored_until - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    return {
        "summary": session.get(DEVICE_KEY) or device_summary(None),
        "signed_in": "at an unknown time" if signed_in_at is None else timestamp(signed_in_at),
        "last_seen": timestamp(last_seen.timestamp()),
        "current": current,
        "handle": session_handle(session.session_key),
    }


@never_cache
@require_POST
@login_required
def end_session(request: HttpRequest, handle: str) -> HttpResponse:
    """End one of the user's sessions, named by its handle (CsrfViewMiddleware has checked
    the form's token and Origin). A handle of no session of this user: 404, nothing ends."""
    user, this = request.logto_user, request.session  # type: ignore[attr-defined]
    if handle == session_handle(this.session_key):
        # This one: signed out here, as by the sign-out button (Logto's session stays).
        session_index.remove(this.session_key, this[CLAIMS_KEY])
        this.flush()
        return HttpResponseRedirect(reverse("index"), status=303)
    for session in session_index.other_sessions(user["sub"], this.session_key):
        if session_handle(session.session_key) == handle:
            session_index.end_session(session.session_key, session)
            return HttpResponseRedirect(reverse("sessions"), status=303)
    return error_page(request, 404, "Not found", NO_SUCH_SESSION)


@never_cache
@require_POST
@login_required
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    """End every session of the user but this one."""
    user, this = request.logto_user, request.session  # type: ignore[attr-defined]
    for session in session_index.other_sessions(user["sub"], this.session_key):
        session_index.end_session(session.session_key, session)
    return HttpResponseRedirect(reverse("sessions"), status=303)


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
    return HttpResponseRedirect(end_session_url, status=303)  # See Other: GET it


@csrf_exempt  # Logto's server posts here, not a browser, and it has no CSRF token.
@never_cache  # as Back-Channel Logout 1.0 asks of every answer
@require_POST
async def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """OpenID Connect Back-Channel Logout: Logto ends the sessions of a user (or of one of
    their Logto sessions) here when they sign out elsewhere or an admin ends their session."""
    if sign_in_not_set_up(request) is not None:
        return logout_refused(503, "temporarily_unavailable", "sign-in is not set up")
    if not (token := request.POST.get("logout_token", "")):
        return logout_refused(400, "invalid_request", "logout_token is missing")
    try:
        async with logto_deadline():
            core = await oidc_core(settings.LOGTO_ENDPOINT)
        # The JWKS client fetches Logto's keys synchronously (once a day, or for a new key).
        validate = sync_to_async(validate_logout_token, thread_sensitive=False)
        logout = await validate(token, core, settings.LOGTO_APP_ID)
    except LOGTO_DOWN:
        logger.warning("Logto's discovery document is out of reach", exc_info=True)
        return logout_refused(502, "temporarily_unavailable", "Logto is unreachable")
    except InvalidLogoutTokenError as error:
        logger.info("Logout token refused: %s", error)
        return logout_refused(400, "invalid_request", f"invalid logout token: {error}")
    ended = await session_index.aend_sessions(logout)
    logger.info("Back-channel logout ended %d session(s)", ended)
    return JsonResponse({"ended_sessions": ended})


def logout_refused(status: int, error: str, description: str) -> JsonResponse:
    """An answer for Logto (OpenID Connect Back-Channel Logout 1.0, section 2.8)."""
    return JsonResponse({"error": error, "error_description": description}, status=status)


def healthz(request: HttpRequest) -> JsonResponse:
    kind = settings.SESSION_STORE["KIND"]
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    try:
        store.ping()
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
    return error_page(request, 403, "Forbidden", FORM_REFUSED)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 404, "Not found", "There is no page at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500, "Something went wrong", "Please try again later.")
