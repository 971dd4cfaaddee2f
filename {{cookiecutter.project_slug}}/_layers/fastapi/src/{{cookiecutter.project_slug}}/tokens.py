"""Token refreshes, one at a time per session.

Logto rotates refresh tokens: two requests of one session refreshing at once would both
send the same refresh token, and the second would fail. Within this process a lock per
session lines them up; the request that waited first reads the tokens the one before it
saved, and refreshes only if they are still stale.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakValueDictionary

import jwt
from fastapi import Request
from logto import IdTokenClaims, LogtoException, UserInfoResponse
from starsessions import get_session_handler

from .deadlines import logto_deadline
from .logto_client import PROVIDER_ERRORS, AppLogtoClient, LogtoUnreachableError, signed_in_claims
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
    handler = get_session_handler(request)
    assert handler.session_id is not None, "only a stored session has tokens to refresh"
    lock = _locks.setdefault(handler.session_id, asyncio.Lock())
    async with lock:
        stored = handler.serializer.deserialize(
            await handler.store.read(handler.session_id, handler.lifetime)
        )
        _replace_tokens(request.session, stored)
        tokens_before = _tokens(request.session)
        yield
        if _tokens(request.session) != tokens_before:
            await handler.save(remaining_time=handler.lifetime)


def _tokens(session: MutableMapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in session.items() if key.startswith(KEY_PREFIX)}


def _replace_tokens(session: MutableMapping[str, Any], stored: MutableMapping[str, Any]) -> None:
    for key in _tokens(session):
        del session[key]
    session.update(_tokens(stored))


async def refreshed_claims(request: Request, logto: AppLogtoClient) -> IdTokenClaims | None:
    """The claims of a new ID token, got with the refresh token; None when that fails."""
    async with one_refresh_at_a_time(request):
        if (claims := signed_in_claims(logto)) is not None:
            return claims  # the request before this one has refreshed
        # The SDK refreshes only once its cached access token has expired; the ID token
        # has, so drop the cache to refresh both.
        SessionStorage(request.session).delete("accessTokenMap")
        try:
            async with logto_deadline():
                await logto.getAccessToken()
        except REFRESH_ERRORS as error:
            logger.info("Could not refresh the tokens: %r", error)
            return None
        return signed_in_claims(logto)


async def fetch_userinfo(request: Request, logto: AppLogtoClient) -> UserInfoResponse | None:
    """Logto's userinfo, or None when Logto does not give it."""
    try:
        async with one_refresh_at_a_time(request), logto_deadline():
            await logto.getAccessToken()  # refreshes when the cached access token has expired
        async with logto_deadline():
            return await logto.fetchUserInfo()
    except REFRESH_ERRORS as error:
        logger.warning("Logto's userinfo endpoint did not answer: %r", error)
        return None
