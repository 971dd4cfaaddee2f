"""Request dependencies: the settings, the session (loaded only when needed), the Logto client."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from logto import IdTokenClaims, LogtoConfig
from starsessions import (
    get_session_handler,
    get_session_id,
    load_session,
    regenerate_session_id,
)

from .config import Settings
from .errors import LogtoNotConfiguredError, SessionStoreUnavailableError
from .logto_client import AppLogtoClient, signed_in_claims
from .security import csrf_token
from .session_storage import SessionStorage
from .tokens import refreshed_claims

Session = dict[str, Any]


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def request_session(request: Request) -> Session:
    """The visitor's session, read from the store."""
    try:
        await load_session(request)
    except SessionStoreUnavailableError:
        # starsessions counts the session as loaded before the store answers; undo that, or
        # the middleware would try to save a session it never got as the 503 page goes out.
        get_session_handler(request).is_loaded = False
        raise
    if not request.session and get_session_id(request) is not None:
        # The cookie named a session the store does not know (expired, or made up by the
        # client): never adopt that id, or whoever chose it could share the session.
        regenerate_session_id(request)
    return request.session


async def session_if_cookie(request: Request) -> Session | None:
    """The session when the browser sent a session cookie; anonymous visits touch no store."""
    if get_session_id(request) is None:
        return None
    return await request_session(request)


SessionDep = Annotated[Session, Depends(request_session)]


def logto_client_for(settings: Settings, session: Session) -> AppLogtoClient:
    config = LogtoConfig(
        endpoint=settings.logto_endpoint,
        appId=settings.logto_app_id,
        appSecret=settings.logto_app_secret or None,
    )
    return AppLogtoClient(config, storage=SessionStorage(session))


def logto_client(settings: SettingsDep, session: SessionDep) -> AppLogtoClient:
    """A Logto client on this request's session; 503 page when Logto is not set up."""
    if missing := settings.missing_logto_settings():
        raise LogtoNotConfiguredError(missing)
    return logto_client_for(settings, session)


LogtoClientDep = Annotated[AppLogtoClient, Depends(logto_client)]


@dataclass(frozen=True)
class SignedInUser:
    claims: IdTokenClaims
    csrf_token: str
    logto: AppLogtoClient


async def signed_in_user(request: Request, settings: SettingsDep) -> SignedInUser | None:
    session = await session_if_cookie(request)
    if session is None:
        return None
    client = logto_client_for(settings, session)
    claims = signed_in_claims(client)
    if claims is None and client.getRefreshToken() is not None:
        claims = await refreshed_claims(request, client)
    if claims is None:
        return None
    return SignedInUser(claims, csrf_token(session, settings.session_secret), client)


SignedInUserDep = Annotated[SignedInUser | None, Depends(signed_in_user)]
