"""A Django session engine on Redis, through redis-py.

Each session is one hash under SESSION_KEY_PREFIX + session id: `data` (the session as
JSON) and `until` (the Unix time it ends), which Redis deletes at `until`. One HGETALL
reads a session and tells when its expiry was last pushed back; pushing it back sets
`until` and the key's expiry, leaving `data` alone. Writes are Lua scripts (one command
each) that never bring back a session deleted meanwhile, by a sign-out or a back-channel
logout. redis-py parses replies with hiredis (a C parser) when it is installed, as here.

Why not Django's cache engine on its RedisCache: that reads a Redis error as "no such
session" (signing everyone out while Redis is down), makes a client object per operation,
and cannot move an expiry without rewriting the session.
"""

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import SessionStoreUnavailable
from .session_engine import JsonSession

# KEYS[1]: the record; ARGV: "create" or "update", data, until. 1 if written, else 0.
WRITE = """
if (ARGV[1] == 'create') == (redis.call('EXISTS', KEYS[1]) == 1) then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'until', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(ARGV[3]) * 1000))
return 1
"""
# KEYS: records; ARGV[1]: until. Moves the expiry of those that still exist.
EXTEND = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'until', ARGV[1])
    redis.call('PEXPIREAT', key, math.floor(tonumber(ARGV[1]) * 1000))
  end
end
return 1
"""


@functools.cache
def redis_client(url: str, connect_timeout: float, answer_timeout: float) -> redis.Redis:
    """One client, and so one connection, per process; it reconnects by itself.

    The worker's threads share the connection, taking turns behind the client's lock: a
    command is over in well under a millisecond, and no pool checkout on every command.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=answer_timeout,
        single_connection_client=True,
    )


@functools.cache
def script(client: redis.Redis, source: str) -> Script:
    return client.register_script(source)


def sessions_redis() -> redis.Redis:
    store = settings.SESSION_STORE
    return redis_client(store["URL"], store["CONNECT_TIMEOUT"], store["ANSWER_TIMEOUT"])


def record_key(session_key: str) -> str:
    return settings.SESSION_STORE["KEY_PREFIX"] + session_key


@contextmanager
def reaching_redis() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise SessionStoreUnavailable("Redis") from error


class SessionStore(JsonSession):
    def load(self) -> dict[str, Any]:
        fields: dict[bytes, bytes] = {}
        if self.session_key is not None:
            with reaching_redis():
                fields = sessions_redis().hgetall(record_key(self.session_key))  # type: ignore[assignment]
        if not fields or float(fields[b"until"]) <= time.time():
            # Unknown or expired: never adopt the id the client sent.
            self._session_key = None
            self.stored_until = None
            return {}
        self.stored_until = datetime.fromtimestamp(float(fields[b"until"]), UTC)
        return self.decode(fields[b"data"])

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        with reaching_redis():
            return bool(sessions_redis().exists(record_key(session_key)))

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # The new key was taken meanwhile; draw another.
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        until = self.get_expiry_date()
        mode = "create" if must_create else "update"
        with reaching_redis():
            write = script(sessions_redis(), WRITE)
            written = write(
                keys=[record_key(self.session_key)], args=[mode, data, until.timestamp()]
            )
        if not written:
            # Taken meanwhile (create), or deleted meanwhile by a sign-out elsewhere (update).
            raise CreateError if must_create else UpdateError
        self._saved(until)
        return None

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        with reaching_redis():
            sessions_redis().delete(record_key(session_key))

    def extend_records(self, session_keys: list[str], until: datetime) -> None:
        keys = [record_key(session_key) for session_key in session_keys]
        with reaching_redis():
            script(sessions_redis(), EXTEND)(keys=keys, args=[until.timestamp()])

    @classmethod
    def clear_expired(cls) -> None:
        pass  # Redis deletes ended sessions itself.

    # redis-py blocks: run it in worker threads, not in the event loop.

    async def aload(self) -> dict[str, Any]:
        return await sync_to_async(self.load, thread_sensitive=False)()

    async def aexists(self, session_key: str | None) -> bool:
        return await sync_to_async(self.exists, thread_sensitive=False)(session_key)

    async def acreate(self) -> None:
        await sync_to_async(self.create, thread_sensitive=False)()

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save, thread_sensitive=False)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete, thread_sensitive=False)(session_key)
