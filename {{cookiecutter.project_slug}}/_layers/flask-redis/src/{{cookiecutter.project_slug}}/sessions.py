"""Server-side sessions in Redis.

Every session is one string key, `SESSION_KEY_PREFIX` + its id, which Redis expires after
SESSION_LIFETIME without use. Its value is the session's expiry (8 bytes, Unix time)
followed by its data, so that one GET both loads the session and says when to push its
expiry back; pushing it back is a PEXPIREAT and a SETRANGE of those 8 bytes, never a
rewrite of the data. A signed-in session is indexed for back-channel logout and the
devices page: `<prefix>subject:<sub>` is a hash of the user's session ids (each to its
Logto session id), `<prefix>provider-session:<sid>` names the session of a Logto session;
both expire with the newest session they index. A logout token's id is a key until the
token expires.
The client reconnects by itself, so sessions work again once Redis is back.
"""

import functools
import struct
from typing import Any

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

from .backchannel_logout import LogoutToken
from .session_interface import Record, SignIn, StoreSessionInterface
from .settings import Settings

STORE_KIND = "Redis"
# Errors that mean "the session store is down" (a 503 page, not a 500).
STORE_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# Fail fast when Redis is down: a quick 503 beats a page that hangs.
SOCKET_TIMEOUT_SECONDS = 1.0
EXPIRY = struct.Struct(">d")  # the head of a session's value: its expiry, Unix time


def milliseconds(unix_time: float) -> int:
    return round(unix_time * 1000)


class RedisSessionInterface(StoreSessionInterface):
    store_errors = STORE_ERRORS

    def __init__(self, app: Flask, redis_url: str, key_prefix: str, lifetime: int) -> None:
        super().__init__(app, key_prefix=key_prefix, lifetime=lifetime)
        self.redis_url = redis_url

    @functools.cached_property
    def client(self) -> redis.Redis:
        """The client, made on first use: it connects at once, and an app whose Redis is
        down must still start (and answer 503 until Redis is back)."""
        return redis.Redis.from_url(
            self.redis_url,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=1),  # one quick retry, for a connection Redis dropped
            # A sync worker serves one request at a time: one connection, held by the
            # client (behind a lock, for threaded workers), saves the pool's checkout and
            # its poll of the socket on every read.
            single_connection_client=True,
        )

    def subject_key(self, subject: str) -> str:
        return f"{self.key_prefix}subject:{subject}"

    def provider_session_key(self, provider_session: str) -> str:
        return f"{self.key_prefix}provider-session:{provider_session}"

    def load(self, store_id: str) -> Record | None:
        value = self.client.get(store_id)
        if value is None or len(value) <= EXPIRY.size:
            return None  # none, or only the expiry of a session deleted while extended
        (expires_at,) = EXPIRY.unpack_from(value)
        return Record(self.serializer.decode(value[EXPIRY.size :]), expires_at)

    def save(
        self, store_id: str, data: dict[str, Any], expires_at: float, sign_in: SignIn | None
    ) -> None:
        value = EXPIRY.pack(expires_at) + self.serializer.encode(data)
        with self.client.pipeline() as pipeline:  # one round trip, all or nothing
            pipeline.set(store_id, value)
            if sign_in is not None and sign_in.subject is not None:
                session_of = sign_in.provider_session or ""
                pipeline.hset(self.subject_key(sign_in.subject), store_id, session_of)
            if sign_in is not None and sign_in.provider_session is not None:
                pipeline.set(self.provider_session_key(sign_in.provider_session), store_id)
            self.expire(pipeline, store_id, expires_at, sign_in)
            pipeline.execute()

    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        with self.client.pipeline() as pipeline:
            # Were the session deleted meanwhile, this leaves an expiring value that has
            # no data, which reads as no session.
            pipeline.setrange(store_id, 0, EXPIRY.pack(expires_at))
            self.expire(pipeline, store_id, expires_at, sign_in)
            pipeline.execute()

    def expire(
        self, pipeline: Any, store_id: str, expires_at: float, sign_in: SignIn | None
    ) -> None:
        """Expire the session and its index keys at `expires_at`.

        Every session expires a lifetime after its last use, so the session used last
        expires last: its expiry is right for the index keys that list it.
        """
        keys = [store_id]
        if sign_in is not None and sign_in.subject is not None:
            keys.append(self.subject_key(sign_in.subject))
        if sign_in is not None and sign_in.provider_session is not None:
            keys.append(self.provider_session_key(sign_in.provider_session))
        for key in keys:
            pipeline.pexpireat(key, milliseconds(expires_at))

    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        with self.client.pipeline() as pipeline:
            pipeline.delete(store_id)
            if sign_in is not None and sign_in.subject is not None:
                pipeline.hdel(self.subject_key(sign_in.subject), store_id)
            if sign_in is not None and sign_in.provider_session is not None:
                pipeline.delete(self.provider_session_key(sign_in.provider_session))
            pipeline.execute()

    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        if logout.sid is not None:
            store_id = self.client.get(self.provider_session_key(logout.sid))
            if store_id is None:
                return []
            return [(store_id.decode(), SignIn(logout.sub, logout.sid))]
        assert logout.sub is not None  # a valid logout token names one or the other
        sessions = self.client.hgetall(self.subject_key(logout.sub))
        return [
            (store_id.decode(), SignIn(logout.sub, provider_session.decode() or None))
            for store_id, provider_session in sessions.items()
        ]

    def subject_sessions(self, subject: str) -> list[tuple[str, bytes, float]]:
        store_ids = list(self.client.hkeys(self.subject_key(subject)))
        if not store_ids:
            return []
        sessions = []
        for store_id, value in zip(store_ids, self.client.mget(store_ids), strict=True):
            if value is None or len(value) <= EXPIRY.size:
                continue  # expired or deleted since it was indexed
            (expires_at,) = EXPIRY.unpack_from(value)
            sessions.append((store_id.decode(), value[EXPIRY.size :], expires_at))
        return sessions

    def remember(self, key: str, until: float) -> bool:
        return bool(self.client.set(key, 1, nx=True, pxat=milliseconds(until)))

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except STORE_ERRORS:
            return False


def init_sessions(app: Flask, settings: Settings) -> None:
    app.session_interface = RedisSessionInterface(
        app,
        settings.redis_url,
        key_prefix=settings.session_key_prefix,
        lifetime=settings.session_lifetime,
    )
