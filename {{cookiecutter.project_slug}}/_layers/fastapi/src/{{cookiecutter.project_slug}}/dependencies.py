"""Request dependencies: the settings, the Logto client, who is signed in, their access
tokens, and the check of the forms that change a signed-in session."""

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from logto import LogtoConfig
from logto.models.oidc import UserInfoScope

from .claims import Claims, current_claims, display_name
from .config import Settings
from .errors import LogtoNotConfiguredError, SignInRequiredError
from .logout_index import keep_indexed
from .logto_client import AppLogtoClient
from .security import csrf_token, is_same_origin, is_valid_csrf_token
from .session_middleware import app_session
from .session_storage import SessionStorage
from .tokens import ResourceTokens, refreshed_claims

# Dependencies are `async def` even where they do not await: FastAPI runs a plain `def`
# in a worker thread, which costs a request more than the dependency itself.


async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


@cache
def logto_config(
    endpoint: str,
    app_id: str,
    app_secret: str,
    scopes: tuple[str | UserInfoScope, ...] = (),
    resources: tuple[str, ...] = (),
) -> LogtoConfig:
    """Made once, not per request: it is a pydantic model, validated as it is made."""
    return LogtoConfig(
        endpoint=endpoint,
        appId=app_id,
        appSecret=app_secret,
        scopes=list(scopes),
        resources=list(resources),
    )


def logto_client_for(settings: Settings, session: dict[str, Any]) -> AppLogtoClient:
    config = logto_config(
        settings.logto_endpoint,
        settings.logto_app_id,
        settings.logto_app_secret,
        tuple(settings.sign_in_scopes),
        tuple(settings.logto_resources),
    )
    return AppLogtoClient(config, storage=SessionStorage(session))


async def logto_client(request: Request, settings: SettingsDep) -> AppLogtoClient:
    """A Logto client on this request's session; 503 page when Logto is not set up."""
    if missing := settings.missing_logto_settings():
        raise LogtoNotConfiguredError(missing)
    return logto_client_for(settings, request.session)


LogtoClientDep = Annotated[AppLogtoClient, Depends(logto_client)]


@dataclass(frozen=True)
class User:
    claims: Claims
    csrf_token: str  # for the sign-out form
    logto: AppLogtoClient

    @property
    def name(self) -> str:
        return display_name(self.claims)


async def optional_user(request: Request, settings: SettingsDep) -> User | None:
    """Who is signed in, or None (without a look at the store when no session cookie came)."""
    session = request.session
    if not session:
        return None
    logto = logto_client_for(settings, session)
    claims = current_claims(session, logto)
    if claims is None and logto.getRefreshToken() is not None:
        claims = await refreshed_claims(request, logto)
    if claims is None:
        return None
    stored_session = app_session(request)
    assert stored_session.id is not None, "a signed-in session is a stored one"
    await keep_indexed(stored_session.store, session, stored_session.id, settings.session_lifetime)
    return User(claims, csrf_token(session), logto)


OptionalUser = Annotated[User | None, Depends(optional_user)]


async def current_user(settings: SettingsDep, user: OptionalUser) -> User:
    """The signed-in user; anyone else is sent to sign in first."""
    if missing := settings.missing_logto_settings():
        raise LogtoNotConfiguredError(missing)
    if user is None:
        raise SignInRequiredError
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def resource_tokens(request: Request, user: CurrentUser) -> ResourceTokens:
    """The signed-in user's access tokens for API resources and organizations."""
    return ResourceTokens(request, user.logto)


Tokens = Annotated[ResourceTokens, Depends(resource_tokens)]

FORM_REFUSED = (
    "This form expired or did not come from this app. Please reload the page and try again."
)


async def same_site_form(
    request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form()] = ""
) -> None:
    """Refuse (403) a form of the session's pages (sign-out, ending sessions) posted from
    another site (or a sandboxed page, `Origin: null`), or without the session's CSRF token."""
    origin = request.headers.get("origin")
    if not is_same_origin(origin, settings.origin) or not is_valid_csrf_token(
        request.session, csrf_token
    ):
        raise HTTPException(403, FORM_REFUSED)
