"""The app's pages: home, sign-in with Logto, the signed-in profile, sign-out, health; and
the back-channel logout endpoint that Logto calls."""

import logging
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from logto import LogtoException
from starlette.concurrency import run_in_threadpool

from .backchannel_logout import InvalidLogoutTokenError, validate_logout_token
from .claims import current_claims
from .deadlines import logto_deadline
from .dependencies import (
    CurrentUser,
    LogtoClientDep,
    OptionalUser,
    SettingsDep,
    logto_client_for,
    same_site_form,
)
from .logout_index import end_sessions, index_session, unindex_session
from .logto_client import PROVIDER_ERRORS, LogtoUnreachableError, oidc_core
from .security import new_csrf_token, safe_next_path
from .session_middleware import app_session
from .session_store import SessionStoreUnavailableError
from .templating import templates
from .tokens import fetch_userinfo
from .user_sessions import remember_device

logger = logging.getLogger(__name__)

router = APIRouter()

NEXT_PATH_KEY = "next_path"
SIGNED_IN_LANDING = "profile"  # the route a sign-in ends on unless it asked for another page


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: OptionalUser) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"user": user})


@router.get("/sign-in")
async def sign_in(
    request: Request,
    settings: SettingsDep,
    logto: LogtoClientDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> RedirectResponse:
    async with logto_deadline():
        authorization_url = await logto.signIn(redirectUri=f"{settings.base_url}/callback")
    session = request.session
    if next_path is None:
        session.pop(NEXT_PATH_KEY, None)
    else:
        # Only back to a page of this app: anything else could send the visitor anywhere.
        session[NEXT_PATH_KEY] = safe_next_path(next_path) or "/"
    return RedirectResponse(authorization_url, status_code=302)


@router.get("/callback")
async def callback(
    request: Request, settings: SettingsDep, logto: LogtoClientDep
) -> RedirectResponse:
    if error := request.query_params.get("error"):
        # The visitor cancelled at Logto, or Logto refused: nothing to exchange.
        raise HTTPException(400, f"Logto did not sign you in ({error}). Please try again.")
    try:
        async with logto_deadline():
            await logto.handleSignInCallback(str(request.url))
    except LogtoException as error:
        # Wrong or missing state, no sign-in under way, a replayed code.
        logger.info("Sign-in callback refused: %s", error)
        raise HTTPException(
            400, "This sign-in could not be completed. Please sign in again."
        ) from None
    except (*PROVIDER_ERRORS, jwt.InvalidTokenError) as error:
        raise LogtoUnreachableError(f"token exchange failed: {error!r}") from error

    # A new session id once signed in: an id someone planted before sign-in is now worthless.
    session, stored_session = request.session, app_session(request)
    new_id = await stored_session.rotate_id()
    new_csrf_token(session)
    remember_device(session, request.headers.get("user-agent"))
    if (claims := current_claims(session, logto)) is not None:
        store, lifetime = stored_session.store, settings.session_lifetime
        await index_session(store, session, new_id, claims, lifetime)
    landing = session.pop(NEXT_PATH_KEY, None) or request.app.url_path_for(SIGNED_IN_LANDING)
    return RedirectResponse(landing, status_code=302)


@router.get("/profile", response_class=HTMLResponse)
async def profile(request: Request, user: CurrentUser) -> HTMLResponse:
    userinfo = await fetch_userinfo(request, user.logto)
    context = {
        "user": user,
        "claims": {name: value for name, value in user.claims.items() if value is not None},
        "userinfo": userinfo and userinfo.model_dump(exclude_none=True),
    }
    return templates.TemplateResponse(request, "profile.html", context)


@router.post("/sign-out", dependencies=[Depends(same_site_form)])
async def sign_out(request: Request, settings: SettingsDep) -> RedirectResponse:
    session = request.session
    try:
        logto = logto_client_for(settings, session)
        async with logto_deadline():
            end_session_url = await logto.signOut(postLogoutRedirectUri=f"{settings.base_url}/")
    except (LogtoException, LogtoUnreachableError) as error:
        logger.warning("Signed out here only; Logto's end-session URL is unknown: %s", error)
        end_session_url = "/"
    # An emptied session is deleted from the store and its cookie expired.
    stored_session = app_session(request)
    if stored_session.id is not None:
        await unindex_session(stored_session.store, session, stored_session.id)
    session.clear()
    return RedirectResponse(end_session_url, status_code=303)


@router.post("/backchannel-logout")
async def backchannel_logout(
    request: Request, settings: SettingsDep, logout_token: Annotated[str, Form()] = ""
) -> JSONResponse:
    """Logto says that a user signed out, or that their Logto session ended: end theirs here.

    No CSRF token: Logto posts this, not a browser; the signed logout token is the proof.
    """
    if settings.missing_logto_settings():
        return oauth_error(503, "temporarily_unavailable", "sign-in is not set up")
    if not logout_token:
        return oauth_error(400, "invalid_request", "logout_token is missing")
    try:
        async with logto_deadline():
            core = await oidc_core(settings.logto_endpoint)
            # The JWKS client fetches Logto's keys without async; not on the event loop.
            token = await run_in_threadpool(
                validate_logout_token, logout_token, core, settings.logto_app_id
            )
    except InvalidLogoutTokenError as error:
        logger.warning("Back-channel logout refused: %s", error)
        return oauth_error(400, "invalid_request", f"invalid logout token: {error}")
    except LogtoUnreachableError as error:
        logger.warning("Back-channel logout postponed, Logto unreachable: %s", error)
        return oauth_error(502, "temporarily_unavailable", "Logto is unreachable")
    ended = await end_sessions(request.app.state.session_store, token)
    logger.info("Back-channel logout ended %d session(s)", ended)
    return JSONResponse({"ended_sessions": ended})


def oauth_error(status_code: int, error: str, description: str) -> JSONResponse:
    """An error answer as OAuth 2.0 spells them, for Logto's logs."""
    return JSONResponse({"error": error, "error_description": description}, status_code)


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    store = request.app.state.session_store
    try:
        await store.ping()
    except SessionStoreUnavailableError:
        return JSONResponse({"status": "unavailable", "session_store": f"{store.kind}: down"}, 503)
    return JSONResponse({"status": "ok", "session_store": f"{store.kind}: ok"})
