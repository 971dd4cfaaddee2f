"""The app's pages: home, sign-in with Logto, the signed-in profile, sign-out, health."""

import logging
from typing import Annotated

import jwt
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from logto import LogtoException
from starsessions import get_session_handler

from .deadlines import logto_deadline
from .dependencies import (
    LogtoClientDep,
    SessionDep,
    SettingsDep,
    SignedInUserDep,
    logto_client_for,
)
from .errors import SessionStoreUnavailableError
from .logto_client import PROVIDER_ERRORS, LogtoUnreachableError
from .security import is_valid_csrf_token, new_csrf_seed, safe_next_path
from .templating import templates
from .tokens import fetch_userinfo

logger = logging.getLogger(__name__)

router = APIRouter()

NEXT_PATH_KEY = "next_path"
SIGNED_IN_LANDING = "/profile"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: SignedInUserDep) -> HTMLResponse:
    context = {"user": user.claims, "csrf_token": user.csrf_token} if user else {"user": None}
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/sign-in")
async def sign_in(
    settings: SettingsDep,
    session: SessionDep,
    logto: LogtoClientDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> RedirectResponse:
    async with logto_deadline():
        authorization_url = await logto.signIn(redirectUri=f"{settings.base_url}/callback")
    if next_path is None:
        session.pop(NEXT_PATH_KEY, None)
    else:
        # Only back to a page of this app: anything else could send the visitor anywhere.
        session[NEXT_PATH_KEY] = safe_next_path(next_path) or "/"
    return RedirectResponse(authorization_url, status_code=303)


@router.get("/callback")
async def callback(
    request: Request, session: SessionDep, logto: LogtoClientDep
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
    await rotate_session_id(request)
    new_csrf_seed(session)
    return RedirectResponse(session.pop(NEXT_PATH_KEY, SIGNED_IN_LANDING), status_code=303)


async def rotate_session_id(request: Request) -> None:
    handler = get_session_handler(request)
    old_session_id = handler.session_id
    handler.regenerate_id()
    if old_session_id is not None:
        await handler.store.remove(old_session_id)


@router.get("/profile", response_class=HTMLResponse, response_model=None)
async def profile(request: Request, user: SignedInUserDep) -> HTMLResponse | RedirectResponse:
    if user is None:
        return RedirectResponse("/sign-in", status_code=303)
    userinfo = await fetch_userinfo(request, user.logto)
    context = {
        "user": user.claims,
        "csrf_token": user.csrf_token,
        "claims": user.claims.model_dump(exclude_none=True),
        "userinfo": userinfo and userinfo.model_dump(exclude_none=True),
    }
    return templates.TemplateResponse(request, "profile.html", context)


@router.post("/sign-out")
async def sign_out(
    settings: SettingsDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    if not is_valid_csrf_token(session, settings.session_secret, csrf_token):
        raise HTTPException(403, "The sign-out form has expired. Please try again.")
    try:
        logto = logto_client_for(settings, session)
        async with logto_deadline():
            end_session_url = await logto.signOut(postLogoutRedirectUri=f"{settings.base_url}/")
    except (LogtoException, LogtoUnreachableError) as error:
        logger.warning("Signed out here only; Logto's end-session URL is unknown: %s", error)
        end_session_url = "/"
    # An emptied session is deleted from the store and its cookie expired.
    session.clear()
    return RedirectResponse(end_session_url, status_code=303)


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    store = request.app.state.session_store
    try:
        await store.ping()
    except SessionStoreUnavailableError:
        return JSONResponse({"status": "unavailable", "session_store": f"{store.kind}: down"}, 503)
    return JSONResponse({"status": "ok", "session_store": f"{store.kind}: ok"})
