"""Sessions kept in Redis, shared by every process of the app; Redis expires them.

starsessions' RedisStore does the work, on a client opened for the app's lifespan. A Redis
error becomes `SessionStoreUnavailableError`, which the app answers with a 503 page; the
client reconnects by itself once Redis is back.
"""

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starsessions import SessionStore
from starsessions.stores.redis import RedisStore

from .config import Settings
from .errors import SessionStoreUnavailableError

# Short, so that a visitor gets the 503 page at once when Redis is down or unreachable;
# a slow answer from a Redis that is up is given longer.
CONNECT_TIMEOUT_SECONDS = 1.0
ANSWER_TIMEOUT_SECONDS = 5.0

OUTSIDE_LIFESPAN = "the Redis session store is opened by the app's lifespan; it has not started"

T = TypeVar("T")


class RedisSessionStore(SessionStore):
    kind = "Redis"

    def __init__(self, url: str, key_prefix: str) -> None:
        self._url = url
        self._key_prefix = key_prefix
        self._redis: Redis | None = None
        self._sessions: RedisStore | None = None

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        redis = Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=ANSWER_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=1),  # one retry for a connection Redis dropped
        )
        self._redis, self._sessions = redis, RedisStore(connection=redis, prefix=self._key_prefix)
        try:
            yield
        finally:
            self._redis = self._sessions = None
            await redis.aclose()

    @property
    def sessions(self) -> RedisStore:
        if self._sessions is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        return self._sessions

    async def _answer(self, command: Awaitable[T]) -> T:
        try:
            return await command
        except RedisError as error:
            raise SessionStoreUnavailableError(self.kind) from error

    async def read(self, session_id: str, lifetime: int) -> bytes:
        return await self._answer(self.sessions.read(session_id, lifetime))

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        return await self._answer(self.sessions.write(session_id, data, lifetime, ttl))

    async def remove(self, session_id: str) -> None:
        await self._answer(self.sessions.remove(session_id))

    async def ping(self) -> None:
        if self._redis is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        await self._answer(self._redis.ping())


def create_session_store(settings: Settings) -> RedisSessionStore:
    return RedisSessionStore(settings.redis_url, key_prefix=settings.session_key_prefix)
