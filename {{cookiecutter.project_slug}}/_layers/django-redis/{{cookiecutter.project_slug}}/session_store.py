"""Django's cache session engine on Redis, telling an outage from a missing session.

The stock engine reads a Redis error as "no such session", which would sign people out
while Redis is down and hand them a new, unsaved session. Here every store call turns
Redis' connection errors into SessionStoreUnavailable, which the app answers with a 503.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import SessionStoreUnavailable


def store_key(key: str, key_prefix: str, version: int) -> str:
    """Redis keys are SESSION_KEY_PREFIX + session id (the `sessions` cache's KEY_FUNCTION)."""
    return key_prefix + key


@contextmanager
def reaching_redis() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise SessionStoreUnavailable("Redis") from error


class SessionStore(CacheSessionStore):
    # The `sessions` cache adds SESSION_KEY_PREFIX; no second prefix here.
    cache_key_prefix = ""

    def load(self) -> dict[str, Any]:
        with reaching_redis():
            data = self._cache.get(self.cache_key)
        return self._loaded(data)

    async def aload(self) -> dict[str, Any]:
        with reaching_redis():
            data = await self._cache.aget(await self.acache_key())
        return self._loaded(data)

    def _loaded(self, data: dict[str, Any] | None) -> dict[str, Any]:
        if data is None:
            # Unknown or expired: never adopt the id the client sent.
            self._session_key = None
            return {}
        return data

    def exists(self, session_key: str | None) -> bool:
        with reaching_redis():
            return super().exists(session_key)

    async def aexists(self, session_key: str | None) -> bool:
        with reaching_redis():
            return await super().aexists(session_key)

    def create(self) -> None:
        with reaching_redis():
            super().create()

    async def acreate(self) -> None:
        with reaching_redis():
            await super().acreate()

    def save(self, must_create: bool = False) -> None:
        with reaching_redis():
            super().save(must_create)

    async def asave(self, must_create: bool = False) -> None:
        with reaching_redis():
            await super().asave(must_create)

    def delete(self, session_key: str | None = None) -> None:
        with reaching_redis():
            super().delete(session_key)

    async def adelete(self, session_key: str | None = None) -> None:
        with reaching_redis():
            await super().adelete(session_key)
