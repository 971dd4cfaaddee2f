"""Token refreshes, one at a time per session; access tokens for API resources and
organizations.

Logto rotates refresh tokens: two requests of one session refreshing at once would both
send the same refresh token, and the second would fail. Within this process a lock per
session lines them up; the request that waited first reads the tokens the one before it
saved, and refreshes only if they are still stale.

The tokens the SDK gets for API resources and organizations are kept in the server-side
session (the SDK's `accessTokenMap`), like every other token: never in the cookie.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakValueDictionary

import jwt
from fastapi import Request
from logto import LogtoException, UserInfoResponse

from .claims import Claims, current_claims
from .deadlines import logto_deadline
from .logto_client import PROVIDER_ERRORS, AppLogtoClient, LogtoUnreachableError
from .resource_tokens import organization_resource, refusal_reason
from .session_middleware import app_session, deserialize
from .session_storage import KEY_PREFIX, SessionStorage

logger = logging.getLogger(__name__)

REFRESH_ERRORS = (LogtoException, LogtoUnreachableError, jwt.InvalidTokenError, *PROVIDER_ERRORS)

# A lock lives while a request holds or awaits it; then it goes.
_locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()


@asynccontextmanager
async def one_refresh_at_a_time(request: Request) -> AsyncIterator[None]:
    """Hold the session's refresh lock, with the tokens as last saved by anyone.

    Tokens changed while holding it are saved before it is released, rather than as the
    response starts, so that the next request in line reads them.
    """
    session = app_session(request)
    assert session.id is not None, "only a stored session refreshes"
    lock = _locks.setdefault(session.id, asyncio.Lock())
    async with lock:
        stored = await session.store.load(session.id)
        _replace_tokens(session.data, deserialize(stored.data) if stored else {})
        tokens_before = _tokens(session.data)
        yield
        if _tokens(session.data) != tokens_before:
            await session.save()


def _tokens(session: MutableMapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in session.items() if key.startswith(KEY_PREFIX)}


def _replace_tokens(session: MutableMapping[str, Any], stored: MutableMapping[str, Any]) -> None:
    for key in _tokens(session):
        del session[key]
    session.update(_tokens(stored))


async def refreshed_claims(request: Request, logto: AppLogtoClient) -> Claims | None:
    """The claims of a new ID token, got with the refresh token; None when that fails."""
    session = request.session
    async with one_refresh_at_a_time(request):
        if (claims := current_claims(session, logto)) is not None:
            return claims  # the request before this one has refreshed
        # The SDK refreshes only once its cached access token has expired; the ID token
        # has, so drop the cache to refresh both.
        SessionStorage(session).delete("accessTokenMap")
        try:
            async with logto_deadline():
                await logto.getAccessToken()
        except REFRESH_ERRORS as error:
            logger.info("Could not refresh the tokens: %r", error)
            return None
        return current_claims(session, logto)


async def fetch_userinfo(request: Request, logto: AppLogtoClient) -> UserInfoResponse | None:
    """Logto's userinfo, or None when Logto does not give it."""
    try:
        # Only an expired access token is refreshed, under the lock (which reads the session
        # from the store again). The SDK has no public call that reads its cached token
        # without refreshing it: `_getAccessToken` is the one private call the app makes,
        # and test_tokens.py checks that it still does what is relied on here.
        if logto._getAccessToken("") is None:
            async with one_refresh_at_a_time(request), logto_deadline():
                await logto.getAccessToken()
        async with logto_deadline():
            return await logto.fetchUserInfo()
    except REFRESH_ERRORS as error:
        logger.warning("Logto's userinfo endpoint did not answer: %r", error)
        return None


class TokenUnavailableError(Exception):
    """Logto gave no access token for a resource or an organization; `reason` says why."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"Logto gave no token for {target}: {reason}.")
        self.target = target  # the resource indicator, or `organization <id>`
        self.reason = reason  # Logto's error code (`invalid_target`), or why Logto gave none


@dataclass(frozen=True)
class ResourceTokens:
    """Fresh access tokens of the signed-in user, for route code to call APIs with.

    A cached token is served as it is; an expired one is refreshed with the refresh token,
    under the session's refresh lock, and the session is saved with the new tokens. A grant
    Logto refuses raises TokenUnavailableError and leaves the sign-in as it was.
    """

    request: Request
    logto: AppLogtoClient

    async def access_token(self, resource: str) -> str:
        """An access token for the API resource `resource` (its indicator)."""
        return await self._token(resource, resource)

    async def organization_token(self, organization_id: str) -> str:
        """An organization token, for an organization in the ID token's `organizations`."""
        resource = organization_resource(organization_id)
        return await self._token(resource, f"organization {organization_id}")

    async def _token(self, resource: str, target: str) -> str:
        # The SDK's cached token, read without refreshing it (see `fetch_userinfo`).
        if (token := self.logto._getAccessToken(resource)) is not None:
            return token
        try:
            async with one_refresh_at_a_time(self.request), logto_deadline():
                token = await self.logto.getAccessToken(resource)
        except LogtoException as error:
            logger.info("Logto refused a token for %s: %s", target, error)
            raise TokenUnavailableError(target, refusal_reason(error)) from error
        except (LogtoUnreachableError, jwt.InvalidTokenError, *PROVIDER_ERRORS) as error:
            logger.warning("No token for %s, Logto is unreachable: %r", target, error)
            raise TokenUnavailableError(target, "Logto is unreachable") from error
        if token is None:
            raise TokenUnavailableError(target, "the sign-in has no refresh token")
        return token
