"""The Redis the tests use: REDIS_URL (default the local one), with a key prefix of this run."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from flask import Flask

from .servers import StoreProcess

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def running_store() -> Iterator[dict[str, object]]:
    """Settings for a key prefix no other run uses; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex}:session:"
    try:
        yield {"redis_url": REDIS_URL, "session_key_prefix": prefix}
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's store holds, without the key prefix."""
    interface = app.session_interface
    prefix: str = interface.key_prefix  # type: ignore[attr-defined]
    client: redis.Redis = interface.client  # type: ignore[attr-defined]
    ids = {key.decode().removeprefix(prefix) for key in client.scan_iter(match=f"{prefix}*")}
    # Session ids have no colon; the index keys and logout token ids have one.
    return {sid for sid in ids if ":" not in sid}


def own_store(port: int, data_dir: Path) -> tuple[StoreProcess, dict[str, object]]:
    """A Redis server on `port` whose data survives a restart; and settings that use it."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "yes", "--dir", str(data_dir)]
    return StoreProcess(command, port), {"redis_url": f"redis://127.0.0.1:{port}/0"}


def unreachable_store(port: int) -> dict[str, object]:
    return {"redis_url": f"redis://127.0.0.1:{port}/0"}
