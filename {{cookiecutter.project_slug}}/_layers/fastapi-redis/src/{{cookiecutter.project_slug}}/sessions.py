"""Sessions kept in Redis, shared by every process of the app; Redis expires them.

A session is one string key, SESSION_KEY_PREFIX + its id, with a Redis expiry. Its value
starts with the session's own expiry (8 bytes, Unix time) so that a single GET tells whether
the expiry is due to be pushed back; pushing it back is an EXPIRE plus a SETRANGE of those
8 bytes, never a rewrite of the session. The back-channel logout index is kept in sets, and
used keys in keys of their own, under SESSION_KEY_PREFIX + `index:` and `used:`.

A Redis error becomes `SessionStoreUnavailableError`, which the app answers with a 503
page; the client reconnects by itself once Redis is back.
"""

import struct
import time
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .config import Settings
from .session_store import AppSessionStore, StoredSession, UnreadableSessionError

# Short, so that a visitor gets the 503 page at once when Redis is down or unreachable;
# a slow answer from a Redis that is up is given longer.
CONNECT_TIMEOUT_SECONDS = 1.0
ANSWER_TIMEOUT_SECONDS = 5.0

OUTSIDE_LIFESPAN = "the Redis session store is opened by the app's lifespan; it has not started"

EXPIRY = struct.Struct(">d")  # the value's header: the session's expiry, Unix time

T = TypeVar("T")


class RedisSessionStore(AppSessionStore):
    kind = "Redis"

    def __init__(self, url: str, key_prefix: str) -> None:
        self._url = url
        self._key_prefix = key_prefix
        self._redis: Redis | None = None

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        self._redis = Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=ANSWER_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=1),  # one retry for a connection Redis dropped
        )
        try:
            yield
        finally:
            redis, self._redis = self._redis, None
            await redis.aclose()

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        return self._redis

    async def _answer(self, command: Awaitable[T]) -> T:
        try:
            answer = await command
        except RedisError as error:
            raise self.unavailable() from error
        self.answered()
        return answer

    def _key(self, session_id: str) -> str:
        return self._key_prefix + session_id

    async def load(self, session_id: str) -> StoredSession | None:
        value = await self._answer(self.redis.get(self._key(session_id)))
        if value is None:
            return None
        if len(value) < EXPIRY.size:
            raise UnreadableSessionError(session_id)
        (expires_at,) = EXPIRY.unpack_from(value)
        return StoredSession(value[EXPIRY.size :], expires_in=expires_at - time.time())

    async def save(self, session_id: str, data: bytes, ttl: int, *, signed_in: bool) -> None:
        value = EXPIRY.pack(time.time() + ttl) + data
        await self._answer(self.redis.set(self._key(session_id), value, ex=ttl))

    async def touch(self, session_id: str, ttl: int) -> None:
        key, expires_at = self._key(session_id), time.time() + ttl
        # The header only once the key is known to be there: SETRANGE would create it.
        if await self._answer(self.redis.expire(key, ttl)):
            await self._answer(self.redis.setrange(key, 0, EXPIRY.pack(expires_at)))

    async def delete(self, session_id: str) -> None:
        await self._answer(self.redis.delete(self._key(session_id)))

    async def ping(self) -> None:
        await self._answer(self.redis.ping())

    def _index_key(self, key: str) -> str:
        return f"{self._key_prefix}index:{key}"

    async def link(self, session_id: str, keys: Iterable[str], ttl: int) -> None:
        async with self.redis.pipeline(transaction=False) as pipeline:
            for key in keys:
                pipeline.sadd(self._index_key(key), session_id)
                pipeline.expire(self._index_key(key), ttl)
            await self._answer(pipeline.execute())

    async def linked(self, key: str) -> set[str]:
        members = await self._answer(self.redis.smembers(self._index_key(key)))  # type: ignore[misc]
        return {member.decode() for member in members}

    async def linked_sessions(self, key: str) -> dict[str, StoredSession]:
        members = await self._answer(self.redis.smembers(self._index_key(key)))  # type: ignore[misc]
        session_ids = [member.decode() for member in members]
        if not session_ids:
            return {}
        keys = [self._key(session_id) for session_id in session_ids]
        values = await self._answer(self.redis.mget(keys))
        now, sessions = time.time(), {}
        for session_id, value in zip(session_ids, values, strict=True):
            if value is not None and len(value) >= EXPIRY.size:
                (expires_at,) = EXPIRY.unpack_from(value)
                sessions[session_id] = StoredSession(value[EXPIRY.size :], expires_at - now)
        return sessions

    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipeline:
            for key in keys:
                pipeline.srem(self._index_key(key), session_id)
            await self._answer(pipeline.execute())

    async def remember(self, key: str, until: float) -> bool:
        used_key = f"{self._key_prefix}used:{key}"
        remembered = self.redis.set(used_key, b"1", nx=True, pxat=int(until * 1000))
        return bool(await self._answer(remembered))


def create_session_store(settings: Settings) -> RedisSessionStore:
    return RedisSessionStore(settings.redis_url, key_prefix=settings.session_key_prefix)
