"""The Redis session store, as the tests see it: the Redis at REDIS_URL, this run's keys only."""

import functools
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import override_settings

import config.sessions
from {{ cookiecutter.project_slug }}.session_store import TOUCH, UNTIL, script

from .servers import free_port, server_process
from .traffic import Traffic

KEY_PREFIX = f"test-{uuid.uuid4().hex}:session:"


def redis_url() -> str:
    return settings.SESSION_STORE["URL"]


@functools.cache
def redis_at(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def sessions_redis() -> redis.Redis:
    """A client of the Redis that the app keeps its sessions in now."""
    return redis_at(redis_url())


@pytest.fixture(scope="session", autouse=True)
def session_store() -> Iterator[None]:
    """Sessions go to the Redis at REDIS_URL under a key prefix of this test run."""
    store = config.sessions.store(lifetime=settings.SESSION_LIFETIME, key_prefix=KEY_PREFIX)
    with override_settings(SESSION_KEY_PREFIX=KEY_PREFIX, SESSION_STORE=store):
        yield
        if keys := sessions_redis().keys(KEY_PREFIX + "*"):
            sessions_redis().delete(*keys)


def stored_session_count() -> int:
    return len(sessions_redis().keys(KEY_PREFIX + "*"))


def use_redis(settings: Any, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point the app's session store at the Redis at `url`."""
    monkeypatch.setenv("REDIS_URL", url)
    settings.SESSION_STORE = config.sessions.store(lifetime=60, key_prefix=KEY_PREFIX)


def redis_server(port: int, directory: Path) -> AbstractContextManager[None]:
    """A Redis of our own on `port`, keeping its data in `directory` across restarts."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(directory)]
    return server_process(command, port)


def app_env() -> dict[str, str]:
    """The environment that points an app process at this run's sessions."""
    return {"REDIS_URL": redis_url(), "SESSION_KEY_PREFIX": KEY_PREFIX}


READS = {"GET", "EXISTS"}


@contextmanager
def store_traffic() -> Iterator[Traffic]:
    """Count the commands the app sends to Redis meanwhile (those that succeed)."""
    traffic = Traffic()
    touch = script(sessions_redis(), TOUCH).sha
    send = redis.Redis.execute_command

    def counted(client: redis.Redis, *args: Any, **options: Any) -> Any:
        result = send(client, *args, **options)
        command = str(args[0]).upper()
        if command in READS:
            traffic.reads += 1
        elif command == "EVALSHA" and args[1] == touch:
            traffic.touches += 1
        elif command != "SCRIPT LOAD":
            traffic.writes += 1
        return result

    redis.Redis.execute_command = counted  # type: ignore[method-assign]
    try:
        yield traffic
    finally:
        redis.Redis.execute_command = send  # type: ignore[method-assign]


def store_unreadable_session(session_key: str) -> None:
    """Store bytes that are no session under `session_key`, for an hour (a valid head)."""
    head = UNTIL.pack(time.time() + 3600)
    sessions_redis().set(KEY_PREFIX + session_key, head + b"\xff\xfe garbage", ex=3600)


@contextmanager
def store_down() -> Iterator[None]:
    """The app's Redis is out of reach until the block ends."""
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(SESSION_STORE={**settings.SESSION_STORE, "URL": unreachable}):
        yield
