"""Request dependencies: the settings, the session (loaded only when needed), the Logto client."""

from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from logto import LogtoConfig

from .claims import Claims, current_claims
from .config import Settings
from .errors import LogtoNotConfiguredError
from .logout_index import keep_indexed
from .logto_client import AppLogtoClient
from .security import csrf_token
from .session_middleware import Session, app_session
from .session_storage import SessionStorage
from .tokens import refreshed_claims

# Dependencies are `async def` even where they do not await: FastAPI runs a plain `def`
# in a worker thread, which costs a request more than the dependency itself.


async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def request_session(request: Request) -> Session:
    """The visitor's session, read from the store (a new, empty one if there is none)."""
    return await app_session(request).load()


SessionDep = Annotated[Session, Depends(request_session)]


@cache
def logto_config(endpoint: str, app_id: str, app_secret: str) -> LogtoConfig:
    """Made once, not per request: it is a pydantic model, validated as it is made."""
    return LogtoConfig(endpoint=endpoint, appId=app_id, appSecret=app_secret or None)


def logto_client_for(settings: Settings, session: Session) -> AppLogtoClient:
    config = logto_config(settings.logto_endpoint, settings.logto_app_id, settings.logto_app_secret)
    return AppLogtoClient(config, storage=SessionStorage(session))


async def logto_client(settings: SettingsDep, session: SessionDep) -> AppLogtoClient:
    """A Logto client on this request's session; 503 page when Logto is not set up."""
    if missing := settings.missing_logto_settings():
        raise LogtoNotConfiguredError(missing)
    return logto_client_for(settings, session)


LogtoClientDep = Annotated[AppLogtoClient, Depends(logto_client)]


@dataclass(frozen=True)
class SignedInUser:
    claims: Claims
    csrf_token: str  # for the sign-out form
    logto: AppLogtoClient


async def signed_in_user(request: Request) -> SignedInUser | None:
    """Who is signed in; None, without a look at the store, when no session cookie came."""
    stored_session = app_session(request)
    if stored_session.id is None:
        return None
    session = await stored_session.load()
    # Not a SettingsDep: FastAPI would solve that sub-dependency on every page view.
    settings: Settings = request.app.state.settings
    logto = logto_client_for(settings, session)
    claims = current_claims(session, logto)
    if claims is None and logto.getRefreshToken() is not None:
        claims = await refreshed_claims(request, logto)
    if claims is None:
        return None
    assert stored_session.id is not None, "a signed-in session is a stored one"
    await keep_indexed(stored_session.store, session, stored_session.id, settings.session_lifetime)
    return SignedInUser(claims, csrf_token(session), logto)


SignedInUserDep = Annotated[SignedInUser | None, Depends(signed_in_user)]
