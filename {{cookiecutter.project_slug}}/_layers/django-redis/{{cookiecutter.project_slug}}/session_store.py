"""A Django session engine on Redis, through redis-py.

Each session is one string under SESSION_KEY_PREFIX + session id: the Unix time it ends (8
bytes) followed by the session as JSON; Redis deletes it at that time. One GET reads a
session and tells when its expiry was last pushed back; pushing it back rewrites those 8
bytes and the key's expiry, leaving the data alone. No write brings back a session deleted
meanwhile (by a sign-out or a back-channel logout): a save is a SET only if the key exists
(or, for a new session, only if it does not). redis-py parses replies with hiredis (a C
parser) when it is installed, as here.

Why not Django's cache engine on its RedisCache: that reads a Redis error as "no such
session" (signing everyone out while Redis is down), makes a client object per operation,
and cannot move an expiry without rewriting the session.
"""

import functools
import logging
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from .errors import SessionStoreUnavailable, store_outage
from .session_engine import JsonSession

logger = logging.getLogger(__name__)

UNTIL = struct.Struct(">d")  # the head of a record: when it ends, in Unix time
# KEYS: records; ARGV[1]: the new head, ARGV[2]: the same time in milliseconds. Moves the
# expiry of those that still exist.
TOUCH = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('SETRANGE', key, 0, ARGV[1])
    redis.call('PEXPIREAT', key, ARGV[2])
  end
end
return 1
"""

_threads = threading.local()


def sessions_redis() -> redis.Redis:
    """This thread's client of the sessions' Redis, as Django keeps a database connection
    per thread; it reconnects by itself.

    One connection per thread: the worker's threads neither queue for a shared one nor
    check one out of a pool (and poll its socket) for every command. A connection that
    Redis dropped (a restart) fails the command sent on it: the command is sent once more,
    at once, on a new connection, so that each thread's idle connection costs no 503.
    Timeouts are not retried: a Redis that is slow to answer stays a quick 503.
    """
    store = settings.SESSION_STORE
    clients: dict[str, redis.Redis] = _threads.__dict__.setdefault("clients", {})
    if (client := clients.get(store["URL"])) is None:
        client = redis.Redis.from_url(
            store["URL"],
            socket_connect_timeout=store["CONNECT_TIMEOUT"],
            socket_timeout=store["ANSWER_TIMEOUT"],
            single_connection_client=True,  # connects now: callers are in reaching_redis()
            retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        )
        clients[store["URL"]] = client
    return client


@functools.cache
def script(client: redis.Redis, source: str) -> Script:
    return client.register_script(source)


def record_key(session_key: str) -> str:
    return settings.SESSION_STORE["KEY_PREFIX"] + session_key


def milliseconds(until: datetime) -> int:
    return round(until.timestamp() * 1000)


@contextmanager
def reaching_redis() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise SessionStoreUnavailable("Redis") from error
    store_outage.answered()


def record_end(record: bytes) -> datetime | None:
    """When a record ends (its head), or None when it has no head of this layout."""
    try:
        (until,) = UNTIL.unpack_from(record)
        return datetime.fromtimestamp(until, UTC)
    except (struct.error, ValueError, OverflowError, OSError):
        logger.warning("A stored session has no readable head: it reads as signed out")
        return None


class SessionStore(JsonSession):
    def load(self) -> dict[str, Any]:
        record = None
        if self.session_key is not None:
            with reaching_redis():
                record = sessions_redis().get(record_key(self.session_key))
        until = None if record is None else record_end(record)
        if until is None or until.timestamp() <= time.time():
            # Unknown, unreadable or expired: never adopt the id the client sent.
            self._session_key = None
            self.stored_until = None
            return {}
        self.stored_until = until
        return self.decode(record[UNTIL.size :])  # type: ignore[index]

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        with reaching_redis():
            return bool(sessions_redis().exists(record_key(session_key)))

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self.touch_pending:
            return self.touch()
        data = self.encode(self._get_session(no_load=must_create))
        until = self.get_expiry_date()
        record = UNTIL.pack(until.timestamp()) + data.encode()
        with reaching_redis():
            written = sessions_redis().set(
                record_key(self.session_key),
                record,
                pxat=milliseconds(until),
                nx=must_create,
                xx=not must_create,
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

    def touch_records(self, session_keys: list[str], until: datetime) -> None:
        keys = [record_key(session_key) for session_key in session_keys]
        args = [UNTIL.pack(until.timestamp()), milliseconds(until)]
        with reaching_redis():
            script(sessions_redis(), TOUCH)(keys=keys, args=args)

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
