"""Server-side sessions in Redis (Flask-Session's redis type).

Every session is one key, `SESSION_KEY_PREFIX` + its id, that Redis expires after
SESSION_LIFETIME without use. Redis's connection pool reconnects by itself, so the app
serves sessions again as soon as Redis is back.
"""

import redis
from flask import Flask
from flask_session import Session
from redis.backoff import NoBackoff
from redis.retry import Retry

from .settings import Settings

STORE_KIND = "redis"
# Errors that mean "the session store is down" (a 503 page, not a 500).
STORE_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# Fail fast when Redis is down: a quick 503 beats a page that hangs.
SOCKET_TIMEOUT_SECONDS = 1.0


def init_sessions(app: Flask, settings: Settings) -> None:
    client = redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=1),  # one quick retry, for a connection Redis dropped
    )
    app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
    Session(app)


def store_is_up(app: Flask) -> bool:
    client: redis.Redis = app.session_interface.client  # type: ignore[attr-defined]
    try:
        return bool(client.ping())
    except STORE_ERRORS:
        return False
