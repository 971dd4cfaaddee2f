"""The "your devices" page: the signed-in user's sessions in this app, and ending them."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .dependencies import CurrentUser, SettingsDep, User, same_site_form
from .logout_index import end_session, unindex_session
from .session_middleware import app_session
from .templating import templates
from .user_sessions import UserSession, user_sessions

router = APIRouter()


async def sessions_of(request: Request, user: User, lifetime: int) -> list[UserSession]:
    stored_session = app_session(request)
    assert stored_session.id is not None, "a signed-in session is a stored one"
    return await user_sessions(
        stored_session.store, user.claims["sub"], stored_session.id, lifetime
    )


@router.get("/sessions", response_class=HTMLResponse)
async def sessions(request: Request, settings: SettingsDep, user: CurrentUser) -> HTMLResponse:
    your_sessions = await sessions_of(request, user, settings.session_lifetime)
    context = {"user": user, "sessions": your_sessions}
    return templates.TemplateResponse(request, "sessions.html", context)


@router.post("/sessions/end-others", dependencies=[Depends(same_site_form)])
async def end_other_sessions(
    request: Request, settings: SettingsDep, user: CurrentUser
) -> RedirectResponse:
    store = app_session(request).store
    for session in await sessions_of(request, user, settings.session_lifetime):
        if not session.current:
            await end_session(store, session.id, session.index_keys)
    return RedirectResponse(request.app.url_path_for("sessions"), status_code=303)


@router.post("/sessions/{handle}/end", dependencies=[Depends(same_site_form)])
async def end_one_session(
    request: Request, settings: SettingsDep, user: CurrentUser, handle: str
) -> RedirectResponse:
    """End one of the user's sessions; the handle of anyone else's names none of them (404)."""
    your_sessions = await sessions_of(request, user, settings.session_lifetime)
    session = next((session for session in your_sessions if session.handle == handle), None)
    if session is None:
        raise HTTPException(404, "You have no such session: it may have ended already.")
    stored_session = app_session(request)
    if session.current:
        # As a sign-out here: the emptied session is deleted and its cookie expired.
        await unindex_session(stored_session.store, request.session, session.id)
        request.session.clear()
        return RedirectResponse(request.app.url_path_for("home"), status_code=303)
    await end_session(stored_session.store, session.id, session.index_keys)
    return RedirectResponse(request.app.url_path_for("sessions"), status_code=303)
