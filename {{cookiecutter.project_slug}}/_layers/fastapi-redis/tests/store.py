"""The Redis backend's side of the tests: the Redis at REDIS_URL, keys under a prefix per run."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from redis import Redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def running_store() -> Iterator[dict[str, Any]]:
    prefix = f"test-{uuid.uuid4().hex}:session:"
    yield {"redis_url": REDIS_URL, "session_key_prefix": prefix}
    with Redis.from_url(REDIS_URL) as redis:
        for key in redis.scan_iter(match=f"{prefix}*"):
            redis.delete(key)


def stored_session_ids(app: FastAPI) -> set[str]:
    settings = app.state.settings
    prefix = settings.session_key_prefix
    with Redis.from_url(settings.redis_url, decode_responses=True) as redis:
        keys = {key.removeprefix(prefix) for key in redis.scan_iter(match=f"{prefix}*")}
    # Sessions are ids; the back-channel logout index and used keys are `index:…`, `used:…`.
    return {key for key in keys if ":" not in key}
